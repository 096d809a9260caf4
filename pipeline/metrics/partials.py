"""Per-batch pre-aggregation: one partial per (window, metric key), sent to the key's owner to merge.

What a document counts in: a span in `span_red` (an error when its outcome is failure or its status is
error); any other document in `log_levels`, and also in `access_status` when it has an integer
`http.response.status_code`, and in `log_patterns` when it has a `log.pattern.id` (pattern mining is
on for its topic). The event time is `@timestamp` (a span's start); a document without a
readable one is not counted (parsers always set it). Durations are `event.duration` in ns.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from parsers.result import Doc
from parsers.timefmt import MAX_NS, NS_PER_S
from pipeline.correlate.projection import integer, is_error_span, is_span, time_ns
from pipeline.metrics.keys import Cardinality, MetricKey, access_key, level_key, pattern_key, span_key
from pipeline.metrics.sketch import DurationSketch

DEFAULT_WINDOW_S = 10
# Distinct keys per window and metricset before the overflow key takes the rest.
DEFAULT_MAX_KEYS = 2_000


@dataclass(slots=True)
class Stats:
    """What is known of one key in one window: events, errors and their durations; merging adds up."""

    count: int = 0
    errors: int = 0
    durations: DurationSketch = field(default_factory=DurationSketch)

    def merge(self, other: "Stats") -> None:
        """Add `other` into this one."""
        self.count += other.count
        self.errors += other.errors
        self.durations.merge(other.durations)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict."""
        return {"count": self.count, "errors": self.errors, "durations": self.durations.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Stats":
        """The stats `to_json()` describes."""
        return cls(data["count"], data["errors"], DurationSketch.from_json(data["durations"]))


@dataclass(slots=True)
class Partial:
    """One worker's stats of one key in one window of one batch."""

    window_start_ns: int
    key: MetricKey
    stats: Stats
    # The latest event time in this partial: what moves the owner's watermark.
    max_event_ns: int

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict: one element of a partials batch (see `to_bytes`)."""
        return {
            "window_start_ns": self.window_start_ns,
            "key": self.key.to_json(),
            "stats": self.stats.to_json(),
            "max_event_ns": self.max_event_ns,
        }

    def to_bytes(self) -> bytes:
        """One partial as a partials-topic value (keyed by `key.token()`; the format before batching)."""
        return orjson.dumps(self.to_json())

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> "Partial":
        """The partial `to_json()` described."""
        return cls(
            row["window_start_ns"],
            MetricKey.from_json(row["key"]),
            Stats.from_json(row["stats"]),
            row["max_event_ns"],
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> "Partial":
        """The partial `to_bytes()` wrote."""
        return cls.from_json(orjson.loads(data))


def encode_partials(partials: Iterable["Partial"]) -> bytes:
    """Many partials in one partials-topic value: a JSON array of `to_json()` dicts."""
    return orjson.dumps([partial.to_json() for partial in partials])


def decode_partials(data: bytes) -> list["Partial"]:
    """The partials of an `encode_partials()` value; ValueError, KeyError or TypeError when malformed."""
    rows = orjson.loads(data)
    if not isinstance(rows, list):
        raise ValueError("partials batch is not a JSON array")
    return [Partial.from_json(row) for row in rows]


def _duration(doc: Doc) -> int | None:
    value = integer(doc, "event.duration")
    return value if value is not None and 0 <= value <= MAX_NS else None


def _observations(doc: Doc) -> list[tuple[MetricKey, bool, int | None]]:
    """(key, is error, duration ns or None) for each metric `doc` counts in."""
    if is_span(doc):
        return [(span_key(doc), is_error_span(doc), _duration(doc))]
    found: list[tuple[MetricKey, bool, int | None]] = [(level_key(doc), False, None)]
    access = access_key(doc)
    if access is not None:
        found.append((access, False, _duration(doc)))
    pattern = pattern_key(doc)
    if pattern is not None:
        found.append((pattern, False, None))
    return found


def aggregate(
    docs: Iterable[Doc], window_s: int = DEFAULT_WINDOW_S, max_keys_per_window: int = DEFAULT_MAX_KEYS
) -> list[Partial]:
    """The partials of one batch: tumbling windows of `window_s` by event time, keys capped per window."""
    window_ns = window_s * NS_PER_S
    cardinality = Cardinality(max_keys_per_window)
    partials: dict[tuple[int, MetricKey], Partial] = {}
    for doc in docs:
        event_ns = time_ns(doc, "@timestamp")
        if event_ns is None:
            continue
        start = event_ns - event_ns % window_ns
        for found_key, error, duration in _observations(doc):
            key = cardinality.admit(start, found_key)
            partial = partials.get((start, key))
            if partial is None:
                partial = partials[start, key] = Partial(start, key, Stats(), event_ns)
            partial.max_event_ns = max(partial.max_event_ns, event_ns)
            partial.stats.count += 1
            partial.stats.errors += error
            if duration is not None:
                partial.stats.durations.add(duration)
    return list(partials.values())
