"""Pattern mining in batch preparation: fields on mined logs, new-pattern events, counts, off by default."""

from pipeline.config.worker import RawTopic
from pipeline.enrich.batch import BatchOptions, prepare
from pipeline.enrich.patterns import PatternStep
from pipeline.enrich.rules import TopicRules
from pipeline.metrics.keys import LOG_PATTERNS, MetricKey
from pipeline.patterns import PatternConfig, PatternMiner, new_pattern_doc_id
from pipeline.records import Decoded, Item, RawSpec, Record, decode_raw, zone
from pipeline.sink.items import Source

NOW = 1_796_000_000_123_456_789
SPEC = RawSpec("logfmt", "web", "prod", "edge", zone("UTC"))
LINES = [
    b'level=warn msg="Connection to 10.0.0.7 refused after 3 retries"',
    b'level=info msg="User 1001 logged in from 10.1.2.3"',
    b'level=warn msg="Connection to 10.0.0.9 refused after 5 retries"',
    b'level=info msg="User 1002 logged in from 10.1.2.4"',
]


def _decoded(lines: list[bytes], topic: str = "web", first_offset: int = 0) -> Decoded:
    decoded = Decoded()
    for offset, line in enumerate(lines, first_offset):
        decoded.extend(decode_raw(Record(topic, 0, offset, 1_796_000_000_000, None, line), SPEC, now_ns=NOW))
    return decoded


def _step(*topics: str) -> PatternStep:
    return PatternStep(PatternMiner(PatternConfig()), topics)


def _run(decoded: Decoded, step: PatternStep | None, **kwargs):
    return prepare(
        decoded, now_ns=NOW, started_ns=NOW, options=BatchOptions(project=False), patterns=step, **kwargs
    )


def test_mined_logs_get_pattern_fields_and_one_new_pattern_event() -> None:
    out = _run(_decoded(LINES), _step("web"))
    logs = [p for p in out.pending if p.data_stream == "logs-logtrace.web-prod"]
    events = [p for p in out.pending if p.data_stream == "logs-logtrace.patterns-prod"]
    assert len(logs) == 4 and len(events) == 1
    docs = [p.doc for p in logs]
    assert all({"log.pattern.id", "log.pattern.template"} <= doc.keys() for doc in docs)
    assert docs[0]["log.pattern.id"] == docs[2]["log.pattern.id"] != docs[1]["log.pattern.id"]
    assert docs[1]["log.pattern.id"] == docs[3]["log.pattern.id"]
    assert "<IP>" in docs[0]["log.pattern.template"] and "10.0.0.9" in docs[2]["log.pattern.params"]
    (event,) = events
    assert event.doc["event.kind"] == "alert" and event.doc["log.level"] == "warn"
    assert event.doc["log.pattern.id"] == docs[0]["log.pattern.id"]
    assert event.doc["service.name"] == "edge" and event.raw is None and event.source == logs[0].source
    # The metric partials count the mined logs per pattern.
    patterns = {p.key: p.stats.count for p in out.partials if p.key.metricset == LOG_PATTERNS}
    assert sorted(patterns.values()) == [2, 2]


def test_a_template_raises_its_event_once_across_batches() -> None:
    step = _step("web")
    first = _run(_decoded(LINES[:1]), step)
    again = _run(_decoded(LINES[2:3], first_offset=2), step)
    (event,) = [p for p in first.pending if p.data_stream == "logs-logtrace.patterns-prod"]
    assert len(again.pending) == 1 and "log.pattern.id" in again.pending[0].doc
    assert again.pending[0].doc["log.pattern.id"] == event.doc["log.pattern.id"]
    # Another worker raising the same event writes the same document id (Elasticsearch keeps one).
    other = _run(_decoded(LINES[:1]), _step("web"))
    assert [p.doc_id for p in other.pending if p.data_stream == event.data_stream] == [event.doc_id]
    assert event.doc_id != new_pattern_doc_id(step.miner.mine("another line", "x"))


def test_counts_lines_new_patterns_and_evictions() -> None:
    step = PatternStep(PatternMiner(PatternConfig(max_templates=1)), ["web"])
    out = _run(_decoded(LINES), step)
    counts = out.patterns
    # Evicted, the warn template is new again when it comes back, and raises its event again.
    assert counts.new == {"warn": 2}
    assert sum(counts.lines.values()) == 4
    assert all(key.metricset == LOG_PATTERNS and key.labels[0] == "edge" for key in counts.lines)
    assert {key.labels[2] for key in counts.lines} == {"warn", "info"}
    # One template per key: each switch between the two templates evicts the other.
    assert counts.evicted == 3
    assert isinstance(next(iter(counts.lines)), MetricKey)


def test_off_by_default_and_for_other_topics() -> None:
    for out in (_run(_decoded(LINES), None), _run(_decoded(LINES), _step("other-topic"))):
        assert len(out.pending) == 4
        assert not any(name.startswith("log.pattern.") for p in out.pending for name in p.doc)
        assert out.patterns.lines == {} and out.patterns.new == {}
        assert all(p.key.metricset != LOG_PATTERNS for p in out.partials)


def test_logs_dropped_by_rules_and_spans_are_not_mined() -> None:
    rules = {
        "web": TopicRules(
            RawTopic.model_validate(
                {
                    "topic": "web",
                    "rules": [{"name": "no_warn", "action": "drop", "when": {"log.level": "warn"}}],
                }
            ).rules
        )
    }
    step = _step("web")
    out = _run(_decoded(LINES), step, rules=rules)
    assert len(out.pending) == 2 and out.patterns.new == {}
    assert all("log.pattern.id" in p.doc for p in out.pending)
    span_doc = {"message": "GET /x", "trace.id": "a" * 32}
    span = Item(span_doc, "traces", "app", "prod", "s1", Source("web", 0, 9), b"")
    decoded = Decoded(items=[span])
    assert "log.pattern.id" not in _run(decoded, step).pending[0].doc
