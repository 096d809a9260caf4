"""Kafka record -> documents and dead letters, with their Kafka coordinates and deterministic ids. Pure.

The agents hand each consumed record here as a `Record` (plain values, no faust types) and get back a
`Decoded`: the documents (`Item`, still to be enriched and routed) and the dead letters (records the
parsers refused). Document ids depend only on what the record is, never on when it is read, so a replay
of the same record produces the same ids and the sink recognizes it:

- raw logs and OTLP logs: `record_doc_id(topic, partition, offset, index)`;
- spans: `span_id_doc(trace_id, span_id)` (the same span exported twice is one document).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from parsers.context import ParseContext
from parsers.limits import DEFAULT_LIMITS, Limits
from parsers.result import Doc, Outcome, ParseError
from pipeline.sink.doc_ids import record_doc_id, span_id_doc
from pipeline.sink.items import DeadLetter, Source

Kind = Literal["logs", "traces"]
NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed Kafka record, as plain values."""

    topic: str
    partition: int
    offset: int
    # Record timestamp (CreateTime or LogAppendTime) in epoch ms; None when the broker gave none.
    timestamp_ms: int | None
    key: bytes | None
    value: bytes | None

    def source(self, index: int = 0) -> Source:
        """The Source coordinates of the `index`-th document of this record."""
        return Source(self.topic, self.partition, self.offset, index, self.timestamp_ms)


@dataclass(slots=True)
class Item:
    """A parsed document on its way through enrichment to the sink."""

    doc: Doc
    kind: Kind
    # Data stream parts (the sink's routing sanitizes them); rules may change them.
    dataset: str
    namespace: str
    doc_id: str
    source: Source
    # The record bytes, kept for a dead letter if Elasticsearch refuses the document.
    raw: bytes
    # service.name to set when neither the event nor its trace's root span names one (topic setting).
    default_service: str | None = None


@dataclass(slots=True)
class Decoded:
    """What one or more records turned into."""

    items: list[Item] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    # Documents per parsed format (`logtrace.format`), for the records-parsed metric.
    formats: dict[str, int] = field(default_factory=dict)

    def extend(self, other: "Decoded") -> None:
        """Append another record's outcome."""
        self.items.extend(other.items)
        self.dead.extend(other.dead)
        for name, count in other.formats.items():
            self.formats[name] = self.formats.get(name, 0) + count


@dataclass(frozen=True, slots=True)
class RawSpec:
    """How the records of one raw-log topic are parsed and routed (from its RawTopic settings)."""

    format: str
    dataset: str
    namespace: str
    service: str | None
    tz: tzinfo


@cache
def zone(name: str) -> tzinfo:
    """A cached ZoneInfo (one per configured topic)."""
    return ZoneInfo(name)


def received_ns(record: Record, now_ns: int) -> int:
    """The receive time a parser may fall back to: the record timestamp, else the read time."""
    if record.timestamp_ms is not None and record.timestamp_ms > 0:
        return record.timestamp_ms * NS_PER_MS
    return now_ns


def _raw_parser(fmt: str) -> Callable[[bytes, ParseContext], Outcome]:
    # Imported late: the parser package loads its format table once, on first use.
    from parsers.raw import RAW_FORMATS

    return RAW_FORMATS[fmt]


def _empty_record(record: Record) -> DeadLetter:
    return DeadLetter(
        reason="empty_record",
        error_type="parse_error",
        detail="the record has no value (a tombstone or an empty message)",
        raw=b"",
        source=record.source(),
        doc_id=record_doc_id(record.topic, record.partition, record.offset, 0),
    )


def _dead(record: Record, index: int, error: ParseError, raw: bytes) -> DeadLetter:
    return DeadLetter(
        reason=error.reason,
        error_type="parse_error",
        detail=error.detail,
        raw=raw,
        source=record.source(index),
        doc_id=record_doc_id(record.topic, record.partition, record.offset, index),
    )


def _count_format(decoded: Decoded, doc: Doc, fallback: str) -> None:
    name = doc.get("logtrace.format") or fallback
    decoded.formats[name] = decoded.formats.get(name, 0) + 1


