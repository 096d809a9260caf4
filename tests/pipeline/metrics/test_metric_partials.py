"""aggregate(): one batch of documents into partials per (event-time window, metric key)."""

from hypothesis import given
from hypothesis import strategies as st
from metric_docs import T0, at, log, span

from parsers.timefmt import MAX_NS, NS_PER_S
from pipeline.metrics.keys import ACCESS_STATUS, LOG_LEVELS, LOG_PATTERNS, SPAN_RED, MetricKey
from pipeline.metrics.partials import Partial, aggregate, decode_partials, encode_partials
from tests.hostile import HOSTILE_VALUES

FIELDS = [
    "@timestamp",
    "span.name",
    "span.kind",
    "service.name",
    "http.route",
    "event.duration",
    "event.outcome",
    "span.status.code",
    "log.level",
    "http.response.status_code",
    "log.pattern.id",
]


def by_key(partials: list[Partial]) -> dict[tuple[int, MetricKey], Partial]:
    return {(partial.window_start_ns, partial.key): partial for partial in partials}


class TestAggregate:
    def test_span_counts_errors_and_durations(self):
        """Spans of one key add up to one partial: count, errors (failure outcome) and durations."""
        docs = [
            span(1, 100, outcome="failure"),
            span(2, 300, outcome="failure"),
            span(3, 200) | {"span.status.code": "error"},
        ]
        partials = by_key(aggregate(docs))
        failed = partials[T0, MetricKey(SPAN_RED, ("cart", "GET", "server", "failure"))]
        assert (failed.stats.count, failed.stats.errors, failed.stats.durations.sum) == (2, 2, 400)
        status_error = partials[T0, MetricKey(SPAN_RED, ("cart", "GET", "server", "success"))]
        assert status_error.stats.errors == 1

    def test_logs_count_per_level_and_access_logs_per_status_class(self):
        """Every log counts per level; one with an HTTP status also per status class, with its duration."""
        docs = [
            log(1, "info"),
            log(2, "error"),
            log(3, None, status=503, duration=7_000),
            log(4, None, status=200),
        ]
        partials = by_key(aggregate(docs))
        assert partials[T0, MetricKey(LOG_LEVELS, ("cart", "unknown"))].stats.count == 2
        failed = partials[T0, MetricKey(ACCESS_STATUS, ("cart", "5xx"))].stats
        assert (failed.count, failed.durations.count, failed.durations.max) == (1, 1, 7_000)
        assert partials[T0, MetricKey(ACCESS_STATUS, ("cart", "2xx"))].stats.durations.count == 0
        assert len(partials) == 5

    def test_mined_logs_count_per_pattern(self):
        """A log with log.pattern.id also counts in log_patterns per service, pattern and level."""
        docs = [
            log(1, "warn") | {"log.pattern.id": "a"},
            log(2, "warn") | {"log.pattern.id": "a"},
            log(3, "info") | {"log.pattern.id": "b"},
            log(4, "info"),
        ]
        partials = by_key(aggregate(docs))
        assert partials[T0, MetricKey(LOG_PATTERNS, ("cart", "a", "warn"))].stats.count == 2
        assert partials[T0, MetricKey(LOG_PATTERNS, ("cart", "b", "info"))].stats.count == 1
        assert sum(p.stats.count for (_, key), p in partials.items() if key.metricset == LOG_PATTERNS) == 3
        assert partials[T0, MetricKey(LOG_LEVELS, ("cart", "info"))].stats.count == 2

    def test_pattern_keys_are_capped_per_window(self):
        """Past max_keys_per_window patterns in a window, the rest share the log_patterns overflow key."""
        docs = [log(0) | {"log.pattern.id": f"p{n}"} for n in range(5)]
        partials = by_key(aggregate(docs, max_keys_per_window=2))
        overflow = MetricKey(LOG_PATTERNS, ("__overflow__",) * 3)
        assert partials[T0, overflow].stats.count == 3

    def test_windows_follow_event_time(self):
        """Documents fall into tumbling windows by @timestamp; max_event_ns is the latest event of each."""
        partials = aggregate([log(0), log(9.999), log(10), log(25)], window_s=10)
        assert sorted((p.window_start_ns, p.stats.count, p.max_event_ns) for p in partials) == [
            (T0, 2, at(9.999)),
            (at(10), 1, at(10)),
            (at(20), 1, at(25)),
        ]

    def test_documents_without_a_readable_time_are_not_counted(self):
        """A document without a parseable @timestamp is skipped (parsers always set one)."""
        assert aggregate([log(0) | {"@timestamp": "yesterday"}, {"log.level": "info"}]) == []

    def test_unusable_durations_are_counted_without_duration(self):
        """Negative, oversized, float or boolean durations count the event but add no duration."""
        docs = [span(0, duration) for duration in (-1, MAX_NS + 1, 1.5, True)]
        (partial,) = aggregate(docs)
        assert (partial.stats.count, partial.stats.durations.count) == (4, 0)

    def test_cardinality_cap_per_window(self):
        """Past max_keys_per_window keys of a metricset in one window, the rest share the overflow key."""
        docs = [log(0, service=f"svc{n}") for n in range(5)] + [log(10, service="late-window")]
        partials = by_key(aggregate(docs, window_s=10, max_keys_per_window=2))
        overflow = MetricKey(LOG_LEVELS, ("__overflow__", "__overflow__"))
        assert partials[T0, overflow].stats.count == 3
        assert (at(10), MetricKey(LOG_LEVELS, ("late-window", "info"))) in partials

    def test_partial_round_trip(self):
        """Partial.from_bytes(to_bytes()) gives back an equal partial."""
        for partial in aggregate([span(1, 100), span(2, 5_000), log(3, status=404, duration=9)]):
            restored = Partial.from_bytes(partial.to_bytes())
            assert (restored.window_start_ns, restored.key, restored.max_event_ns) == (
                partial.window_start_ns,
                partial.key,
                partial.max_event_ns,
            )
            assert restored.stats.to_json() == partial.stats.to_json()

    def test_partials_batch_round_trip(self):
        """decode_partials(encode_partials()) gives back equal partials, in order."""
        partials = aggregate([span(1, 100), span(2, 5_000), log(3, status=404, duration=9)])
        restored = decode_partials(encode_partials(partials))
        assert [(p.window_start_ns, p.key, p.max_event_ns, p.stats.to_json()) for p in restored] == [
            (p.window_start_ns, p.key, p.max_event_ns, p.stats.to_json()) for p in partials
        ]

    @given(
        st.lists(st.dictionaries(st.sampled_from(FIELDS), HOSTILE_VALUES), max_size=20), st.integers(1, 3600)
    )
    def test_arbitrary_documents_never_raise(self, docs, window_s):
        """Any batch of documents aggregates without raising, into partials that survive the wire."""
        for partial in aggregate(docs, window_s=window_s):
            assert partial.window_start_ns % (window_s * NS_PER_S) == 0
            assert Partial.from_bytes(partial.to_bytes()).stats.to_json() == partial.stats.to_json()
