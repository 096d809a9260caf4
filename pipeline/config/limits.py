"""Per-event bounds (`LOGTRACE_LIMIT_*`) the worker hands to every parser, enforced before Elasticsearch.

Defaults live in one place, `parsers.limits.Limits`; this model only makes them configurable and refuses
values that would let one event hurt the cluster (a keyword term past Lucene's 32 KiB, unbounded depth).
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from parsers.limits import DEFAULT_LIMITS, Limits

_MIB = 1024 * 1024


class LimitSettings(BaseSettings):
    """What one record or event may hold; see `parsers.limits.Limits` for what happens past each bound."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_LIMIT_", extra="forbid")

    # Bytes of one raw record (after Kafka decompression); larger ones are truncated and flagged.
    max_record_bytes: int = Field(default=DEFAULT_LIMITS.max_record_bytes, ge=1024, le=64 * _MIB)
    # Nesting depth of JSON objects/arrays; deeper input is dead-lettered (`json_too_deep`).
    max_json_depth: int = Field(default=DEFAULT_LIMITS.max_json_depth, ge=1, le=512)
    # Fields kept under `attributes` per event; the rest are dropped and counted.
    max_attributes: int = Field(default=DEFAULT_LIMITS.max_attributes, ge=1, le=10_000)
    # Characters kept of one attribute value. At most 8192: 4 UTF-8 bytes each stays near Lucene's
    # 32,766-byte term limit, past which a keyword value fails the whole document.
    max_value_chars: int = Field(default=DEFAULT_LIMITS.max_value_chars, ge=16, le=8192)
    # Characters kept of `message` and `error.stack_trace`.
    max_message_chars: int = Field(default=DEFAULT_LIMITS.max_message_chars, ge=256, le=16 * _MIB)
    # Bytes of one OTLP request; a request cannot be truncated, so a larger one is dead-lettered.
    max_request_bytes: int = Field(default=DEFAULT_LIMITS.max_request_bytes, ge=1024, le=256 * _MIB)

    def limits(self) -> Limits:
        """The parsers' Limits for these settings."""
        return Limits(**self.model_dump())
