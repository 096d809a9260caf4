"""The shared HTTP endpoint settings, checked through both of its users (Elasticsearch and Kibana)."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.endpoint import HttpEndpointSettings
from pipeline.kibana.settings import KibanaSettings

USERS = [(ElasticsearchSettings, "LOGTRACE_ES_"), (KibanaSettings, "LOGTRACE_KIBANA_")]


@pytest.mark.parametrize(("settings", "prefix"), USERS)
def test_credentials_in_the_url_are_refused_without_echoing_them(
    settings: type[HttpEndpointSettings], prefix: str
) -> None:
    """A URL with a password is an error that names the right variable and never shows the password."""
    with pytest.raises(ValidationError) as caught:
        settings(url="https://user:hunter2secret@example.test:9200")
    assert f"{prefix}API_KEY" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)


@pytest.mark.parametrize(("settings", "prefix"), USERS)
def test_username_needs_password(settings: type[HttpEndpointSettings], prefix: str) -> None:
    """Basic auth is both halves or neither, and the error names this component's variables."""
    with pytest.raises(ValidationError, match=f"{prefix}USERNAME and {prefix}PASSWORD"):
        settings(username="elastic")


@pytest.mark.parametrize(("settings", "prefix"), USERS)
def test_missing_ca_bundle_is_a_start_up_error(
    settings: type[HttpEndpointSettings], prefix: str, tmp_path: Path
) -> None:
    """A CA bundle path that does not exist fails at start-up, not at the first TLS handshake."""
    with pytest.raises(ValidationError, match=f"{prefix}CA_CERTS: no such file"):
        settings(ca_certs=tmp_path / "absent.pem")


@pytest.mark.parametrize(("settings", "prefix"), USERS)
def test_secrets_stay_out_of_the_repr(settings: type[HttpEndpointSettings], prefix: str) -> None:
    """Printing the settings never prints the API key or the password."""
    configured = settings(api_key="c2VjcmV0LWtleQ==", username="u", password="pw-secret-1")
    assert "c2VjcmV0LWtleQ==" not in repr(configured)
    assert "pw-secret-1" not in repr(configured)


def test_the_defaults_differ_per_endpoint() -> None:
    """Each user keeps its own default URL and timeout."""
    assert ElasticsearchSettings().url == "http://127.0.0.1:9200"
    assert KibanaSettings().url == "http://127.0.0.1:5601"
    assert KibanaSettings().request_timeout_s > ElasticsearchSettings().request_timeout_s
