"""Final metric documents, written once per (window, key) when the window closes, with their id input.

Durations are in ns, like `event.duration`. Late documents (`metrics.late: true`) hold what arrived
after their window had closed; they are extra documents for the same window, never a replacement.
"""

from typing import NamedTuple

from parsers.result import Doc
from parsers.timefmt import MAX_NS, NS_PER_S, ns_to_iso
from pipeline.metrics.keys import SPAN_RED, MetricKey
from pipeline.metrics.partials import Stats

QUANTILES = (("p50", 0.50), ("p90", 0.90), ("p95", 0.95), ("p99", 0.99))


class Emitted(NamedTuple):
    """A metric document and the input of its deterministic id (for the sink's `content_doc_id`)."""

    id_input: bytes
    doc: Doc


def metric_doc(key: MetricKey, window_start_ns: int, window_ns: int, stats: Stats, *, late: bool) -> Doc:
    """The document of one key in one window; error fields on `span_red`, duration fields when any."""
    doc: Doc = {
        "@timestamp": ns_to_iso(window_start_ns),
        "event.start": ns_to_iso(window_start_ns),
        "event.end": ns_to_iso(window_start_ns + window_ns),
        "event.kind": "metric",
        "metricset.name": key.metricset,
        "metricset.period": window_ns * 1000 // NS_PER_S,
        **key.fields(),
        "metrics.count": stats.count,
        "metrics.late": late,
    }
    if key.metricset == SPAN_RED:
        doc["metrics.errors"] = stats.errors
        doc["metrics.error_rate"] = stats.errors / stats.count if stats.count else 0.0
    durations = stats.durations
    if durations.count:
        doc["metrics.duration.count"] = durations.count
        doc["metrics.duration.min"] = durations.min
        doc["metrics.duration.max"] = durations.max
        # A long field: a window of absurd durations must not make the document unindexable.
        doc["metrics.duration.sum"] = min(durations.sum, MAX_NS)
        for name, q in QUANTILES:
            doc[f"metrics.duration.{name}"] = durations.quantile(q)
    return doc


def metric_id_input(key: MetricKey, window_start_ns: int, late_seq: int | None = None) -> bytes:
    """Id input of a metric document: window start and key, plus the late flush number for late ones.

    A replayed window closes into the same id (the sink's create is then a no-op); each flush of the
    late bucket gets its own number, so a later late document never collides with an earlier one.
    """
    late = "" if late_seq is None else str(late_seq)
    return f"logtrace-metric\x00{window_start_ns}\x00{key.token()}\x00{late}".encode()
