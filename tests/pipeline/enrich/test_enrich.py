"""Enrichment callables: timing, Kafka coordinates, service backfill, processing rules, batch preparation."""

import pytest

from pipeline.config.worker import RawTopic
from pipeline.enrich.batch import BatchOptions, prepare
from pipeline.enrich.kafka import kafka_coords
from pipeline.enrich.rules import TopicRules, keep_sample
from pipeline.enrich.service import RootServices, ServiceBackfill
from pipeline.enrich.timing import Timing, ms_iso, set_pipeline_ms
from pipeline.records import Decoded, Item, RawSpec, Record, decode_raw, zone
from pipeline.sink.items import Source

NOW = 1_796_000_000_123_456_789
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_timing_sets_ingested_and_lag() -> None:
    doc = Timing(NOW)({"@timestamp": "2026-12-01T00:00:00.000000000Z"})
    assert doc["event.ingested"] == ms_iso(NOW) and doc["event.ingested"].endswith("Z")
    event_ns = 1_796_083_200_000_000_000  # 2026-12-01T00:00:00Z
    assert doc["logtrace.lag_ms"] == (NOW - event_ns) // 1_000_000


def test_timing_without_a_readable_timestamp_sets_no_lag() -> None:
    doc = Timing(NOW)({"@timestamp": "yesterday"})
    assert "logtrace.lag_ms" not in doc and "event.ingested" in doc


def test_pipeline_ms() -> None:
    assert set_pipeline_ms({}, 1_000_000, 3_500_000)["logtrace.pipeline_ms"] == 2.5


def test_kafka_coords() -> None:
    doc = kafka_coords({}, Source("app-logs", 3, 42, 0, 1_796_000_000_123))
    assert doc == {
        "logtrace.kafka.topic": "app-logs",
        "logtrace.kafka.partition": 3,
        "logtrace.kafka.offset": 42,
        "logtrace.kafka.timestamp": "2026-11-30T00:53:20.123Z",
    }
    assert "logtrace.kafka.timestamp" not in kafka_coords({}, Source("t", 0, 0, 0, None))


def test_service_backfill_prefers_the_event_then_the_root_span_then_the_default() -> None:
    roots = RootServices(max_entries=2)
    roots.learn_from_spans(
        [
            {"trace.id": TRACE, "service.name": "frontend"},
            {"trace.id": "b" * 32, "service.name": "child", "parent.id": "1" * 16},
        ]
    )
    backfill = ServiceBackfill(roots)
    assert backfill({"trace.id": TRACE, "service.name": "own"}, "dflt")["service.name"] == "own"
    assert backfill({"trace.id": TRACE}, "dflt")["service.name"] == "frontend"
    assert backfill({"trace.id": "b" * 32}, "dflt")["service.name"] == "dflt"
    assert "service.name" not in backfill({}, None)
    assert backfill.backfilled == 1


def test_root_services_are_bounded() -> None:
    roots = RootServices(max_entries=2)
    for index in range(5):
        roots.learn(f"{index:032x}", f"s{index}")
    assert len(roots) == 2 and roots.get(f"{0:032x}") is None and roots.get(f"{4:032x}") == "s4"


def _item(doc: dict, doc_id: str = "id-1") -> Item:
    return Item(doc, "logs", "app", "default", doc_id, Source("web", 0, 1), b"raw")


def _rules(*rules: dict) -> TopicRules:
    return TopicRules(RawTopic.model_validate({"topic": "web", "rules": list(rules)}).rules)


def test_drop_rule_matches_values_lists_and_text() -> None:
    rules = _rules(
        {
            "name": "drop_health",
            "action": "drop",
            "when": {"url.path": ["/health", "/ready"], "http.response.status_code": "200"},
        }
    )
    assert rules(_item({"url.path": "/health", "http.response.status_code": 200})) is None
    assert rules(_item({"url.path": "/health", "http.response.status_code": 500})) is not None
    assert rules(_item({"url.path": "/cart", "http.response.status_code": 200})) is not None
    assert rules.drain() == {("drop_health", "dropped"): 1}


def test_sample_rule_is_deterministic_by_document_id() -> None:
    rules = _rules({"name": "half", "action": "sample", "rate": 0.5})
    kept = [rules(_item({}, f"id-{n}")) is not None for n in range(2000)]
    assert 850 < sum(kept) < 1150
    again = [rules(_item({}, f"id-{n}")) is not None for n in range(2000)]
    assert kept == again
    counts = rules.drain()
    assert counts[("half", "sampled_in")] + counts[("half", "sampled_out")] == 4000
    assert keep_sample("x", 1.0)