def decode_raw(record: Record, spec: RawSpec, *, now_ns: int, limits: Limits = DEFAULT_LIMITS) -> Decoded:
    """Parse one raw-log record with its topic's format; every outcome becomes an item or a dead letter."""
    decoded = Decoded()
    raw = record.value
    if not raw:
        decoded.dead.append(_empty_record(record))
        return decoded
    ctx = ParseContext(received_ns=received_ns(record, now_ns), limits=limits, default_tz=spec.tz)
    outcome = _raw_parser(spec.format)(raw, ctx)
    return _log_items(decoded, record, outcome, raw, spec.format, spec.dataset, spec.namespace, spec.service)


def _log_items(
    decoded: Decoded,
    record: Record,
    outcome: Outcome,
    raw: bytes,
    fallback_format: str,
    dataset: str,
    namespace: str,
    service: str | None = None,
) -> Decoded:
    """Log documents (id = record coordinates + index) and dead letters of one record's parse outcome."""
    for index, result in enumerate(outcome):
        if isinstance(result, ParseError):
            decoded.dead.append(_dead(record, index, result, raw))
            continue
        _count_format(decoded, result, fallback_format)
        decoded.items.append(
            Item(
                doc=result,
                kind="logs",
                dataset=dataset,
                namespace=namespace,
                doc_id=record_doc_id(record.topic, record.partition, record.offset, index),
                source=record.source(index),
                raw=raw,
                default_service=service,
            )
        )
    return decoded


def _otlp(kind: str) -> Callable[..., Outcome]:
    from parsers import otlp

    return otlp.parse_traces if kind == "traces" else otlp.parse_logs


def decode_otlp_spans(
    record: Record, *, encoding: str, namespace: str, now_ns: int, limits: Limits = DEFAULT_LIMITS
) -> Decoded:
    """One OTLP trace export request -> span documents (id = trace id + span id) and dead letters."""
    decoded = Decoded()
    raw = record.value
    if not raw:
        decoded.dead.append(_empty_record(record))
        return decoded
    ctx = ParseContext(received_ns=received_ns(record, now_ns), limits=limits)
    for index, result in enumerate(_otlp("traces")(raw, ctx, encoding=encoding)):
        if isinstance(result, ParseError):
            decoded.dead.append(_dead(record, index, result, raw))
            continue
        trace_id, span_id = result.get("trace.id"), result.get("span.id")
        if not trace_id or not span_id:
            decoded.dead.append(
                _dead(
                    record, index, ParseError("span_without_ids", "span has no valid trace or span id"), raw
                )
            )
            continue
        _count_format(decoded, result, encoding)
        decoded.items.append(
            Item(
                doc=result,
                kind="traces",
                dataset="span",
                namespace=namespace,
                doc_id=span_id_doc(trace_id, span_id),
                source=record.source(index),
                raw=raw,
            )
        )
    return decoded


def decode_otlp_logs(
    record: Record,
    *,
    encoding: str,
    dataset: str,
    namespace: str,
    now_ns: int,
    limits: Limits = DEFAULT_LIMITS,
) -> Decoded:
    """One OTLP logs export request -> log documents (id = record coordinates + index) and dead letters."""
    decoded = Decoded()
    raw = record.value
    if not raw:
        decoded.dead.append(_empty_record(record))
        return decoded
    ctx = ParseContext(received_ns=received_ns(record, now_ns), limits=limits)
    outcome = _otlp("logs")(raw, ctx, encoding=encoding)
    return _log_items(decoded, record, outcome, raw, encoding, dataset, namespace)


def problems_of(items: list[Item]) -> dict[str, int]:
    """Parse problems (`logtrace.parse.problems`) per reason over `items`, for the metrics."""
    counts: dict[str, int] = {}
    for item in items:
        problems: Any = item.doc.get("logtrace.parse.problems")
        if problems:
            for reason in problems:
                counts[reason] = counts.get(reason, 0) + 1
    return counts
