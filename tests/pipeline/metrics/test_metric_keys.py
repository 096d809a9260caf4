"""Metric keys read from documents, and the per-window cardinality cap."""

from metric_docs import log, span

from pipeline.correlate.projection import MAX_TEXT_CHARS
from pipeline.metrics.keys import (
    ACCESS_STATUS,
    LOG_LEVELS,
    LOG_PATTERNS,
    OVERFLOW,
    SPAN_RED,
    Cardinality,
    MetricKey,
    access_key,
    level_key,
    pattern_key,
    span_key,
)


class TestKeys:
    def test_span_key_prefers_route_over_name(self):
        """A span's operation is its http.route when present, else its span name."""
        assert span_key(span(name="GET /users/42", route="/users/:id")).labels[1] == "/users/:id"
        assert span_key(span(name="SELECT")).labels[1] == "SELECT"

    def test_span_key_labels(self):
        """A span key is service, operation, kind and outcome."""
        key = span_key(span(service="cart", name="GET", kind="client", outcome="failure"))
        assert key == MetricKey(SPAN_RED, ("cart", "GET", "client", "failure"))
        assert key.fields() == {
            "service.name": "cart",
            "span.operation": "GET",
            "span.kind": "client",
            "event.outcome": "failure",
        }

    def test_closed_vocabularies_map_strays_to_unknown(self):
        """Kind, outcome and level outside their vocabularies, or missing, become unknown."""
        doc = span(kind="weird", outcome="meh") | {"service.name": 42}
        assert span_key(doc).labels == ("unknown", "GET", "unknown", "unknown")
        assert level_key(log(level="LOUD")).labels == ("cart", "unknown")
        assert level_key(log(level=None, service=None)).labels == ("unknown", "unknown")

    def test_labels_are_bounded(self):
        """Service and operation labels are cut to MAX_TEXT_CHARS."""
        key = span_key(span(service="s" * 5000, name="n" * 5000))
        assert [len(label) for label in key.labels[:2]] == [MAX_TEXT_CHARS, MAX_TEXT_CHARS]

    def test_access_key_status_class(self):
        """An integer status maps to its class, codes outside 100..599 to other, and no status to no key."""
        classes = [access_key(log(status=code)).labels[1] for code in (101, 200, 302, 404, 503, 0, 999)]
        assert classes == ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "other"]
        assert access_key(log()) is None and access_key(log() | {"http.response.status_code": "200"}) is None
        assert access_key(log() | {"http.response.status_code": True}) is None

    def test_pattern_key_only_for_mined_logs(self):
        """A log with log.pattern.id keys service, pattern id and level; one without it has no key."""
        doc = log(level="error") | {"log.pattern.id": "0123456789abcdef"}
        key = pattern_key(doc)
        assert key == MetricKey(LOG_PATTERNS, ("cart", "0123456789abcdef", "error"))
        assert key.fields() == {
            "service.name": "cart",
            "log.pattern.id": "0123456789abcdef",
            "log.level": "error",
        }
        assert pattern_key(log()) is None
        assert pattern_key(log() | {"log.pattern.id": ""}) is None
        stray = pattern_key(log(level="LOUD", service=None) | {"log.pattern.id": "p"})
        assert stray is not None and stray.labels == ("unknown", "p", "unknown")

    def test_token_round_trip(self):
        """A key's JSON form reads back to the same key, and tokens differ between keys."""
        key = MetricKey(ACCESS_STATUS, ("a|b", "2xx"))
        assert MetricKey.from_json(key.to_json()) == key
        assert key.token() != MetricKey(ACCESS_STATUS, ("a", "b|2xx")).token()


class TestCardinality:
    def test_caps_keys_per_bucket_and_metricset(self):
        """Past `cap` keys of one metricset in one bucket, new keys become that metricset's overflow key."""
        cap = Cardinality(2)
        keys = [MetricKey(LOG_LEVELS, (f"svc{n}", "info")) for n in range(4)]
        overflow = MetricKey(LOG_LEVELS, (OVERFLOW, OVERFLOW))
        assert [cap.admit(0, key) for key in keys] == [*keys[:2], overflow, overflow]
        assert cap.admit(0, keys[0]) == keys[0]
        assert cap.admit(0, MetricKey(SPAN_RED, ("a", "b", "c", "d"))).labels[0] == "a"
        assert cap.admit(1, keys[3]) == keys[3]

    def test_forget_frees_the_bucket(self):
        """After forget(), a bucket admits keys afresh."""
        cap = Cardinality(1)
        cap.admit(0, MetricKey(LOG_LEVELS, ("a", "info")))
        cap.forget(0)
        assert cap.admit(0, MetricKey(LOG_LEVELS, ("b", "info"))).labels == ("b", "info")

    def test_overflow_key_is_recognized(self):
        """The overflow key says so, other keys do not."""
        key = MetricKey(SPAN_RED, ("a", "b", "c", "d"))
        assert key.overflow().is_overflow and not key.is_overflow
