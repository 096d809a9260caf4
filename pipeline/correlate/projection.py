"""Compact projections of span and trace-carrying log documents, re-keyed by trace id to one worker.

The worker sends the projections of a batch through the internal topic (the full document goes to the
sink directly), one message per destination partition: `encode_refs` of the (trace id, ref) pairs,
read back with `decode_refs`. A single ref's `to_bytes()` (a message keyed by its trace id, the format
before batching) is still read with `decode_ref`. The refs leave the trace id out: they are also what a
trace's state stores per span.
The field readers here are shared with the metrics: they never raise on a hostile document.
"""

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from parsers.result import Doc
from parsers.timefmt import iso_to_ns

# Characters kept of a name or label read from a document (span names, services, routes).
MAX_TEXT_CHARS = 256
ERROR_LEVELS = frozenset({"error", "fatal"})
_SPAN_TAG = "s"
_LOG_TAG = "l"


def text(doc: Doc, name: str) -> str | None:
    """Field `name` when it is a non-empty string, cut to `MAX_TEXT_CHARS`; None otherwise."""
    value = doc.get(name)
    return value[:MAX_TEXT_CHARS] if isinstance(value, str) and value else None


def integer(doc: Doc, name: str) -> int | None:
    """Field `name` when it is an int (not a bool); None otherwise."""
    value = doc.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def time_ns(doc: Doc, name: str) -> int | None:
    """Epoch ns of the ISO timestamp in field `name`; None when absent or malformed."""
    value = doc.get(name)
    return iso_to_ns(value) if isinstance(value, str) else None


def is_span(doc: Doc) -> bool:
    """True for a span document (only the OTLP span mapping writes `span.name`); else it is a log."""
    return "span.name" in doc


def is_error_span(doc: Doc) -> bool:
    """A span counts as an error when its outcome is failure or its OTLP status is error."""
    return doc.get("event.outcome") == "failure" or doc.get("span.status.code") == "error"


class SpanRef(NamedTuple):
    """What a trace summary needs of one span; times in epoch ns."""

    span_id: str
    parent_id: str | None
    name: str
    service: str | None
    start_ns: int
    end_ns: int
    error: bool

    def to_bytes(self) -> bytes:
        """The internal-topic value: a tagged JSON array."""
        return orjson.dumps([_SPAN_TAG, *self])


class LogRef(NamedTuple):
    """What a trace summary needs of one log: its normalized level."""

    level: str | None

    @property
    def error(self) -> bool:
        """True for error and fatal logs."""
        return self.level in ERROR_LEVELS

    def to_bytes(self) -> bytes:
        """The internal-topic value: a tagged JSON array."""
        return orjson.dumps([_LOG_TAG, *self])


Ref = SpanRef | LogRef
_KINDS: dict[str, type[SpanRef] | type[LogRef]] = {_SPAN_TAG: SpanRef, _LOG_TAG: LogRef}


class Projected(NamedTuple):
    """A ref and the trace id it is keyed by."""

    trace_id: str
    ref: Ref


def span_projection(doc: Doc) -> Projected | None:
    """The projection of a span document; None without trace id, span id or a start time.

    Start is `event.start` (else `@timestamp`); end is `event.end` (else start + `event.duration`),
    never before start.
    """
    trace_id, span_id = text(doc, "trace.id"), text(doc, "span.id")
    start = time_ns(doc, "event.start")
    if start is None:
        start = time_ns(doc, "@timestamp")
    if trace_id is None or span_id is None or start is None:
        return None
    end = time_ns(doc, "event.end")
    if end is None:
        end = start + (integer(doc, "event.duration") or 0)
    ref = SpanRef(
        span_id=span_id,
        parent_id=text(doc, "parent.id"),
        name=text(doc, "span.name") or "",
        service=text(doc, "service.name"),
        start_ns=start,
        end_ns=max(start, end),
        error=is_error_span(doc),
    )
    return Projected(trace_id, ref)


def log_projection(doc: Doc) -> Projected | None:
    """The projection of a log document; None when it carries no trace id."""
    trace_id = text(doc, "trace.id")
    return None if trace_id is None else Projected(trace_id, LogRef(text(doc, "log.level")))


def project(doc: Doc) -> Projected | None:
    """The projection of any document, span or log; None when it does not belong to a trace."""
    return span_projection(doc) if is_span(doc) else log_projection(doc)


def decode_ref(data: bytes) -> Ref:
    """A ref from its `to_bytes()` form; ValueError when the bytes are not one."""
    row: Any = orjson.loads(data)
    if not isinstance(row, list) or not row:
        raise ValueError("projection is not a tagged JSON array")
    tag, fields = row[0], row[1:]
    kind = _KINDS.get(tag) if isinstance(tag, str) else None
    if kind is None or len(fields) != len(kind._fields):
        raise ValueError(f"unknown projection shape: tag {tag!r} with {len(fields)} fields")
    return kind(*fields)


def _row(trace_id: str, ref: Ref) -> list[Any]:
    return [trace_id, _SPAN_TAG if isinstance(ref, SpanRef) else _LOG_TAG, *ref]


def encode_refs(pairs: Iterable[tuple[str, Ref]]) -> bytes:
    """Many projections in one internal-topic value: a JSON array of `[trace_id, tag, *fields]` rows."""
    return orjson.dumps([_row(trace_id, ref) for trace_id, ref in pairs])


def decode_refs(data: bytes) -> list[tuple[str, Ref]]:
    """The (trace id, ref) pairs of an `encode_refs()` value; ValueError when the bytes are not one."""
    rows: Any = orjson.loads(data)
    if not isinstance(rows, list):
        raise ValueError("projection batch is not a JSON array")
    out: list[tuple[str, Ref]] = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 2 or not isinstance(row[0], str):
            raise ValueError("projection batch row is not [trace_id, tag, ...]")
        tag, fields = row[1], row[2:]
        kind = _KINDS.get(tag) if isinstance(tag, str) else None
        if kind is None or len(fields) != len(kind._fields):
            raise ValueError(f"unknown projection shape: tag {tag!r} with {len(fields)} fields")
        out.append((row[0], kind(*fields)))
    return out
