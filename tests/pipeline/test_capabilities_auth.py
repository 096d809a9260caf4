"""The capability probe authenticates like the client (API key, else basic auth) and trusts the same CA."""

from __future__ import annotations

import base64
import ssl

from pipeline.capabilities import _endpoint
from pipeline.config.elasticsearch import ElasticsearchSettings


def test_without_settings_the_probe_is_anonymous() -> None:
    endpoint = _endpoint("http://127.0.0.1:9200/", None)
    assert endpoint.url == "http://127.0.0.1:9200" and endpoint.headers == {} and endpoint.context is None


def test_api_key_wins_over_basic_auth() -> None:
    settings = ElasticsearchSettings(
        url="https://es.example:9200", api_key="a2V5", username="u", password="p", _env_file=None
    )
    endpoint = _endpoint(settings.url, settings)
    assert endpoint.headers == {"Authorization": "ApiKey a2V5"}
    assert isinstance(endpoint.context, ssl.SSLContext) and endpoint.context.verify_mode == ssl.CERT_REQUIRED
    assert "a2V5" not in repr(endpoint)


def test_basic_auth_and_unverified_tls() -> None:
    settings = ElasticsearchSettings(
        url="https://es.example:9200", username="u", password="p", verify_certs=False, _env_file=None
    )
    endpoint = _endpoint(settings.url, settings)
    assert endpoint.headers == {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    assert endpoint.context is not None and endpoint.context.verify_mode == ssl.CERT_NONE


def test_plain_http_has_no_tls_context() -> None:
    settings = ElasticsearchSettings(url="http://127.0.0.1:9200", username="u", password="p", _env_file=None)
    assert _endpoint(settings.url, settings).context is None
