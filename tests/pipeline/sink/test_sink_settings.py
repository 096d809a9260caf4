"""Connection, sink and lifecycle settings: defaults, bounds, unknown keys, and no secret in any message."""

import pytest
from pydantic import ValidationError

from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.lifecycle import LifecycleSettings
from pipeline.config.sink import SinkSettings


def test_defaults() -> None:
    es, sink = ElasticsearchSettings(), SinkSettings()
    assert es.url == "http://127.0.0.1:9200" and es.api_key is None
    assert (sink.max_docs, sink.max_bytes, sink.max_concurrent_requests) == (2000, 5 * 1024 * 1024, 2)
    assert (sink.breaker_deadletter_ratio, sink.namespace, sink.deadletter_topic) == (
        0.5,
        "default",
        "logtrace.deadletter",
    )


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(ValidationError) as caught:
        ElasticsearchSettings(url="https://elastic:s3cr3t@es.example:9200")
    assert "s3cr3t" not in str(caught.value)


def test_secrets_never_appear_in_repr() -> None:
    settings = ElasticsearchSettings(api_key="c2VjcmV0OmtleQ==", username="u", password="p4ss")
    assert "c2VjcmV0" not in repr(settings) and "p4ss" not in repr(settings)


def test_username_needs_a_password() -> None:
    with pytest.raises(ValidationError, match="set together"):
        ElasticsearchSettings(username="elastic")


def test_unknown_keys_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        ElasticsearchSettings(urll="http://x:9200")
    with pytest.raises(ValidationError):
        SinkSettings(max_doc=1)


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGTRACE_SINK_MAX_DOCS", "500")
    monkeypatch.setenv("LOGTRACE_ES_URL", "http://127.0.0.1:9201/")
    assert SinkSettings().max_docs == 500 and ElasticsearchSettings().url == "http://127.0.0.1:9201"


@pytest.mark.parametrize(
    "field",
    [
        {"max_docs": 0},
        {"max_bytes": 10},
        {"max_concurrent_requests": 0},
        {"breaker_deadletter_ratio": 0},
        {"breaker_deadletter_ratio": 1.5},
        {"namespace": "a-b"},
        {"namespace": ""},
        {"deadletter_retention_days": 7},
        {"backoff_initial_s": 0},
    ],
)
def test_sink_bounds(field: dict) -> None:
    with pytest.raises(ValidationError):
        SinkSettings(**field)


def test_lifecycle_bounds() -> None:
    assert LifecycleSettings().retention_days("traces") == 7
    with pytest.raises(ValidationError):
        LifecycleSettings(deadletter_retention_days=13)
    with pytest.raises(ValidationError):
        LifecycleSettings(rollover_max_age="1 day")


async def test_client_uses_the_credentials() -> None:
    client = ElasticsearchSettings(api_key="aWQ6a2V5").client()
    try:
        assert client._headers["authorization"] == "ApiKey aWQ6a2V5"
    finally:
        await client.close()
