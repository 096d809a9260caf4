"""Metric keys: which labels a metric is grouped by, read from a document with bounded values.

Every label is a bounded string; the labels with a known vocabulary (kind, outcome, level) map anything
else to `unknown`, so only service, operation and pattern id can grow, and `Cardinality` caps those.
"""

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass

import orjson

from parsers.result import Doc
from pipeline.correlate.projection import integer, text

SPAN_RED = "span_red"
LOG_LEVELS = "log_levels"
ACCESS_STATUS = "access_status"
LOG_PATTERNS = "log_patterns"
# Document field of each label, per metricset (`metricset.name`).
LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    SPAN_RED: ("service.name", "span.operation", "span.kind", "event.outcome"),
    LOG_LEVELS: ("service.name", "log.level"),
    ACCESS_STATUS: ("service.name", "http.response.status_class"),
    LOG_PATTERNS: ("service.name", "log.pattern.id", "log.level"),
}
OVERFLOW = "__overflow__"
UNKNOWN = "unknown"
_KINDS = frozenset({"internal", "server", "client", "producer", "consumer"})
_OUTCOMES = frozenset({"success", "failure", "unknown"})
_LEVELS = frozenset({"trace", "debug", "info", "warn", "error", "fatal"})


@dataclass(frozen=True, slots=True)
class MetricKey:
    """A metricset and its label values, in `LABEL_FIELDS` order."""

    metricset: str
    labels: tuple[str, ...]

    @property
    def is_overflow(self) -> bool:
        """True for the key that stands for every key past the cardinality cap."""
        return self.labels == self.overflow().labels

    def overflow(self) -> "MetricKey":
        """The overflow key of this key's metricset."""
        return MetricKey(self.metricset, (OVERFLOW,) * len(self.labels))

    def fields(self) -> dict[str, str]:
        """The labels as document fields."""
        return dict(zip(LABEL_FIELDS[self.metricset], self.labels, strict=True))

    def to_json(self) -> list[str]:
        """`[metricset, *labels]`, also the text of `token()`."""
        return [self.metricset, *self.labels]

    @classmethod
    def from_json(cls, row: list[str]) -> "MetricKey":
        """The key `to_json()` describes."""
        return cls(row[0], tuple(row[1:]))

    def token(self) -> str:
        """An unambiguous string for the key: the partials topic's message key, a store entry's name."""
        return orjson.dumps(self.to_json()).decode()


def _vocabulary(value: str | None, allowed: frozenset[str]) -> str:
    return value if value in allowed else UNKNOWN


def span_key(doc: Doc) -> MetricKey:
    """RED key of a span: service, operation (`http.route`, else the span name), kind, outcome."""
    return MetricKey(
        SPAN_RED,
        (
            text(doc, "service.name") or UNKNOWN,
            text(doc, "http.route") or text(doc, "span.name") or UNKNOWN,
            _vocabulary(text(doc, "span.kind"), _KINDS),
            _vocabulary(text(doc, "event.outcome"), _OUTCOMES),
        ),
    )


def level_key(doc: Doc) -> MetricKey:
    """Log-count key of a log: service and level (`unknown` when the log has none)."""
    level = _vocabulary(text(doc, "log.level"), _LEVELS)
    return MetricKey(LOG_LEVELS, (text(doc, "service.name") or UNKNOWN, level))


def access_key(doc: Doc) -> MetricKey | None:
    """Access-log key of a log with an integer HTTP status: service and status class; None otherwise.

    The class is `1xx`..`5xx`, or `other` for a code outside 100..599 (e.g. 0 for an aborted request).
    """
    status = integer(doc, "http.response.status_code")
    if status is None:
        return None
    status_class = f"{status // 100}xx" if 100 <= status <= 599 else "other"
    return MetricKey(ACCESS_STATUS, (text(doc, "service.name") or UNKNOWN, status_class))


def pattern_key(doc: Doc) -> MetricKey | None:
    """Pattern-count key of a mined log: service, pattern id and level; None without `log.pattern.id`."""
    pattern = text(doc, "log.pattern.id")
    if pattern is None:
        return None
    level = _vocabulary(text(doc, "log.level"), _LEVELS)
    return MetricKey(LOG_PATTERNS, (text(doc, "service.name") or UNKNOWN, pattern, level))


class Cardinality:
    """Admits at most `cap` distinct keys per (bucket, metricset); later keys become the overflow key."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._admitted: dict[Hashable, dict[str, set[MetricKey]]] = defaultdict(lambda: defaultdict(set))

    def admit(self, bucket: Hashable, key: MetricKey) -> MetricKey:
        """`key`, or its overflow key when `bucket` already holds `cap` other keys of its metricset."""
        admitted = self._admitted[bucket][key.metricset]
        if key in admitted or key.is_overflow:
            return key
        if len(admitted) < self.cap:
            admitted.add(key)
            return key
        return key.overflow()

    def forget(self, bucket: Hashable) -> None:
        """Drop what is known of `bucket` (its window closed)."""
        self._admitted.pop(bucket, None)
