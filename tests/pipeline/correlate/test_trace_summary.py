"""Trace summary documents and span self time."""

from trace_docs import T0, TRACE, log_doc, span_doc

from parsers.fields import is_declared
from parsers.timefmt import ns_to_iso
from pipeline.correlate.projection import SpanRef, project
from pipeline.correlate.state import TraceState
from pipeline.correlate.summary import self_times, summary_doc, summary_id_input


def sid(n: int) -> str:
    return f"{n:016x}"


def checkout_trace() -> list[dict]:
    """frontend -> cart (-> cart's db call) and frontend -> payment (failing, with a failing child)."""
    return [
        span_doc(sid(1), None, 0, 1000, "frontend", name="GET /checkout"),
        span_doc(sid(2), sid(1), 100, 400, "cart"),
        span_doc(sid(3), sid(2), 150, 350, "cart", name="SELECT cart"),
        span_doc(sid(4), sid(1), 300, 900, "payment", error=True),
        span_doc(sid(5), sid(4), 350, 500, "payment", error=True),
        log_doc("info"),
        log_doc("info", service="cart"),
        log_doc("error"),
        log_doc("fatal"),
    ]


def state_of(docs: list[dict]) -> TraceState:
    state = TraceState(0, 0)
    for doc in docs:
        state.add(project(doc).ref, 0)
    return state


def span(span_id: str, parent: str | None, start: int, end: int) -> SpanRef:
    return SpanRef(span_id, parent, span_id, None, start, end, False)


class TestSelfTimes:
    def test_duration_minus_children(self):
        """Self time is the span's duration minus the time its children cover."""
        spans = [span("p", None, 0, 100), span("c", "p", 10, 40), span("g", "c", 20, 30)]
        assert self_times(spans) == {"p": 70, "c": 20, "g": 10}

    def test_overlapping_children_count_once_and_are_clipped(self):
        """Overlapping children count once, and the parts outside the parent are clipped away."""
        spans = [
            span("p", None, 0, 100),
            span("a", "p", -20, 30),
            span("b", "p", 20, 60),
            span("c", "p", 90, 150),
            span("d", "p", 40, 50),
        ]
        assert self_times(spans)["p"] == 100 - 60 - 10

    def test_child_outside_parent_subtracts_nothing(self):
        """A child entirely outside its parent's interval (async follow-up) takes no self time."""
        assert self_times([span("p", None, 0, 10), span("c", "p", 20, 30)])["p"] == 10


class TestSummaryDoc:
    def test_three_service_trace_is_exact(self):
        """Counts, services, durations, root and top self-time spans of a hand-built trace are exact."""
        doc = summary_doc(TRACE, state_of(checkout_trace()))
        assert doc == {
            "@timestamp": ns_to_iso(T0),
            "trace.id": TRACE,
            "event.kind": "event",
            "event.start": ns_to_iso(T0),
            "event.end": ns_to_iso(T0 + 1000),
            "event.duration": 1000,
            "event.outcome": "failure",
            "service.name": "frontend",
            "trace.summary.root.id": sid(1),
            "trace.summary.root.name": "GET /checkout",
            "trace.summary.root.missing": False,
            "trace.summary.span_count": 5,
            "trace.summary.error_span_count": 2,
            "trace.summary.services": ["cart", "frontend", "payment"],
            "trace.summary.log_count": 4,
            "trace.summary.error_log_count": 2,
            "trace.summary.truncated": False,
            # payment 600-150, root 1000-800, db 200, payment child 150, cart 300-200; ties by span id.
            "trace.summary.top_spans.id": [sid(4), sid(1), sid(3), sid(5), sid(2)],
            "trace.summary.top_spans.name": [
                f"op-{sid(4)}",
                "GET /checkout",
                "SELECT cart",
                f"op-{sid(5)}",
                f"op-{sid(2)}",
            ],
            "trace.summary.top_spans.service": ["payment", "frontend", "cart", "payment", "cart"],
            "trace.summary.top_spans.self_time": [450, 200, 200, 150, 100],
        }

    def test_missing_root_falls_back_to_earliest_span(self):
        """Without a parentless span, the earliest span stands in as root and root.missing is true."""
        doc = summary_doc(TRACE, state_of(checkout_trace()[1:]))
        assert doc["trace.summary.root.missing"] is True
        assert (doc["trace.summary.root.id"], doc["service.name"]) == (sid(2), "cart")
        assert doc["event.duration"] == 800

    def test_top_spans_are_at_most_five(self):
        """Only the five largest self times are listed."""
        docs = [span_doc(sid(n), None, 0, n, "svc") for n in range(1, 9)]
        assert summary_doc(TRACE, state_of(docs))["trace.summary.top_spans.self_time"] == [8, 7, 6, 5, 4]

    def test_no_errors_is_success(self):
        """A trace without error spans has outcome success."""
        docs = [span_doc(sid(1), None, 0, 10, "svc"), log_doc("error")]
        assert summary_doc(TRACE, state_of(docs))["event.outcome"] == "success"

    def test_logs_only_trace_has_no_summary(self):
        """A trace whose spans never arrived (sampled out) yields no summary."""
        assert summary_doc(TRACE, state_of([log_doc("error"), log_doc("info")])) is None

    def test_every_field_is_declared(self):
        """Every field of a summary document is in mappings/fields.yml."""
        doc = summary_doc(TRACE, state_of(checkout_trace()))
        assert [name for name in doc if not is_declared(name)] == []

    def test_id_input_is_per_trace(self):
        """The id input depends on the trace id only: a trace closed twice maps to one document."""
        assert summary_id_input(TRACE) == summary_id_input(TRACE) != summary_id_input("f" * 32)
