"""WorkerSettings and KafkaSettings: both env forms of the topic list, defaults, and clear errors."""

import pytest
from pydantic import ValidationError

from pipeline.config.kafka import KafkaSettings
from pipeline.config.worker import WorkerSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("LOGTRACE_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = WorkerSettings()
    assert [t.topic for t in settings.raw_topics] == ["app-logs"]
    assert settings.otlp_spans_topic == "otlp_spans" and settings.otlp_logs_topic == "otlp_logs"
    assert settings.trace_idle_s == 30 and settings.metric_window_s == 10
    assert (settings.web_host, settings.web_port) == ("127.0.0.1", 6066)
    assert settings.partition_traces_by_id is False
    assert settings.raw_topics[0].patterns is False and settings.otlp_logs_patterns is False
    assert (settings.pattern_max_templates, settings.pattern_sim_th) == (1000, 0.5)


def test_patterns_per_raw_topic_and_for_otlp_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LOGTRACE_RAW_TOPICS",
        '[{"topic": "app-logs", "patterns": true}, {"topic": "nginx", "format": "access"}]',
    )
    monkeypatch.setenv("LOGTRACE_OTLP_LOGS_PATTERNS", "true")
    monkeypatch.setenv("LOGTRACE_PATTERN_MAX_TEMPLATES", "50")
    monkeypatch.setenv("LOGTRACE_PATTERN_SIM_TH", "0.7")
    settings = WorkerSettings()
    assert [(t.topic, t.patterns) for t in settings.raw_topics] == [("app-logs", True), ("nginx", False)]
    assert settings.otlp_logs_patterns is True
    assert (settings.pattern_max_templates, settings.pattern_sim_th) == (50, 0.7)


def test_otlp_logs_patterns_need_an_otlp_log_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACE_OTLP_LOGS_TOPIC", "")
    monkeypatch.setenv("LOGTRACE_OTLP_LOGS_PATTERNS", "true")
    with pytest.raises(ValidationError, match="needs an OTLP log topic"):
        WorkerSettings()


def test_short_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACE_RAW_TOPICS", "app-logs:auto:app:checkout, nginx:access:nginx")
    topics = WorkerSettings().raw_topics
    assert [(t.topic, t.format, t.dataset, t.service) for t in topics] == [
        ("app-logs", "auto", "app", "checkout"),
        ("nginx", "access", "nginx", None),
    ]


def test_json_form_with_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LOGTRACE_RAW_TOPICS",
        """[{"topic": "web", "format": "access", "tz": "Europe/Paris",
        "namespace": "prod", "rules": [
          {"name": "drop_health", "action": "drop", "when": {"url.path": ["/health", "/ready"]}},
          {"name": "sample", "action": "sample", "rate": 0.5, "when": {"log.level": {"regex": "^debug$"}}},
          {"name": "route", "action": "set", "dataset": "edge", "when": {"x": {"exists": true}}}]}]""",
    )
    (topic,) = WorkerSettings().raw_topics
    assert topic.tz == "Europe/Paris" and topic.namespace == "prod"
    assert [rule.action for rule in topic.rules] == ["drop", "sample", "set"]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LOGTRACE_RAW_TOPICS", "[{not json", "not valid JSON"),
        ("LOGTRACE_RAW_TOPICS", '[{"topic": "a", "format": "xml"}]', "format"),
        ("LOGTRACE_RAW_TOPICS", '[{"topic": "a", "tz": "Mars/Olympus"}]', "unknown time zone"),
        ("LOGTRACE_RAW_TOPICS", '[{"topic": "a", "colour": "red"}]', "Extra inputs"),
        (
            "LOGTRACE_RAW_TOPICS",
            '[{"topic": "a", "rules": [{"name": "s", "action": "sample"}]}]',
            "needs 'rate'",
        ),
        (
            "LOGTRACE_RAW_TOPICS",
            '[{"topic": "a", "rules": [{"name": "r", "action": "drop", "when": {"f": {"regex": "("}}}]}]',
            "invalid regex",
        ),
        ("LOGTRACE_RAW_TOPICS", "otlp_spans", "configured twice"),
        ("LOGTRACE_BATCH_MAX_RECORDS", "0", "greater than or equal to 1"),
        ("LOGTRACE_TRACE_IDLE_S", "-1", "greater than 0"),
        ("LOGTRACE_WEB_PORT", "70000", "less than or equal"),
        ("LOGTRACE_RAW_TOPICS", '[{"topic": "a", "patterns": "maybe"}]', "valid boolean"),
        ("LOGTRACE_PATTERN_MAX_TEMPLATES", "0", "greater than or equal to 1"),
        ("LOGTRACE_PATTERN_SIM_TH", "0", "greater than 0"),
        ("LOGTRACE_PATTERN_SIM_TH", "1.5", "less than or equal to 1"),
    ],
)
def test_bad_values_are_named(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=message):
        WorkerSettings()


