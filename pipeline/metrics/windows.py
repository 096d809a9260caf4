"""Event-time tumbling windows on the key owner: merges partials, closes windows on a watermark.

The watermark is the newest event time seen minus the allowed lateness, so a backfill of old data is
aggregated into its own windows as it streams by; a window closes once the watermark passes its end.
A partial for a closed window goes to the late bucket, flushed at every `advance()` as documents marked
`metrics.late`, never dropped. Two guards, both in processing time passed in by the caller:
an event time more than `max_future_s` ahead of `now_ns` moves the watermark only that far (one
skewed clock must not close everyone's windows), and when no partial has arrived for
max(allowed lateness, window) every open window closes (a quiet stream still gets its metrics).

State lives in the mapping given (a faust table or a dict): one entry per (window, key), named
`window|<start>|<key token>` or `late|<start>|<key token>`, plus `meta` (watermark, newest event, last
add, late flush number). Only an index of the entries is kept in memory, rebuilt by `resync()`.
"""

from collections import defaultdict
from collections.abc import MutableMapping
from typing import Any, NamedTuple

from parsers.timefmt import NS_PER_S
from pipeline.metrics.documents import Emitted, metric_doc, metric_id_input
from pipeline.metrics.keys import Cardinality, MetricKey
from pipeline.metrics.partials import DEFAULT_MAX_KEYS, DEFAULT_WINDOW_S, Partial, Stats

DEFAULT_ALLOWED_LATENESS_S = 10
DEFAULT_MAX_FUTURE_S = 60
META = "meta"
_EMPTY_META: dict[str, Any] = {"watermark_ns": None, "max_event_ns": None, "last_add_ns": None, "late_seq": 0}

# (late, window start): a window's on-time and late entries are kept apart.
Bucket = tuple[bool, int]


class Added(NamedTuple):
    """Where a partial went: the late bucket, and/or the overflow key (for the worker's counters)."""

    late: bool
    overflowed: bool


class WindowStore:
    """The windows of the keys one worker owns."""

    def __init__(
        self,
        table: MutableMapping[str, dict[str, Any]],
        *,
        window_s: int = DEFAULT_WINDOW_S,
        allowed_lateness_s: int = DEFAULT_ALLOWED_LATENESS_S,
        max_keys_per_window: int = DEFAULT_MAX_KEYS,
        max_future_s: int = DEFAULT_MAX_FUTURE_S,
    ) -> None:
        self.table = table
        self.window_ns = window_s * NS_PER_S
        self.lateness_ns = allowed_lateness_s * NS_PER_S
        self.max_future_ns = max_future_s * NS_PER_S
        self.idle_ns = max(self.lateness_ns, self.window_ns)
        self.max_keys_per_window = max_keys_per_window
        self.resync()

    @property
    def watermark_ns(self) -> int | None:
        """Windows ending at or before this event time are closed; None before the first partial."""
        return self._meta["watermark_ns"]

    def resync(self) -> None:
        """Rebuild the in-memory index from the mapping (after it was restored or reassigned)."""
        self._meta: dict[str, Any] = dict(self.table.get(META) or _EMPTY_META)
        self._buckets: dict[Bucket, dict[MetricKey, str]] = defaultdict(dict)
        self._cardinality = Cardinality(self.max_keys_per_window)
        # Entry name -> its Stats, decoded once (not at every merge); the mapping keeps the JSON form.
        self._live: dict[str, Stats] = {}
        for name, entry in self.table.items():
            if name != META:
                bucket, key = (entry["late"], entry["window_start_ns"]), MetricKey.from_json(entry["key"])
                self._buckets[bucket][key] = name
                self._cardinality.admit(bucket, key)

    def add(self, partial: Partial, now_ns: int) -> Added:
        """Merge a partial into its window, or into the late bucket when that window has closed."""
        late = self._is_closed(partial.window_start_ns)
        bucket = (late, partial.window_start_ns)
        key = self._cardinality.admit(bucket, partial.key)
        name = self._buckets[bucket].get(key)
        if name is None:
            name = f"{'late' if late else 'window'}|{partial.window_start_ns}|{key.token()}"
            self._buckets[bucket][key] = name
            stats = self._live[name] = Stats()
        else:
            stats = self._live.get(name) or self._live.setdefault(
                name, Stats.from_json(self.table[name]["stats"])
            )
        stats.merge(partial.stats)
        self.table[name] = {
            "late": late,
            "window_start_ns": partial.window_start_ns,
            "key": key.to_json(),
            "stats": stats.to_json(),
        }
        meta = self._meta
        event_ns = min(partial.max_event_ns, now_ns + self.max_future_ns)
        meta["max_event_ns"] = _latest(meta["max_event_ns"], event_ns)
        meta["watermark_ns"] = _latest(meta["watermark_ns"], meta["max_event_ns"] - self.lateness_ns)
        meta["last_add_ns"] = now_ns
        self.table[META] = dict(meta)
        return Added(late, key.is_overflow)

    def advance(self, now_ns: int) -> list[Emitted]:
        """Close the windows the watermark has passed and flush the late bucket; their documents, in order."""
        meta = self._meta
        open_starts = [start for late, start in self._buckets if not late]
        if open_starts and meta["last_add_ns"] is not None and now_ns - meta["last_add_ns"] >= self.idle_ns:
            meta["watermark_ns"] = _latest(meta["watermark_ns"], max(open_starts) + self.window_ns)
        emitted = []
        for start in sorted(start for start in open_starts if self._is_closed(start)):
            emitted += self._take((False, start), None)
        late_buckets = sorted(bucket for bucket in self._buckets if bucket[0])
        for bucket in late_buckets:
            emitted += self._take(bucket, meta["late_seq"])
        if late_buckets:
            meta["late_seq"] += 1
        self.table[META] = dict(meta)
        return emitted

    def _is_closed(self, window_start_ns: int) -> bool:
        watermark = self._meta["watermark_ns"]
        return watermark is not None and window_start_ns + self.window_ns <= watermark

    def _take(self, bucket: Bucket, late_seq: int | None) -> list[Emitted]:
        """Remove a bucket's entries and return their documents, ordered by key."""
        late, start = bucket
        entries = self._buckets.pop(bucket)
        self._cardinality.forget(bucket)
        emitted = []
        for key in sorted(entries, key=MetricKey.token):
            entry = self.table.pop(entries[key])
            stats = self._live.pop(entries[key], None) or Stats.from_json(entry["stats"])
            doc = metric_doc(key, start, self.window_ns, stats, late=late)
            emitted.append(Emitted(metric_id_input(key, start, late_seq), doc))
        return emitted


def _latest(current: int | None, candidate: int) -> int:
    """The watermark and newest event time only move forward."""
    return candidate if current is None else max(current, candidate)
