"""The trace summary document, written once when a trace closes, and the self time of its spans."""

from collections import defaultdict
from collections.abc import Sequence

from parsers.result import Doc
from parsers.timefmt import ns_to_iso
from pipeline.correlate.projection import SpanRef
from pipeline.correlate.state import TraceState

TOP_SPANS = 5


def self_times(spans: Sequence[SpanRef]) -> dict[str, int]:
    """Span id -> self time in ns: its duration minus the part covered by its children.

    Children are clipped to the parent's interval and overlapping children count once (parallel calls
    do not make a parent's self time negative). Only the given spans are known: a child past the
    span cap is not subtracted.
    """
    children: dict[str, list[SpanRef]] = defaultdict(list)
    for span in spans:
        if span.parent_id is not None:
            children[span.parent_id].append(span)
    result = {}
    for span in spans:
        covered, reach = 0, span.start_ns
        kids = children[span.span_id]
        for start, end in sorted((max(c.start_ns, span.start_ns), min(c.end_ns, span.end_ns)) for c in kids):
            # Count only what lies beyond the union covered so far.
            start = max(start, reach)
            if end > start:
                covered += end - start
                reach = end
        result[span.span_id] = span.end_ns - span.start_ns - covered
    return result


def summary_doc(trace_id: str, state: TraceState) -> Doc | None:
    """The summary of a closed trace; None for a trace of logs only (its spans were never seen).

    The root is the earliest span without a parent; when none arrived, the earliest kept span stands
    in and `trace.summary.root.missing` says so.
    """
    if state.span_count == 0 or state.start_ns is None or state.end_ns is None:
        return None
    root = state.root or min(state.spans, key=lambda span: (span.start_ns, span.span_id), default=None)
    times = self_times(state.spans)
    by_id = {span.span_id: span for span in state.spans}
    top = sorted(times, key=lambda span_id: (-times[span_id], span_id))[:TOP_SPANS]
    doc: Doc = {
        "@timestamp": ns_to_iso(state.start_ns),
        "trace.id": trace_id,
        "event.kind": "event",
        "event.start": ns_to_iso(state.start_ns),
        "event.end": ns_to_iso(state.end_ns),
        "event.duration": state.end_ns - state.start_ns,
        "event.outcome": "failure" if state.error_spans else "success",
        "trace.summary.root.missing": state.root is None,
        "trace.summary.span_count": state.span_count,
        "trace.summary.error_span_count": state.error_spans,
        "trace.summary.services": sorted(state.services),
        "trace.summary.log_count": state.log_count,
        "trace.summary.error_log_count": state.error_logs,
        "trace.summary.truncated": state.truncated,
        "trace.summary.top_spans.id": top,
        "trace.summary.top_spans.name": [by_id[span_id].name for span_id in top],
        "trace.summary.top_spans.service": [by_id[span_id].service for span_id in top],
        "trace.summary.top_spans.self_time": [times[span_id] for span_id in top],
    }
    if root is not None:
        doc["trace.summary.root.id"] = root.span_id
        doc["trace.summary.root.name"] = root.name
        if root.service is not None:
            doc["service.name"] = root.service
    return doc


def summary_id_input(trace_id: str) -> bytes:
    """Input of the summary's deterministic document id: one trace, one summary, however often closed."""
    return b"logtrace-trace-summary\x00" + trace_id.encode()
