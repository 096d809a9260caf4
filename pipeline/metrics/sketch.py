"""Durations of one metric: exact count/min/max/sum plus a DDSketch for quantiles, mergeable and JSON-able.

The sketch has 1% relative accuracy: a reported p99 of 200 ms is the true p99 within ±2 ms. Merging
sketches is exact (bin counts add), so quantiles of merged partials equal those of one pass over
all values. Durations are non-negative integer nanoseconds.

Serialization writes the sketch's bins itself rather than through `ddsketch.pb`: the protobuf form
(ddsketch 3.0.1) writes every bin of the dense range, zeros included (9 KB for five durations from
1 ns to 1 s), drops min/max/sum, and rebuilds the mapping from a float gamma so decoded quantiles
drift in the last digits.
Here only non-empty bins are written as `[key, count]` pairs, and decoding re-adds each bin's
representative value with its count, which lands in the same bin (`mapping.key(mapping.value(k)) == k`).
"""

from collections.abc import Callable
from typing import Any

from ddsketch.ddsketch import BaseDDSketch
from ddsketch.mapping import LogarithmicMapping
from ddsketch.store import DenseStore

RELATIVE_ACCURACY = 0.01
# What `DDSketch(RELATIVE_ACCURACY)` builds, with its (immutable) mapping made once: a worker creates
# a sketch per metric key per batch and per decoded partial, and the mapping's set-up was a visible
# share of the worker's CPU.
_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)


def _sketch(store: DenseStore | None = None, zeros: int = 0) -> BaseDDSketch:
    return BaseDDSketch(
        mapping=_MAPPING,
        store=DenseStore() if store is None else store,
        negative_store=DenseStore(),
        zero_count=zeros,
    )


class DurationSketch:
    """Mergeable duration statistics in ns; quantiles clamped to the exact min/max."""

    __slots__ = ("_sketch", "count", "max", "min", "sum")

    def __init__(self) -> None:
        self._sketch = _sketch()
        self.count = 0
        self.min: int | None = None
        self.max: int | None = None
        self.sum = 0

    def add(self, ns: int) -> None:
        """Record one duration (>= 0 ns)."""
        if ns < 0:
            raise ValueError(f"duration must be >= 0 ns, got {ns}")
        self._sketch.add(ns)
        self.count += 1
        self.sum += ns
        self.min = _pick(min, self.min, ns)
        self.max = _pick(max, self.max, ns)

    def merge(self, other: "DurationSketch") -> None:
        """Add `other`'s durations to this one (as if each had been added here)."""
        if other.count == 0:
            return
        self._sketch.merge(other._sketch)
        self.count += other.count
        self.sum += other.sum
        self.min = _pick(min, self.min, other.min)
        self.max = _pick(max, self.max, other.max)

    def quantile(self, q: float) -> int | None:
        """The duration at quantile `q` (0..1) within 1% relative error; None when empty."""
        value = self._sketch.get_quantile_value(q)
        if value is None or self.min is None or self.max is None:
            return None
        return min(max(round(value), self.min), self.max)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict: exact stats, zero count and the non-empty bins as `[key, count]` pairs."""
        if self.count == 0:
            return {"count": 0}
        # ddsketch has no public accessor for its bins; durations never reach the negative store.
        store = self._sketch._store
        bins = [[store.offset + index, int(count)] for index, count in enumerate(store.bins) if count]
        return {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "sum": self.sum,
            "zeros": int(self._sketch._zero_count),
            "bins": bins,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "DurationSketch":
        """The sketch `to_json()` describes."""
        result = cls()
        if data["count"] == 0:
            return result
        # The bins go straight into the store: the same as adding each bin's representative value
        # (`mapping.key(mapping.value(k)) == k`) without a logarithm per bin.
        store = DenseStore()
        bins = data["bins"]
        if bins:  # size the store once for the whole key range (bins are written in key order)
            store._extend_range(min(bins[0][0], bins[-1][0]), max(bins[0][0], bins[-1][0]))
        for key, count in bins:
            store.add(key, count)
        result._sketch = _sketch(store, data["zeros"])
        result.count, result.sum = data["count"], data["sum"]
        result.min, result.max = data["min"], data["max"]
        return result


def _pick(choose: Callable[[int, int], int], current: int | None, new: int | None) -> int | None:
    """`choose` of two bounds where None means "no value yet"."""
    if current is None or new is None:
        return new if current is None else current
    return choose(current, new)
