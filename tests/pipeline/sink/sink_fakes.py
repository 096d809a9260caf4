"""Test doubles for the sink: a scripted Elasticsearch `bulk()` and a recording dead-letter writer."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError, ConnectionError

from pipeline.sink.items import DeadLetter, Pending, Source
from pipeline.sink.routing import data_stream

STREAM = data_stream("logs", "unit", "test")
# Answers a bulk request given its documents (decoded) -> a response body, or raises.
Script = Callable[[list[dict[str, Any]]], dict[str, Any]]


def api_error(status: int, error_type: str = "some_exception", reason: str = "because") -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "127.0.0.1", 9200))
    return ApiError(error_type, meta, {"error": {"type": error_type, "reason": reason}, "status": status})


def connection_error() -> ConnectionError:
    return ConnectionError("Connection refused")


def ok(doc: dict[str, Any]) -> dict[str, Any]:
    return {"create": {"status": 201}}


def failed(status: int, error_type: str, reason: str = "why") -> dict[str, Any]:
    return {"create": {"status": status, "error": {"type": error_type, "reason": reason}}}


def response(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"errors": any("error" in next(iter(i.values())) for i in items), "items": items}


@dataclass
class _Response:
    body: dict[str, Any]


@dataclass
class FakeES:
    """`bulk()` decodes each request and asks `answer` (per request) what to reply; records every request."""

    answer: Callable[[int, list[dict[str, Any]]], dict[str, Any]]
    requests: list[list[dict[str, Any]]] = field(default_factory=list)
    closed: bool = False

    async def bulk(self, operations: bytes, filter_path: str) -> _Response:
        lines = operations.splitlines()
        docs = [orjson.loads(line) for line in lines[1::2]]
        self.requests.append(docs)
        return _Response(self.answer(len(self.requests), docs))

    async def close(self) -> None:
        self.closed = True


@dataclass
class RecordingWriter:
    """Dead-letter writer that fails its first `failures` calls, then records the letters."""

    failures: int = 0
    letters: list[DeadLetter] = field(default_factory=list)
    calls: int = 0

    async def write(self, letters: Sequence[DeadLetter]) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("dead-letter topic unavailable")
        self.letters.extend(letters)


def pendings(count: int, stream: str = STREAM) -> list[Pending]:
    """`count` documents numbered by `n`, with Kafka coordinates and a raw record."""
    return [
        Pending(
            {"@timestamp": "2026-01-01T00:00:00Z", "n": n},
            stream,
            f"id{n}",
            Source("t", 0, n),
            f"raw{n}".encode(),
        )
        for n in range(count)
    ]
