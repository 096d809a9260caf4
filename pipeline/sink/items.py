"""The values that cross the boundary between the stream worker and the sink."""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Source:
    """Where a document came from in Kafka."""

    topic: str
    partition: int
    offset: int
    # Position of the document within its record (an OTLP request holds many).
    index: int = 0
    timestamp_ms: int | None = None


@dataclass(slots=True)
class Pending:
    """One document on its way to Elasticsearch."""

    # Flat dotted-key ECS document, enriched and redacted.
    doc: dict[str, Any]
    # Full, already-validated name from pipeline.sink.routing.
    data_stream: str
    # From pipeline.sink.doc_ids.
    doc_id: str
    source: Source | None
    # The (redacted) source record, used if this document must be dead-lettered.
    raw: bytes | None
    # The unredacted record, only for the access-restricted raw dead-letter topic when that is enabled.
    original: bytes | None = None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record or document that cannot be indexed, with a specific reason."""

    # snake_case and specific (e.g. "otlp_proto_decode", "mapper_parsing_exception").
    reason: str
    error_type: str
    detail: str
    # The record as received after redaction.
    raw: bytes
    source: Source | None
    doc_id: str | None
    # The unredacted record, only for the access-restricted raw dead-letter topic when that is enabled.
    original: bytes | None = None
    # For a document Elasticsearch refused: its JSON and target stream, so a replay can re-send it as is.
    document: bytes | None = None
    data_stream: str | None = None


@dataclass(slots=True)
class Delivery:
    """Accounting of one deliver() call: consumed = indexed + duplicates + dead_lettered."""

    indexed: int = 0
    # Already in Elasticsearch (409 on create): counted as indexed by a replay.
    duplicates: int = 0
    dead_lettered: int = 0
    # Item retries (one document sent again counts once per resend).
    retried: int = 0
    # Documents newly indexed per data stream.
    by_stream: dict[str, int] = field(default_factory=dict)