def test_nothing_to_consume(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGTRACE_RAW_TOPICS", "LOGTRACE_OTLP_SPANS_TOPIC", "LOGTRACE_OTLP_LOGS_TOPIC"):
        monkeypatch.setenv(name, "")
    with pytest.raises(ValidationError, match="no topic to consume"):
        WorkerSettings()


def test_kafka_sasl_needs_credentials_and_never_shows_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACE_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValidationError, match="needs LOGTRACE_KAFKA_USERNAME"):
        KafkaSettings()
    monkeypatch.setenv("LOGTRACE_KAFKA_USERNAME", "svc")
    monkeypatch.setenv("LOGTRACE_KAFKA_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("LOGTRACE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    settings = KafkaSettings()
    kwargs = settings.aiokafka_kwargs()
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512" and kwargs["sasl_plain_password"] == "hunter2-secret"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings.describe())
    credentials = settings.faust_credentials()
    assert credentials.mechanism.value == "SCRAM-SHA-512" and "hunter2" not in repr(credentials)


def test_kafka_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACE_KAFKA_BOOTSTRAP_SERVERS", "localhost")
    with pytest.raises(ValidationError, match="not host:port"):
        KafkaSettings()
    monkeypatch.setenv("LOGTRACE_KAFKA_BOOTSTRAP_SERVERS", "a:1,b:2")
    monkeypatch.setenv("LOGTRACE_KAFKA_CA_FILE", "/nonexistent/ca.pem")
    with pytest.raises(ValidationError, match="needs security protocol SSL"):
        KafkaSettings()
    monkeypatch.setenv("LOGTRACE_KAFKA_SECURITY_PROTOCOL", "SSL")
    with pytest.raises(ValidationError, match="no such file"):
        KafkaSettings()


def test_kafka_plaintext_kwargs() -> None:
    kwargs = KafkaSettings().aiokafka_kwargs()
    assert kwargs["bootstrap_servers"] == ["127.0.0.1:9092"] and kwargs["security_protocol"] == "PLAINTEXT"
    assert KafkaSettings().faust_credentials() is None


def test_redact_rule_needs_a_valid_pattern(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "LOGTRACE_RAW_TOPICS", '[{"topic": "a", "rules": [{"name": "r", "action": "redact"}]}]'
    )
    with pytest.raises(ValidationError, match="needs 'pattern'"):
        WorkerSettings()
    monkeypatch.setenv(
        "LOGTRACE_RAW_TOPICS",
        '[{"topic": "a", "rules": [{"name": "r", "action": "redact", "pattern": "(("}]}]',
    )
    with pytest.raises(ValidationError, match="invalid pattern"):
        WorkerSettings()
    monkeypatch.setenv(
        "LOGTRACE_RAW_TOPICS", '[{"topic": "a", "rules": [{"name": "r", "action": "drop", "pattern": "x"}]}]'
    )
    with pytest.raises(ValidationError, match="only applies to redact"):
        WorkerSettings()


def test_unknown_worker_variables_are_named_with_a_suggestion() -> None:
    from pipeline.cli.worker import unknown_variables
    from pipeline.config.sink import SinkSettings

    environ = {
        "LOGTRACE_TRACE_IDEL_S": "3",
        "LOGTRACE_KAFKA_BOOTSTRAP": "x",
        "LOGTRACE_TRACE_IDLE_S": "3",
        "LOGTRACE_DEV_STATE_DIR": "/x",
        "LOGTRACE_SINK_NAMESPACE": "a",
        "PATH": "/bin",
    }
    problems = unknown_variables(
        environ,
        [(WorkerSettings, "LOGTRACE_"), (KafkaSettings, "LOGTRACE_KAFKA_"), (SinkSettings, "LOGTRACE_SINK_")],
    )
    assert problems == [
        "  LOGTRACE_KAFKA_BOOTSTRAP: unknown variable (did you mean LOGTRACE_KAFKA_BOOTSTRAP_SERVERS?)",
        "  LOGTRACE_TRACE_IDEL_S: unknown variable (did you mean LOGTRACE_TRACE_IDLE_S?)",
    ]
