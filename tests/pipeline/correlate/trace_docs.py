"""Builders of span and log documents as the OTLP mapping and the log parsers write them."""

from parsers.result import Doc
from parsers.timefmt import ns_to_iso

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
# A whole second, so offsets in ns read directly in the expectations.
T0 = 1_767_225_600 * 1_000_000_000


def span_doc(
    span_id: str,
    parent: str | None,
    start: int,
    end: int,
    service: str,
    *,
    error: bool = False,
    name: str | None = None,
    trace_id: str = TRACE,
) -> Doc:
    """A span of `trace_id` from T0+start to T0+end (ns offsets)."""
    doc: Doc = {
        "@timestamp": ns_to_iso(T0 + start),
        "trace.id": trace_id,
        "span.id": span_id,
        "span.name": name or f"op-{span_id}",
        "span.kind": "server",
        "service.name": service,
        "event.start": ns_to_iso(T0 + start),
        "event.end": ns_to_iso(T0 + end),
        "event.duration": end - start,
        "event.outcome": "failure" if error else "success",
        "span.status.code": "error" if error else "unset",
    }
    if parent is not None:
        doc["parent.id"] = parent
    return doc


def log_doc(level: str, *, trace_id: str | None = TRACE, service: str | None = None) -> Doc:
    """A log record at `level`, carrying `trace_id` when given."""
    doc: Doc = {"@timestamp": ns_to_iso(T0), "log.level": level, "message": "m", "logtrace.format": "json"}
    if trace_id is not None:
        doc["trace.id"] = trace_id
    if service is not None:
        doc["service.name"] = service
    return doc
