"""Import the bundle through Kibana's saved objects import API and report what happened to each object.

`POST <kibana>[/s/<space>]/api/saved_objects/_import?overwrite=true`, header `kbn-xsrf: true`, body
`multipart/form-data` with the NDJSON as the `file` part (Kibana requires the `.ndjson` file name).
With `overwrite=true` a re-import replaces the objects by id, so running it again is harmless.
Kibana answers 200 with `success`, `successCount`, `successResults[]` and `errors[]` (one entry per
object that failed: `error.type` conflict, ambiguous_conflict, missing_references, unsupported_type or
unknown), or 4xx/5xx with `{"statusCode", "error", "message"}` when the request itself was refused.
"""

import base64
import json
import secrets
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from pipeline.kibana.bundle import SavedObject
from pipeline.kibana.settings import KibanaSettings

BUNDLE_FILENAME = "logtrace.ndjson"
# Kibana answers 503 while it starts ("Kibana server is not ready yet"): worth waiting for.
_RETRY_STATUSES = frozenset({502, 503, 504})
_RETRY_PAUSE_S = 2.0


class KibanaImportError(Exception):
    """The import request failed as a whole: Kibana unreachable, or the request refused."""


@dataclass(frozen=True, slots=True)
class ObjectResult:
    """What Kibana did with one object of the bundle."""

    type: str
    id: str
    title: str
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class ImportReport:
    """Kibana's answer, object by object in bundle order."""

    success: bool
    results: list[ObjectResult]
    warnings: list[str]

    @property
    def failed(self) -> list[ObjectResult]:
        return [result for result in self.results if not result.ok]


def import_url(settings: KibanaSettings) -> str:
    """The import endpoint of the configured Kibana and space, with overwrite on."""
    space = f"/s/{quote(settings.space, safe='')}" if settings.space else ""
    return f"{settings.url}{space}/api/saved_objects/_import?overwrite=true"


def multipart_body(ndjson: bytes, boundary: str) -> bytes:
    """A `multipart/form-data` body with one part, `file`, holding the bundle."""
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{BUNDLE_FILENAME}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    )
    return head.encode() + ndjson + f"\r\n--{boundary}--\r\n".encode()


def _headers(settings: KibanaSettings, boundary: str) -> dict[str, str]:
    headers = {"kbn-xsrf": "true", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    if settings.api_key is not None:
        headers["Authorization"] = f"ApiKey {settings.api_key.get_secret_value()}"
    elif settings.username is not None and settings.password is not None:
        pair = f"{settings.username.get_secret_value()}:{settings.password.get_secret_value()}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    return headers


def _ssl_context(settings: KibanaSettings) -> ssl.SSLContext | None:
    if not settings.url.startswith("https://"):
        return None
    context = ssl.create_default_context(cafile=str(settings.ca_certs) if settings.ca_certs else None)
    if not settings.verify_certs:  # an explicit opt-out, for throwaway test stacks
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _refusal(status: int, raw: bytes) -> str:
    """Kibana's own words for a refused request: `message` of its error body, else the start of the body."""
    try:
        payload = json.loads(raw)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and payload.get("message"):
        return f"HTTP {status} {payload.get('error', '')}: {payload['message']}".replace(" :", ":")
    return f"HTTP {status}: {raw[:300].decode(errors='replace')}"


def post_bundle(settings: KibanaSettings, ndjson: bytes, *, wait_s: float = 0.0) -> dict[str, Any]:
    """POST the bundle; Kibana's JSON answer. While Kibana is unreachable or starting, retry for `wait_s`."""
    boundary = "logtrace-" + secrets.token_hex(16)
    request = urllib.request.Request(
        import_url(settings), data=multipart_body(ndjson, boundary), method="POST",
        headers=_headers(settings, boundary),
    )
    deadline = time.monotonic() + wait_s
    while True:
        try:
            with urllib.request.urlopen(
                request, timeout=settings.request_timeout_s, context=_ssl_context(settings)
            ) as response:
                raw = response.read()
            break
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            if exc.code not in _RETRY_STATUSES or time.monotonic() >= deadline:
                raise KibanaImportError(_refusal(exc.code, raw)) from None
        except OSError as exc:  # refused, unreachable, timeout, TLS
            if time.monotonic() >= deadline:
                reason = getattr(exc, "reason", exc)
                raise KibanaImportError(f"cannot reach Kibana at {settings.url}: {reason}") from None
        time.sleep(_RETRY_PAUSE_S)
    try:
        answer = json.loads(raw)
    except ValueError:
        raise KibanaImportError(f"Kibana answered with something that is not JSON: {raw[:200]!r}") from None
    if not isinstance(answer, dict) or "success" not in answer:
        raise KibanaImportError(f"unexpected answer from the import API: {str(answer)[:300]}")
    return answer


def describe_error(error: dict[str, Any]) -> str:
    """One line for one `errors[].error` entry of the import API."""
    kind = error.get("type", "unknown")
    if kind == "missing_references":
        missing = ", ".join(f"{ref.get('type')}:{ref.get('id')}" for ref in error.get("references", []))
        return f"missing references: {missing}"
    if kind == "conflict":
        target = error.get("destinationId")
        return "conflict with an existing object" + (f" {target}" if target else "")
    if kind == "ambiguous_conflict":
        ids = ", ".join(str(dest.get("id")) for dest in error.get("destinations", []))
        return f"ambiguous conflict with {ids}"
    if kind == "unsupported_type":
        return "unsupported type (this Kibana does not know it)"
    message = error.get("message")
    status = error.get("statusCode")
    return f"{kind}" + (f" (HTTP {status})" if status else "") + (f": {message}" if message else "")


def report(answer: dict[str, Any], objects: list[SavedObject]) -> ImportReport:
    """Match Kibana's answer to the bundle's objects; an object it does not mention counts as failed."""
    done = {(entry.get("type"), entry.get("id")): entry for entry in answer.get("successResults", [])}
    errors: dict[tuple[str, str], list[str]] = {}
    for entry in answer.get("errors", []):
        key = (entry.get("type"), entry.get("id"))
        errors.setdefault(key, []).append(describe_error(entry.get("error", {})))
    results = []
    for obj in objects:
        key = (obj["type"], obj["id"])
        title = obj["attributes"].get("title", "")
        if key in errors:
            results.append(ObjectResult(obj["type"], obj["id"], title, "; ".join(errors[key])))
        elif key in done:
            results.append(ObjectResult(obj["type"], obj["id"], title, None))
        else:
            results.append(ObjectResult(obj["type"], obj["id"], title, "not in Kibana's answer"))
    warnings = [str(warning.get("message", warning)) for warning in answer.get("warnings", [])]
    return ImportReport(bool(answer.get("success")) and not any(errors.values()), results, warnings)
