"""Ask an Elasticsearch cluster which features it really has, instead of guessing from its version number.

The dev stack runs the minimal integ-test distribution (no ILM, no data-streams module, no mapper-extras,
no x-pack mapper plugins), so `logtrace setup` picks mappings and lifecycle handling from these answers.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

# Every index, template and data stream the probe creates starts with this (and is hidden where possible).
PROBE_PREFIX = "logtrace-capability-probe"
# Data stream the probe writes one document to; reused on every run because the minimal distribution has
# no API to delete a data stream again.
PROBE_DATA_STREAM = f"{PROBE_PREFIX}-ds"
# Priority of the probe's template: unusual, so it cannot collide with a real template on the same name.
_PROBE_TEMPLATE_PRIORITY = 987_654_321
MAPPER_TYPES = ("match_only_text", "flattened", "wildcard", "constant_keyword")


class CapabilityProbeError(Exception):
    """Elasticsearch could not be asked: unreachable, or it answered with a server error."""


def _request(
    es_url: str, method: str, path: str, body: object = None, *, ndjson: bytes | None = None, timeout_s: float
) -> tuple[int, Any]:
    """One HTTP call; returns (status, decoded JSON body or None). 4xx is an answer, not an error."""
    data = ndjson if ndjson is not None else (json.dumps(body).encode() if body is not None else None)
    content_type = "application/x-ndjson" if ndjson is not None else "application/json"
    request = urllib.request.Request(
        f"{es_url.rstrip('/')}{path}", data=data, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, _decode(response.read())
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, _decode(exc.read())
    except OSError as exc:  # URLError, refused, timeout
        reason = getattr(exc, "reason", exc)
        raise CapabilityProbeError(f"cannot reach Elasticsearch at {es_url}: {reason}") from None
    if status >= 500:
        raise CapabilityProbeError(f"{method} {path} failed with HTTP {status}: {str(payload)[:300]}")
    return status, payload


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")


def _answers_with(es_url: str, path: str, key: str, timeout_s: float) -> bool:
    """True when GET `path` exists and returns an object with `key` (missing APIs answer 400/404/405)."""
    status, payload = _request(es_url, "GET", path, timeout_s=timeout_s)
    return status == 200 and isinstance(payload, dict) and key in payload


def _error_type(payload: Any) -> str:
    return str(payload.get("error", {}).get("type", "")) if isinstance(payload, dict) else ""


def _mapper_type_supported(es_url: str, field_type: str, timeout_s: float) -> bool:
    """Create (then delete) a hidden throwaway index with one field of `field_type`."""
    index = f"{PROBE_PREFIX}-{field_type.replace('_', '-')}"
    _request(es_url, "DELETE", f"/{index}", timeout_s=timeout_s)  # a leftover of an interrupted probe
    body = {
        "settings": {"index.hidden": True, "number_of_shards": 1, "number_of_replicas": 0},
        "mappings": {"properties": {"probe": {"type": field_type}}},
    }
    status, payload = _request(es_url, "PUT", f"/{index}", body, timeout_s=timeout_s)
    if status == 200:
        _request(es_url, "DELETE", f"/{index}", timeout_s=timeout_s)
        return True
    if _error_type(payload) == "mapper_parsing_exception":
        return False
    raise CapabilityProbeError(f"creating probe index {index} answered HTTP {status}: {str(payload)[:300]}")


def _data_streams_auto_create(es_url: str, can_delete: bool, timeout_s: float) -> bool:
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
    status, _ = _request(es_url, "PUT", template_path, template, timeout_s=timeout_s)
    if status != 200:
        return False
    document = {"@timestamp": datetime.now(UTC).isoformat()}
    ndjson = b'{"create":{}}\n' + json.dumps(document).encode() + b"\n"
    status, payload = _request(
        es_url, "POST", f"/{PROBE_DATA_STREAM}/_bulk", ndjson=ndjson, timeout_s=timeout_s
    )
    items = payload.get("items", []) if status == 200 and isinstance(payload, dict) else []
    created = items[0].get("create", {}) if items else {}
    supported = created.get("status") == 201 and str(created.get("_index", "")).startswith(".ds-")
    if can_delete:
        _request(es_url, "DELETE", f"/_data_stream/{PROBE_DATA_STREAM}", timeout_s=timeout_s)
        _request(es_url, "DELETE", template_path, timeout_s=timeout_s)
    return supported


def probe_capabilities(es_url: str, timeout_s: float = 10.0) -> dict[str, bool]:
    """Feature flags of the cluster at `es_url`, each found by trying it.

    Keys: `ilm` (ILM API), `data_streams` (bulk create auto-creates a data stream from a template),
    `data_stream_api` (GET/DELETE `_data_stream`: without it a data stream can never be deleted),
    `data_stream_lifecycle` (the lifecycle service that applies `lifecycle` retention), and one key per
    mapper type in MAPPER_TYPES. Leaves behind at most the data stream PROBE_DATA_STREAM and its template.
    """
    data_stream_api = _answers_with(es_url, "/_data_stream", "data_streams", timeout_s)
    capabilities = {
        "ilm": _answers_with(es_url, "/_ilm/status", "operation_mode", timeout_s),
        "data_streams": _data_streams_auto_create(es_url, data_stream_api, timeout_s),
        "data_stream_api": data_stream_api,
        "data_stream_lifecycle": _answers_with(es_url, "/_lifecycle/stats", "data_stream_count", timeout_s),
    }
    for field_type in MAPPER_TYPES:
        capabilities[field_type] = _mapper_type_supported(es_url, field_type, timeout_s)
    return capabilities
