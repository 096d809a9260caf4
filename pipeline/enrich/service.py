"""service.name for logs that lack one: their trace's root span service if known, else the topic default.

The root services are learnt from root spans (no `parent.id`) this worker sees, in a bounded LRU map:
"if known at the time" — a log indexed before its trace's root span arrived keeps the topic default.
"""

from collections import OrderedDict
from collections.abc import Iterable

from parsers.result import Doc


class RootServices:
    """trace id -> service.name of its root span, keeping the `max_entries` most recently learnt."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._max = max_entries
        self._map: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._map)

    def get(self, trace_id: str) -> str | None:
        return self._map.get(trace_id)

    def learn(self, trace_id: str, service: str) -> None:
        self._map[trace_id] = service
        self._map.move_to_end(trace_id)
        while len(self._map) > self._max:
            self._map.popitem(last=False)

    def learn_from_spans(self, docs: Iterable[Doc]) -> None:
        """Remember the service of every root span among `docs`."""
        for doc in docs:
            if "parent.id" not in doc:
                trace_id, service = doc.get("trace.id"), doc.get("service.name")
                if trace_id and service:
                    self.learn(trace_id, service)


class ServiceBackfill:
    """Sets service.name on a log that has none: root span service, else `default` (may be None)."""

    __slots__ = ("_roots", "backfilled")

    def __init__(self, roots: RootServices) -> None:
        self._roots = roots
        # Documents that got their service from a root span (for the metric).
        self.backfilled = 0

    def __call__(self, doc: Doc, default: str | None = None) -> Doc:
        if "service.name" in doc:
            return doc
        trace_id = doc.get("trace.id")
        service = self._roots.get(trace_id) if trace_id else None
        if service is not None:
            doc["service.name"] = service
            self.backfilled += 1
        elif default is not None:
            doc["service.name"] = default
        return doc
