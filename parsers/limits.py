"""Bounds applied to every event before it can reach Elasticsearch (hostile input must not explode it)."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-event limits; every parser takes one (defaults suit production)."""

    # Bytes of one record; larger records are truncated to this and flagged `record_truncated`.
    max_record_bytes: int = 1024 * 1024
    # Nesting depth of JSON objects/arrays; deeper input is an error result (`json_too_deep`).
    max_json_depth: int = 32
    # Leaf fields kept under `attributes`; the rest are dropped and counted in `logtrace.attributes_dropped`.
    max_attributes: int = 256
    # Characters kept of one attribute value (keyword values past ~32k bytes fail in Lucene).
    max_value_chars: int = 8192
    # Characters kept of `message` / `error.stack_trace`.
    max_message_chars: int = 256 * 1024
    # Bytes of one OTLP request; a request cannot be truncated, so a larger one is an error result
    # (`otlp_too_large`). The collector's Kafka exporter caps messages at 1 MB unless raised.
    max_request_bytes: int = 16 * 1024 * 1024


DEFAULT_LIMITS = Limits()