def test_rename_remove_and_set() -> None:
    rules = _rules(
        {"name": "tidy", "action": "rename", "fields": {"attributes.usr": "user.name", "absent": "x"}},
        {"name": "scrub", "action": "remove", "fields": ["attributes.password", "event.original"]},
        {
            "name": "route",
            "action": "set",
            "dataset": "payments",
            "namespace": "prod",
            "when": {"service.name": {"regex": "^pay"}},
        },
        {"name": "only_missing", "action": "drop", "when": {"user.name": {"exists": False}}},
    )
    item = rules(
        _item(
            {
                "service.name": "payment",
                "attributes": {"usr": "ann", "password": "pw", "k": 1},
                "event.original": "x",
            }
        )
    )
    assert item is not None
    assert item.doc == {"service.name": "payment", "attributes": {"k": 1}, "user.name": "ann"}
    assert (item.dataset, item.namespace) == ("payments", "prod")
    assert rules.drain() == {("tidy", "renamed"): 1, ("scrub", "removed"): 1, ("route", "set"): 1}


def _record(value: bytes, offset: int = 7) -> Record:
    return Record("web", 2, offset, 1_796_000_000_000, None, value)


def test_prepare_enriches_routes_projects_and_aggregates() -> None:
    spec = RawSpec("auto", "web", "prod", "edge", zone("UTC"))
    decoded = Decoded()
    line = (
        b'{"@timestamp":"2026-11-30T00:53:19.5Z","log.level":"error","message":"boom","trace.id":"'
        + TRACE.encode()
        + b'"}'
    )
    decoded.extend(decode_raw(_record(line), spec, now_ns=NOW))
    decoded.extend(
        decode_raw(
            _record(b'10.0.0.1 - - [30/Nov/2026:00:53:19 +0000] "GET /health HTTP/1.1" 200 2', offset=8),
            spec,
            now_ns=NOW,
        )
    )
    decoded.extend(decode_raw(_record(b"", offset=9), spec, now_ns=NOW))
    roots = RootServices()
    roots.learn(TRACE, "frontend")
    rules = {"web": _rules({"name": "drop_health", "action": "drop", "when": {"url.path": "/health"}})}
    out = prepare(
        decoded,
        now_ns=NOW,
        started_ns=NOW - 2_000_000,
        options=BatchOptions(10, 100),
        rules=rules,
        backfill=ServiceBackfill(roots),
    )
    assert len(out.pending) == 1 and len(out.dead) == 1 and out.dead[0].reason == "empty_record"
    pending = out.pending[0]
    assert pending.data_stream == "logs-logtrace.web-prod"
    doc = pending.doc
    assert doc["service.name"] == "frontend" and out.backfilled == 1
    assert doc["logtrace.kafka.offset"] == 7 and doc["logtrace.pipeline_ms"] == 2.0
    assert doc["event.ingested"] == ms_iso(NOW) and doc["logtrace.lag_ms"] > 0
    assert out.rule_effects == {("web", "drop_health", "dropped"): 1}
    assert out.problems == {"empty_record": 1}
    assert [p.trace_id for p in out.projections] == [TRACE]
    assert {p.key.metricset for p in out.partials} == {"log_levels"}
    assert sum(p.stats.count for p in out.partials) == 1


def test_topic_default_service_applies_without_backfill() -> None:
    spec = RawSpec("logfmt", "app", "default", "checkout", zone("UTC"))
    decoded = decode_raw(_record(b"level=info msg=hi"), spec, now_ns=NOW)
    out = prepare(decoded, now_ns=NOW, started_ns=NOW, options=BatchOptions(project=False))
    assert out.pending[0].doc["service.name"] == "checkout" and out.projections == []


@pytest.mark.parametrize("rate", [0.01, 0.3, 0.99])
def test_sample_rate_is_approximately_kept(rate: float) -> None:
    kept = sum(keep_sample(f"doc-{n}", rate) for n in range(20_000))
    assert abs(kept / 20_000 - rate) < 0.02


def test_redact_rule_masks_fields_and_the_dead_letter_bytes() -> None:
    rules = _rules(
        {
            "name": "cards",
            "action": "redact",
            "pattern": "[0-9]{13,16}",
            "fields": ["message", "attributes.card"],
        }
    )
    item = _item(
        {
            "message": "paid with 4111111111111111 and 5500000000000004",
            "attributes": {"card": "4111111111111111"},
        }
    )
    item.raw = b"paid with 4111111111111111 and 5500000000000004"
    out = rules(item)
    assert out is not None
    assert out.doc["message"] == "paid with [REDACTED] and [REDACTED]"
    assert out.doc["attributes"]["card"] == "[REDACTED]"
    assert out.raw == b"paid with [REDACTED] and [REDACTED]"
    assert rules.drain() == {("cards", "redacted"): 1} and rules.drain_redactions() == {"cards": 3}
    untouched = rules(_item({"message": "nothing secret"}))
    assert untouched is not None and untouched.doc["message"] == "nothing secret"
    assert rules.drain() == {} and rules.drain_redactions() == {}
