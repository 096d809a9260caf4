"""TraceTracker: one worker's open traces over a mapping the worker backs with a changelog table."""

from collections import UserDict

from trace_docs import T0

from pipeline.correlate.projection import LogRef, SpanRef
from pipeline.correlate.tracker import TraceTracker

S = 1_000_000_000


def root(service: str = "frontend") -> SpanRef:
    return SpanRef("a" * 16, None, "GET /", service, T0, T0 + 10, False)


def child(n: int) -> SpanRef:
    return SpanRef(f"{n:016x}", "a" * 16, "work", "worker", T0, T0 + 5, False)


class CountingTable(UserDict):
    """A dict that counts writes, standing in for a faust table."""

    writes = 0

    def __setitem__(self, key, value):
        self.writes += 1
        super().__setitem__(key, value)


class TestTraceTracker:
    def test_idle_traces_are_closed_and_removed(self):
        """idle() returns traces quiet for idle_s, least recently active first, and drops them."""
        table: dict = {}
        tracker = TraceTracker(table, idle_s=30)
        tracker.add("t1", [root()], 0)
        tracker.add("t2", [root()], 10 * S)
        tracker.add("t1", [LogRef("info")], 20 * S)
        assert tracker.idle(39 * S) == []
        closed = tracker.idle(50 * S)
        assert [trace_id for trace_id, _ in closed] == ["t2", "t1"]
        assert closed[1].state.log_count == 1
        assert table == {} and len(tracker) == 0

    def test_a_closed_trace_is_handed_out_once(self):
        """After idle() hands a trace out, later scans do not return it again."""
        tracker = TraceTracker({}, idle_s=1)
        tracker.add("t", [root()], 0)
        assert len(tracker.idle(5 * S)) == 1
        assert tracker.idle(10 * S) == []

    def test_a_summarized_trace_is_not_reopened_by_late_refs(self):
        """Refs arriving after a trace closed with spans are dropped, not summarized again under the same
        id (the 409 duplicates of a backlogged single worker); a logs-only close does not block spans."""
        table: dict = {}
        tracker = TraceTracker(table, idle_s=1)
        tracker.add("t", [root()], 0)
        assert [trace_id for trace_id, _ in tracker.idle(5 * S)] == ["t"]
        assert tracker.add("t", [child(1), LogRef("error")], 6 * S) == []
        assert tracker.late_refs == 2 and table == {} and len(tracker) == 0
        assert tracker.idle(20 * S) == []
        # A trace closed before any span arrived (logs read first) still gets its summary later.
        tracker.add("u", [LogRef("info")], 0)
        assert [state.span_count for _, state in tracker.idle(5 * S)] == [0]
        tracker.add("u", [root()], 6 * S)
        assert [(trace_id, state.span_count) for trace_id, state in tracker.idle(10 * S)] == [("u", 1)]
        assert tracker.late_refs == 2

    def test_closed_memory_is_capped(self):
        tracker = TraceTracker({}, idle_s=1, max_open_traces=2)
        for n in range(5):
            tracker.add(f"t{n}", [root()], 0)
            tracker.evict_oldest()
        tracker.idle(5 * S)
        tracker.add("t0", [root()], 6 * S)  # forgotten (over the cap): opens again
        assert len(tracker) == 1 and tracker.late_refs == 0

    def test_oldest_is_evicted_over_the_cap(self):
        """Past max_open_traces, add() returns the least recently active traces, to be summarized early."""
        tracker = TraceTracker({}, max_open_traces=2)
        assert tracker.add("t1", [root()], 1) == []
        tracker.add("t2", [root()], 2)
        tracker.add("t1", [child(1)], 3)
        evicted = tracker.add("t3", [root()], 4)
        assert [trace_id for trace_id, _ in evicted] == ["t2"]
        assert len(tracker) == 2 and tracker.evict_oldest() == []

    def test_span_cap_applies_per_trace(self):
        """max_spans_per_trace bounds the spans kept in each trace's state."""
        tracker = TraceTracker({}, max_spans_per_trace=3)
        tracker.add("t", [child(n) for n in range(10)], 0)
        (closed,) = tracker.idle(60 * S)
        assert closed.state.span_count == 10 and len(closed.state.spans) == 3 and closed.state.truncated

    def test_root_service_for_log_backfill(self):
        """root_service() names the root span's service once it arrived, else None."""
        tracker = TraceTracker({})
        tracker.add("t", [child(1)], 0)
        assert tracker.root_service("t") is None and tracker.root_service("other") is None
        tracker.add("t", [root("checkout")], 0)
        assert tracker.root_service("t") == "checkout"

    def test_one_table_write_per_add(self):
        """A batch of refs for one trace is one table write."""
        table = CountingTable()
        TraceTracker(table).add("t", [root(), child(1), child(2), LogRef("info")], 0)
        assert table.writes == 1

    def test_state_survives_a_restart(self):
        """A new tracker over the same table (restored changelog) continues every trace, in activity order."""
        table: dict = {}
        first = TraceTracker(table, idle_s=30)
        first.add("t1", [root()], 0)
        first.add("t2", [root()], 5 * S)
        first.add("t1", [child(1)], 10 * S)
        second = TraceTracker(table, idle_s=30)
        assert [trace_id for trace_id, _ in second.idle(38 * S)] == ["t2"]
        second.add("t1", [child(2)], 41 * S)
        (closed,) = second.idle(80 * S)
        assert closed.trace_id == "t1" and closed.state.span_count == 3

    def test_resync_picks_up_reassigned_traces(self):
        """resync() indexes traces that appeared in the table behind the tracker's back (a rebalance)."""
        table: dict = {}
        tracker = TraceTracker(table)
        TraceTracker(table).add("moved", [root()], 0)
        assert len(tracker) == 0
        tracker.resync()
        assert [trace_id for trace_id, _ in tracker.idle(60 * S)] == ["moved"]
