"""Final metric documents and their deterministic id input."""

from metric_docs import T0, log, span

from parsers.fields import is_declared
from parsers.timefmt import NS_PER_S, ns_to_iso
from pipeline.metrics.documents import metric_doc, metric_id_input
from pipeline.metrics.keys import LOG_LEVELS, MetricKey
from pipeline.metrics.partials import Stats, aggregate

WINDOW = 10 * NS_PER_S


def merged(docs: list[dict]) -> tuple[MetricKey, Stats]:
    """The single key and stats of `docs` (all one key, one window)."""
    (partial,) = aggregate(docs)
    return partial.key, partial.stats


class TestMetricDoc:
    def test_span_red_document(self):
        """A span_red document has the window, key fields, counts, error rate and duration stats in ns."""
        key, stats = merged([span(1, 1_000, outcome="failure"), span(2, 3_000, outcome="failure")])
        doc = metric_doc(key, T0, WINDOW, stats, late=False)
        quantiles = [doc.pop(f"metrics.duration.{name}") for name in ("p50", "p90", "p95", "p99")]
        assert doc == {
            "@timestamp": ns_to_iso(T0),
            "event.start": ns_to_iso(T0),
            "event.end": ns_to_iso(T0 + WINDOW),
            "event.kind": "metric",
            "metricset.name": "span_red",
            "metricset.period": 10_000,
            "service.name": "cart",
            "span.operation": "GET",
            "span.kind": "server",
            "event.outcome": "failure",
            "metrics.count": 2,
            "metrics.late": False,
            "metrics.errors": 2,
            "metrics.error_rate": 1.0,
            "metrics.duration.count": 2,
            "metrics.duration.min": 1_000,
            "metrics.duration.max": 3_000,
            "metrics.duration.sum": 4_000,
        }
        # Of two values, every quantile below 1 is the lower one (rank floor(q * (n - 1))), within 1%.
        assert all(abs(value - 1_000) <= 10 for value in quantiles)

    def test_log_levels_document_has_only_counts(self):
        """A log_levels document carries the count, no error or duration fields."""
        key, stats = merged([log(1, "warn"), log(2, "warn")])
        doc = metric_doc(key, T0, WINDOW, stats, late=True)
        assert {name: doc[name] for name in doc if name.startswith(("metrics.", "log.", "service."))} == {
            "metrics.count": 2,
            "metrics.late": True,
            "log.level": "warn",
            "service.name": "cart",
        }

    def test_every_field_is_declared(self):
        """Every field of every metricset's documents is in mappings/fields.yml."""
        docs = [span(1), log(2, status=200, duration=5), log(3) | {"log.pattern.id": "0123456789abcdef"}]
        partials = aggregate(docs)
        assert {partial.key.metricset for partial in partials} == {
            "span_red",
            "log_levels",
            "access_status",
            "log_patterns",
        }
        names = {
            name
            for partial in partials
            for name in metric_doc(partial.key, T0, WINDOW, partial.stats, late=False)
        }
        assert sorted(name for name in names if not is_declared(name)) == []

    def test_id_input_is_deterministic_per_window_key_and_late_flush(self):
        """The same window and key give the same id input; another window, key or late flush another."""
        key = MetricKey(LOG_LEVELS, ("cart", "info"))
        inputs = {
            metric_id_input(key, T0),
            metric_id_input(key, T0 + WINDOW),
            metric_id_input(MetricKey(LOG_LEVELS, ("cart", "warn")), T0),
            metric_id_input(key, T0, 0),
            metric_id_input(key, T0, 1),
        }
        assert metric_id_input(key, T0) == metric_id_input(key, T0) and len(inputs) == 5
