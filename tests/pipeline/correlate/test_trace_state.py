"""TraceState: the bounded, JSON-able accumulation of one open trace."""

import orjson
from trace_docs import T0

from pipeline.correlate.projection import LogRef, SpanRef
from pipeline.correlate.state import MAX_SERVICES, TraceState


def ref(
    span_id: str,
    parent: str | None = "p",
    start: int = 0,
    end: int = 10,
    service: str | None = "svc",
    error: bool = False,
) -> SpanRef:
    return SpanRef(span_id, parent, f"op-{span_id}", service, T0 + start, T0 + end, error)


class TestTraceState:
    def test_counts_spans_errors_and_logs(self):
        """Spans, error spans, logs and error/fatal logs are counted; start/end span all spans."""
        state = TraceState(0, 0)
        state.add(ref("a", None, 0, 100), 1)
        state.add(ref("b", "a", 20, 150, error=True), 2)
        for level in ("info", "error", "fatal", None):
            state.add(LogRef(level), 3)
        assert (state.span_count, state.error_spans, state.log_count, state.error_logs) == (2, 1, 4, 2)
        assert (state.start_ns, state.end_ns, state.last_seen_ns) == (T0, T0 + 150, 3)

    def test_redelivered_span_counts_once(self):
        """A span id already kept (a redelivery) is ignored, the root included."""
        state = TraceState(0, 0)
        for _ in range(2):
            state.add_span(ref("a", None), 0)
            state.add_span(ref("b"), 0)
        assert state.span_count == 2 and len(state.spans) == 2

    def test_span_cap_keeps_counting_but_stops_keeping_detail(self):
        """Past max_spans, totals, errors, start/end and services still count; detail stops; truncated."""
        state = TraceState(0, 0)
        for n in range(5):
            span = ref(f"s{n}", start=n, end=1000 + n, service=f"svc{n}", error=n == 4)
            state.add_span(span, 0, max_spans=2)
        assert [span.span_id for span in state.spans] == ["s0", "s1"]
        assert state.truncated
        assert (state.span_count, state.error_spans, state.end_ns) == (5, 1, T0 + 1004)
        assert state.services == {f"svc{n}" for n in range(5)}

    def test_root_is_kept_past_the_cap(self):
        """A root span arriving after the cap still becomes the root."""
        state = TraceState(0, 0)
        state.add_span(ref("child"), 0, max_spans=1)
        state.add_span(ref("root", None), 0, max_spans=1)
        assert state.root is not None and state.root.span_id == "root"

    def test_earliest_parentless_span_is_the_root(self):
        """With several spans without a parent, the earliest start wins whatever the arrival order."""
        state = TraceState(0, 0)
        state.add_span(ref("late", None, start=50), 0)
        state.add_span(ref("early", None, start=5), 0)
        state.add_span(ref("later", None, start=60), 0)
        assert state.root.span_id == "early"

    def test_services_are_capped(self):
        """Past MAX_SERVICES distinct services, new ones are not listed and truncated is set."""
        state = TraceState(0, 0)
        for n in range(MAX_SERVICES + 3):
            state.add_span(ref(f"s{n}", service=f"svc{n}"), 0)
        assert len(state.services) == MAX_SERVICES and state.truncated

    def test_idle_in_processing_time(self):
        """A trace is idle once idle_ns of processing time passed since its last ref."""
        state = TraceState(0, 0)
        state.add_log(LogRef("info"), 100)
        assert not state.is_idle(129, 30) and state.is_idle(130, 30)

    def test_round_trip_through_json(self):
        """to_dict survives JSON and from_dict restores an equal state that still recognizes kept span ids."""
        state = TraceState(1, 2)
        state.add_span(ref("a", None), 3)
        state.add_span(ref("b", error=True), 4)
        state.add_log(LogRef("error"), 5)
        restored = TraceState.from_dict(orjson.loads(orjson.dumps(state.to_dict())))
        assert restored == state
        restored.add_span(ref("b"), 6)
        assert restored.span_count == 2

    def test_root_service_read_from_the_dict(self):
        """root_service_of reads the root's service from a stored dict, None before a root arrives."""
        state = TraceState(0, 0)
        state.add_span(ref("b"), 0)
        assert TraceState.root_service_of(state.to_dict()) is None
        state.add_span(ref("a", None, service="frontend"), 0)
        assert TraceState.root_service_of(state.to_dict()) == "frontend"
