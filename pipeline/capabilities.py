"""Ask an Elasticsearch cluster which features it really has, instead of guessing from its version number.

The dev stack runs the minimal integ-test distribution (no ILM, no data-streams module, no mapper-extras,
no x-pack mapper plugins), so `logtrace setup` picks mappings and lifecycle handling from these answers.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.config.elasticsearch import ElasticsearchSettings

# Every index, template and data stream the probe creates starts with this (and is hidden where possible).
PROBE_PREFIX = "logtrace-capability-probe"
# Data stream the probe writes one document to; reused on every run because the minimal distribution has
# no API to delete a data stream again.
PROBE_DATA_STREAM = f"{PROBE_PREFIX}-ds"
# Priority of the probe's template: unusual, so it cannot collide with a real template on the same name.
_PROBE_TEMPLATE_PRIORITY = 987_654_321
MAPPER_TYPES = ("match_only_text", "flattened", "wildcard", "constant_keyword")


class CapabilityProbeError(Exception):
    """Elasticsearch could not be asked: unreachable, refused our credentials, or a server error."""


@dataclass(frozen=True)
class _Endpoint:
    """Where the probe sends its requests, with the same credentials and TLS trust as the client."""

    url: str
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # Authorization: secret
    context: ssl.SSLContext | None = None


def _endpoint(es_url: str, settings: ElasticsearchSettings | None) -> _Endpoint:
    """Credentials (API key, else basic auth) and CA / verification of `settings` as urllib wants them."""
    if settings is None:
        return _Endpoint(es_url.rstrip("/"))
    headers: dict[str, str] = {}
    if settings.api_key is not None:
        headers["Authorization"] = f"ApiKey {settings.api_key.get_secret_value()}"
    elif settings.username is not None and settings.password is not None:
        pair = f"{settings.username.get_secret_value()}:{settings.password.get_secret_value()}"
        headers["Authorization"] = f"Basic {base64.b64encode(pair.encode()).decode()}"
    context = None
    if es_url.startswith("https://"):
        context = ssl.create_default_context(cafile=str(settings.ca_certs) if settings.ca_certs else None)
        if not settings.verify_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
    return _Endpoint(es_url.rstrip("/"), headers, context)


def _request(
    es: _Endpoint,
    method: str,
    path: str,
    body: object = None,
    *,
    ndjson: bytes | None = None,
    timeout_s: float,
    forbidden_ok: bool = False,
) -> tuple[int, Any]:
    """One HTTP call; returns (status, decoded JSON body or None). 4xx is an answer, not an error,
    except 401/403: then nothing can be learnt, and guessing "not supported" would be wrong."""
    data = ndjson if ndjson is not None else (json.dumps(body).encode() if body is not None else None)
    content_type = "application/x-ndjson" if ndjson is not None else "application/json"
    request = urllib.request.Request(
        f"{es.url}{path}", data=data, method=method, headers={"Content-Type": content_type, **es.headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=es.context) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, _decode(exc.read())
    except OSError as exc:  # URLError, refused, timeout, TLS certificate verification
        reason = getattr(exc, "reason", exc)
        raise CapabilityProbeError(f"cannot reach Elasticsearch at {es.url}: {reason}") from None
    if status == 401:
        raise CapabilityProbeError(
            f"Elasticsearch at {es.url} refused the credentials (HTTP 401 on {method} {path}); check "
            "LOGTRACE_ES_API_KEY or LOGTRACE_ES_USERNAME/LOGTRACE_ES_PASSWORD"
        )
    if status == 403 and not forbidden_ok:
        raise CapabilityProbeError(
            f"{method} {path} is not allowed for these credentials (HTTP 403): {_error_reason(payload)}"
        )
    if status >= 500:
        raise CapabilityProbeError(f"{method} {path} failed with HTTP {status}: {str(payload)[:300]}")
    return status, payload


def _error_reason(payload: Any) -> str:
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return str(payload["error"].get("reason", ""))[:300]
    return str(payload)[:300]


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _answers_with(es: _Endpoint, path: str, key: str, timeout_s: float) -> bool:
    """True when GET `path` exists and returns an object with `key` (missing APIs answer 400/404/405).

    With security on, a node lacking the API may take the path for an index name and answer 403 "... on
    indices [<first path segment>]": that is a missing API too. Any other 403 is a missing privilege.
    """
    status, payload = _request(es, "GET", path, timeout_s=timeout_s, forbidden_ok=True)
    if status == 403:
        if f"on indices [{path.strip('/').split('/')[0]}]" in _error_reason(payload):
            return False
        raise CapabilityProbeError(
            f"GET {path} is not allowed for these credentials (HTTP 403): {_error_reason(payload)}"
        )
    return status == 200 and isinstance(payload, dict) and key in payload


def _error_type(payload: Any) -> str:
    return str(payload.get("error", {}).get("type", "")) if isinstance(payload, dict) else ""


def _mapper_type_supported(es: _Endpoint, field_type: str, timeout_s: float) -> bool:
    """Create (then delete) a hidden throwaway index with one field of `field_type`."""
    index = f"{PROBE_PREFIX}-{field_type.replace('_', '-')}"
    _request(es, "DELETE", f"/{index}", timeout_s=timeout_s)  # a leftover of an interrupted probe
    body = {
        "settings": {"index.hidden": True, "number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": {"probe": {"type": field_type}}},
    }
    status, payload = _request(es, "PUT", f"/{index}", body, timeout_s=timeout_s)
    if status == 200:
        _request(es, "DELETE", f"/{index}", timeout_s=timeout_s)
        return True
    if _error_type(payload) == "mapper_parsing_exception":
        return False
    raise CapabilityProbeError(f"creating probe index {index} answered HTTP {status}: {str(payload)[:300]}")


def _data_streams_auto_create(es: _Endpoint, can_delete: bool, timeout_s: float) -> bool:
    """Does a bulk `create` into a name matching a `data_stream: {}` template auto-create a data stream?"""
    template = {
        "index_patterns": [PROBE_DATA_STREAM],
        "data_stream": {},
        "priority": _PROBE_TEMPLATE_PRIORITY,
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {"properties": {"@timestamp": {"type": "date"}}},
        },
        "_meta": {"managed_by": "logtrace capability probe"},
    }
    template_path = f"/_index_template/{PROBE_DATA_STREAM}"
    status, _ = _request(es, "PUT", template_path, template, timeout_s=timeout_s)
    if status != 200:
        return False
    document = {"@timestamp": datetime.now(UTC).isoformat()}
    ndjson = b'{"create":{}}\n' + json.dumps(document).encode() + b"\n"
    status, payload = _request(es, "POST", f"/{PROBE_DATA_STREAM}/_bulk", ndjson=ndjson, timeout_s=timeout_s)
    items = payload.get("items", []) if status == 200 and isinstance(payload, dict) else []
    created = items[0].get("create", {}) if items else {}
    supported = created.get("status") == 201 and str(created.get("_index", "")).startswith(".ds-")
    if can_delete:
        _request(es, "DELETE", f"/_data_stream/{PROBE_DATA_STREAM}", timeout_s=timeout_s)
        _request(es, "DELETE", template_path, timeout_s=timeout_s)
    return supported


def probe_capabilities(
    es_url: str, timeout_s: float = 10.0, settings: ElasticsearchSettings | None = None
) -> dict[str, bool]:
    """Feature flags of the cluster at `es_url`, each found by trying it.

    `settings` supplies the credentials and CA (the same the worker and `setup` use); without them the
    requests are anonymous. CapabilityProbeError when the cluster cannot be reached (TLS verification
    included) or refuses the credentials or a probe request (401/403).

    Keys: `ilm` (ILM API), `data_streams` (bulk create auto-creates a data stream from a template),
    `data_stream_api` (GET/DELETE `_data_stream`: without it a data stream can never be deleted),
    `data_stream_lifecycle` (the lifecycle service that applies `lifecycle` retention), and one key per
    mapper type in MAPPER_TYPES. Leaves behind at most the data stream PROBE_DATA_STREAM and its template.
    """
    es = _endpoint(es_url, settings)
    data_stream_api = _answers_with(es, "/_data_stream", "data_streams", timeout_s)
    capabilities = {
        "ilm": _answers_with(es, "/_ilm/status", "operation_mode", timeout_s),
        "data_streams": _data_streams_auto_create(es, data_stream_api, timeout_s),
        "data_stream_api": data_stream_api,
        "data_stream_lifecycle": _answers_with(es, "/_lifecycle/stats", "data_stream_count", timeout_s),
    }
    for field_type in MAPPER_TYPES:
        capabilities[field_type] = _mapper_type_supported(es, field_type, timeout_s)
    return capabilities
