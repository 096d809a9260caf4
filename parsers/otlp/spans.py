"""OTLP spans → one Elasticsearch document per span.

Sample input (one span, OTLP/JSON form): `{"traceId": "5b8efff798038103d269b633813fc60c", "spanId":
"eee19b7ec3c1b174", "parentSpanId": "eee19b7ec3c1b173", "name": "GET /users/:id", "kind": 2,
"startTimeUnixNano": "1544712660000000000", "endTimeUnixNano": "1544712661000000000",
"status": {"code": 2, "message": "boom"},
"attributes": [{"key": "http.method", "value": {"stringValue": "GET"}}]}`.

`event.outcome`: error → failure; ok and unset → success. The OTel spec asks instrumentation to leave the
status unset unless the operation failed, so unset means "no error recorded"; `span.status.code` keeps
the distinction for anyone who needs it.
"""

from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from parsers.attributes import bounded
from parsers.context import ParseContext
from parsers.ids import from_bytes
from parsers.limits import Limits
from parsers.otlp.decode import TRACES
from parsers.otlp.resource import Shared, attach_attributes, scopes
from parsers.otlp.semconv import RULES, SERVER_RULES, Rules, apply
from parsers.otlp.times import iso, set_timestamp
from parsers.otlp.values import key_values
from parsers.result import Doc, Outcome, ParseError

# Indexed by the proto enum values (Span.SpanKind, Status.StatusCode); unknown values fall back.
_KINDS = ("unspecified", "internal", "server", "client", "producer", "consumer")
_STATUS = ("unset", "ok", "error")
_OUTCOMES = ("success", "success", "failure")
_RULES_BY_KIND: tuple[Rules, ...] = tuple(SERVER_RULES if kind == "server" else RULES for kind in _KINDS)
# SDKs keep 128 events and links per span by default; more is hostile input, cut and flagged.
MAX_EVENTS = 128
MAX_LINKS = 128
# Span errors listed per request: each is dead-lettered with the whole record, so a batch of broken ids
# must not multiply it; the rest are counted in one `otlp_too_many_errors` result.
MAX_SPAN_ERRORS = 10
_EXCEPTION = "exception"


def _ids(span: Span) -> tuple[str, str] | str:
    """(trace id, span id) as hex, or why the span cannot be indexed."""
    trace = from_bytes(span.trace_id) if len(span.trace_id) == 16 else None
    if trace is None:
        return "invalid_trace_id"
    own = from_bytes(span.span_id) if len(span.span_id) == 8 else None
    return "invalid_span_id" if own is None else (trace, own)


def _times(span: Span, doc: Doc, problems: list[str], received_ns: int) -> None:
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    start_iso = set_timestamp(doc, start, received_ns, problems)
    end_iso = iso(end)
    if start_iso is not None:
        doc["event.start"] = start_iso
    if end_iso is not None:
        doc["event.end"] = end_iso
    if start_iso is None or end_iso is None:
        return
    duration = end - start
    if duration < 0:
        duration = 0
        problems.append("span_negative_duration")
    doc["event.duration"] = duration
    doc["span.duration.us"] = duration // 1000


def _events(span: Span, doc: Doc, rest: dict[str, Any], problems: list[str], limits: Limits) -> list[Any]:
    """Map the last exception event to `error.*` (its other attributes join `rest`); the other events
    come back compacted for `span.events`."""
    events = span.events
    if len(events) > MAX_EVENTS:
        problems.append("span_events_truncated")
        events = events[:MAX_EVENTS]
    names = [event.name for event in events]
    last_exception = len(names) - 1 - names[::-1].index(_EXCEPTION) if _EXCEPTION in names else -1
    compact: list[Any] = []
    for index, event in enumerate(events):
        if index == last_exception:
            leftover, _ = apply(event.attributes, RULES, doc, limits)
            for key, value in leftover.items():
                rest.setdefault(key, value)
            continue
        item: dict[str, Any] = {"name": event.name}
        time = iso(event.time_unix_nano)
        if time is not None:
            item["time"] = time
        attributes = key_values(event.attributes, limits.max_attributes)
        if attributes:
            item["attributes"] = attributes
        compact.append(item)
    return compact


