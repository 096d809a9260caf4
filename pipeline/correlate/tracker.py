"""One worker's open traces, kept in a mapping the worker backs with a changelog table.

The mapping (trace id -> `TraceState.to_dict()`) is the state: every change is written back to it, so a
faust table (or a plain dict mirrored into one) survives a restart or rebalance. The tracker adds only
an in-memory order of traces by last activity, rebuilt from the mapping by `resync()`; it assumes
the processing time passed in does not go backwards (if it does, some traces close late, none is lost).

A trace is summarized once. Refs that arrive after their trace was closed with spans — a span later
than the idle time, or a log line read after its spans (a backlogged worker spreads one trace's
records over more than `idle_s`) — are counted in `late_refs` and dropped: re-opening the trace would
close it again into a second summary under the same document id, which Elasticsearch refuses with 409
(a duplicate write, and the first summary stays). The memory of closed traces is per process and
capped like the open traces; after a restart or rebalance a replay may still re-summarize (then the
409 is the expected replay answer).
"""

from collections import OrderedDict
from collections.abc import Iterable, MutableMapping
from typing import Any, NamedTuple

from parsers.timefmt import NS_PER_S
from pipeline.correlate.projection import Ref
from pipeline.correlate.state import DEFAULT_MAX_SPANS, TraceState

DEFAULT_IDLE_S = 30.0
DEFAULT_MAX_OPEN_TRACES = 100_000


class Closed(NamedTuple):
    """A trace taken out of the tracker, to be summarized."""

    trace_id: str
    state: TraceState


class TraceTracker:
    """Accumulates refs per trace; hands traces out when idle, or oldest first when over the cap."""

    def __init__(
        self,
        table: MutableMapping[str, dict[str, Any]],
        *,
        idle_s: float = DEFAULT_IDLE_S,
        max_open_traces: int = DEFAULT_MAX_OPEN_TRACES,
        max_spans_per_trace: int = DEFAULT_MAX_SPANS,
    ) -> None:
        self.table = table
        self.idle_ns = int(idle_s * NS_PER_S)
        self.max_open_traces = max_open_traces
        self.max_spans_per_trace = max_spans_per_trace
        # Trace id -> last activity, least recently active first.
        self._activity: OrderedDict[str, int] = OrderedDict()
        # Recently closed traces that had spans (their summary is written), oldest first, capped.
        self._closed: OrderedDict[str, None] = OrderedDict()
        # Refs dropped because their trace was already summarized.
        self.late_refs = 0
        self.resync()

    def __len__(self) -> int:
        return len(self._activity)

    def resync(self) -> None:
        """Rebuild the activity order from the mapping (after it was restored or reassigned)."""
        by_activity = sorted((data["last_seen_ns"], trace_id) for trace_id, data in self.table.items())
        self._activity = OrderedDict((trace_id, seen) for seen, trace_id in by_activity)

    def add(self, trace_id: str, refs: Iterable[Ref], now_ns: int) -> list[Closed]:
        """Account refs of one trace (one table write for all); returns traces evicted by the cap.

        Refs of a trace already closed and summarized are dropped (see the module doc)."""
        if trace_id in self._closed:
            self.late_refs += sum(1 for _ in refs)
            return []
        data = self.table.get(trace_id)
        state = TraceState(now_ns, now_ns) if data is None else TraceState.from_dict(data)
        for ref in refs:
            state.add(ref, now_ns, max_spans=self.max_spans_per_trace)
        self.table[trace_id] = state.to_dict()
        self._activity[trace_id] = state.last_seen_ns
        self._activity.move_to_end(trace_id)
        return self.evict_oldest()

    def idle(self, now_ns: int) -> list[Closed]:
        """Remove and return every trace without activity for `idle_s`."""
        closed = []
        while self._activity:
            trace_id, seen = next(iter(self._activity.items()))
            if now_ns - seen < self.idle_ns:
                break
            closed.extend(self._take(trace_id))
        return closed

    def evict_oldest(self) -> list[Closed]:
        """Remove and return the least recently active traces until at most `max_open_traces` remain."""
        closed = []
        while len(self._activity) > self.max_open_traces:
            closed.extend(self._take(next(iter(self._activity))))
        return closed

    def root_service(self, trace_id: str) -> str | None:
        """The service of the trace's root span, if that span has arrived (for logs that lack one)."""
        data = self.table.get(trace_id)
        return None if data is None else TraceState.root_service_of(data)

    def _take(self, trace_id: str) -> list[Closed]:
        """Drop `trace_id` from the order and the mapping; its state, if the mapping still had it."""
        del self._activity[trace_id]
        data = self.table.pop(trace_id, None)
        if data is None:
            return []
        state = TraceState.from_dict(data)
        if state.span_count:
            self._closed[trace_id] = None
            while len(self._closed) > self.max_open_traces:
                self._closed.popitem(last=False)
        return [Closed(trace_id, state)]
