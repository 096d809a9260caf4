"""A local HTTP server that plays Kibana's saved objects import API and records every request.

It answers with the shapes Kibana documents for `POST [/s/<space>]/api/saved_objects/_import`:
200 `{success, successCount, successResults[], errors[], warnings[]}` with per-object errors
(`conflict` without overwrite, `missing_references`, `unsupported_type`, `unknown`), and
`{statusCode, error, message}` for refused requests (400 without `kbn-xsrf`, 401 without the right
credentials, 415 for a file that is not `.ndjson`, 503 while "starting"). Objects are kept per space,
so importing twice shows what overwrite does.
"""

import json
import threading
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

IMPORT_PATH = "/api/saved_objects/_import"
KNOWN_TYPES = frozenset({"index-pattern", "search", "lens", "dashboard", "visualization", "tag"})
ICONS = {"index-pattern": "indexPatternApp", "search": "discoverApp", "lens": "lensApp",
         "dashboard": "dashboardApp"}


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    parts: list[dict[str, Any]]


@dataclass
class FakeKibana:
    """Server state and knobs; `url` once started."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    # space id ("default") -> {(type, id): object}
    stored: dict[str, dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    # Authorization header value required (None = no security).
    authorization: str | None = None
    # Answer 503 to this many requests first (Kibana starting).
    unavailable: int = 0
    # Per-object errors to report regardless of content: (type, id) -> error entry.
    forced_errors: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def objects(self, space: str = "default") -> dict[tuple[str, str], dict[str, Any]]:
        return self.stored.setdefault(space, {})


def _parts(content_type: str, body: bytes) -> list[dict[str, Any]]:
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if not message.is_multipart():
        return []
    return [
        {
            "name": part.get_param("name", header="content-disposition"),
            "filename": part.get_filename(),
            "content_type": part.get_content_type(),
            "content": part.get_payload(decode=True),
        }
        for part in message.iter_parts()
    ]


def _import(kibana: FakeKibana, space: str, overwrite: bool, ndjson: bytes) -> dict[str, Any]:
    """What Kibana answers to one import: per-object success or error, documented shapes."""
    objects = [json.loads(line) for line in ndjson.decode().splitlines() if line.strip()]
    store = kibana.objects(space)
    in_file = {(obj["type"], obj["id"]) for obj in objects}
    results, errors = [], []
    for obj in objects:
        key = (obj["type"], obj["id"])
        meta = {"icon": ICONS.get(obj["type"], "apps"), "title": obj["attributes"].get("title", "")}
        error = kibana.forced_errors.get(key)
        if error is None and obj["type"] not in KNOWN_TYPES:
            error = {"type": "unsupported_type"}
        if error is None:
            missing = [{"type": ref["type"], "id": ref["id"]} for ref in obj.get("references", [])
                       if (ref["type"], ref["id"]) not in in_file | set(store)]
            if missing:
                error = {"type": "missing_references", "references": missing}
        if error is None and key in store and not overwrite:
            error = {"type": "conflict"}
        if error is not None:
            errors.append({"id": obj["id"], "type": obj["type"], "title": meta["title"], "meta": meta,
                           "error": error})
            continue
        result = {"id": obj["id"], "type": obj["type"], "meta": meta}
        if key in store:
            result["overwrite"] = True
        store[key] = obj
        results.append(result)
    answer: dict[str, Any] = {"success": not errors, "successCount": len(results), "successResults": results,
                              "warnings": []}
    if errors:
        answer["errors"] = errors
    return answer


def _handler(kibana: FakeKibana) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, payload: object) -> None:
            text = isinstance(payload, bytes)
            body = payload if text else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _refuse(self, status: int, error: str, message: str) -> None:
            self._send(status, {"statusCode": status, "error": error, "message": message})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = _parts(self.headers.get("Content-Type", ""), body)
            kibana.requests.append(Recorded("POST", url.path, parse_qs(url.query),
                                            {k.lower(): v for k, v in self.headers.items()}, parts))
            if kibana.unavailable > 0:
                kibana.unavailable -= 1
                self._send(503, b"Kibana server is not ready yet")
                return
            space, _, rest = url.path.removeprefix("/s/").partition("/") if url.path.startswith("/s/") \
                else ("default", "", url.path.lstrip("/"))
            if "/" + rest != IMPORT_PATH:
                self._refuse(404, "Not Found", "Not Found")
            elif self.headers.get("kbn-xsrf") is None:
                self._refuse(400, "Bad Request", "Request must contain a kbn-xsrf header.")
            elif kibana.authorization not in (None, self.headers.get("Authorization")):
                self._refuse(401, "Unauthorized",
                             "[security_exception]: missing authentication credentials for REST request")
            elif not parts or parts[0]["name"] != "file":
                self._refuse(400, "Bad Request", "[request body.file]: expected value of type [Stream]")
            elif not (parts[0]["filename"] or "").endswith(".ndjson"):
                self._refuse(415, "Unsupported Media Type", "Unsupported file extension .json")
            else:
                overwrite = parse_qs(url.query).get("overwrite") == ["true"]
                self._send(200, _import(kibana, space, overwrite, parts[0]["content"]))

    return Handler


class Server:
    """Runs a FakeKibana on 127.0.0.1 in a thread (a context manager)."""

    def __init__(self, kibana: FakeKibana) -> None:
        self.kibana = kibana
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(kibana))
        kibana.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)

    def __enter__(self) -> FakeKibana:
        self._thread.start()
        return self.kibana

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