def _links(span: Span, problems: list[str], limits: Limits) -> list[Any]:
    links = span.links
    if len(links) > MAX_LINKS:
        problems.append("span_links_truncated")
        links = links[:MAX_LINKS]
    compact: list[Any] = []
    for link in links:
        # Link ids are kept as sent (hex), even malformed: a link is context, not this span's identity.
        item: dict[str, Any] = {
            key: raw.hex() for key, raw in (("trace.id", link.trace_id), ("span.id", link.span_id)) if raw
        }
        attributes = key_values(link.attributes, limits.max_attributes)
        if attributes:
            item["attributes"] = attributes
        compact.append(item)
    return compact


def _span_doc(span: Span, ids: tuple[str, str], shared: Shared, ctx: ParseContext) -> Doc:
    limits = ctx.limits
    doc = dict(shared.fields)
    problems: list[str] = []
    doc["trace.id"], doc["span.id"] = ids
    parent = span.parent_span_id
    if parent:
        parent_id = from_bytes(parent) if len(parent) == 8 else None
        if parent_id is None:
            problems.append("parent_id_invalid")
        else:
            doc["parent.id"] = parent_id
    doc["span.name"] = span.name[: limits.max_value_chars]
    # Proto3 enums are open: a value from a newer OTLP reads as unspecified / unset.
    kind = span.kind if 0 <= span.kind < len(_KINDS) else 0
    doc["span.kind"] = _KINDS[kind]
    status = span.status
    code = status.code if 0 <= status.code < len(_STATUS) else 0
    doc["span.status.code"] = _STATUS[code]
    doc["event.outcome"] = _OUTCOMES[code]
    if status.message:
        doc["span.status.message"] = status.message[: limits.max_value_chars]
    _times(span, doc, problems, ctx.received_ns)

    rest, dropped = apply(span.attributes, _RULES_BY_KIND[kind], doc, limits)
    # Events and links are flattened fields of their own: each is bounded like `attributes`.
    for field, compact in (
        ("span.events", _events(span, doc, rest, problems, limits) if span.events else None),
        ("span.links", _links(span, problems, limits) if span.links else None),
    ):
        if compact:
            kept, compact_dropped = bounded({field: compact}, limits)
            doc.update(kept)
            dropped += compact_dropped
    attach_attributes(doc, shared, rest, dropped)

    for field, count in (
        ("otel.dropped_attributes_count", span.dropped_attributes_count),
        ("otel.dropped_events_count", span.dropped_events_count),
        ("otel.dropped_links_count", span.dropped_links_count),
    ):
        if count:
            doc[field] = count
    # Low byte: W3C trace flags; the higher bits are OTLP's has-remote-parent markers.
    trace_flags = span.flags & 0xFF
    if trace_flags:
        doc["otel.trace_flags"] = trace_flags
    if problems:
        doc["logtrace.parse.problems"] = problems
    return doc


def _error(reason: str, span: Span, where: str) -> ParseError:
    id_bytes = span.trace_id if reason == "invalid_trace_id" else span.span_id
    what = reason.removeprefix("invalid_")
    return ParseError(
        reason,
        f"{where} {span.name[:200]!r}: {what} {id_bytes[:32].hex()!r} is empty, all zeros or not its size",
    )


def map_spans(request: Any, ctx: ParseContext, encoding: str) -> Outcome:
    """One document per span of a decoded ExportTraceServiceRequest; spans with bad ids are errors."""
    out: Outcome = []
    extra = {"event.kind": "event", "logtrace.format": encoding}
    errors = 0
    for where, shared, spans in scopes(request, TRACES, lambda scope: extra, ctx.limits):
        for k, span in enumerate(spans):
            ids = _ids(span)
            if isinstance(ids, tuple):
                out.append(_span_doc(span, ids, shared, ctx))
                continue
            errors += 1
            if errors <= MAX_SPAN_ERRORS:
                out.append(_error(ids, span, f"{where}.spans[{k}]"))
    if errors > MAX_SPAN_ERRORS:
        out.append(
            ParseError("otlp_too_many_errors", f"{errors - MAX_SPAN_ERRORS} more spans with invalid ids")
        )
    return out
