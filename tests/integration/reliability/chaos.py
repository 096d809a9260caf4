"""The sink tests' FaultProxy, run in a background thread (the workers are subprocesses), plus two modes:
`stall` (bulk requests hang until released) and `mixed` (per-item statuses rewritten by document id).
"""

import asyncio
import hashlib
import threading
from collections.abc import Coroutine
from typing import Any

import orjson
from aiohttp import web

from tests.integration.sink.es_proxy import _SKIP, FaultProxy

# Item fates of `mixed`, chosen by document id: 400 is dead-lettered, 409 counts as delivered,
# 429/503 are answered once (the document is not forwarded) and then let through.
FATES = ("created", "429", "400", "409", "503")


def fate(doc_id: str) -> str:
    return FATES[int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % len(FATES)]


def _item(status: int, error_type: str) -> dict[str, Any]:
    return {"create": {"status": status, "error": {"type": error_type, "reason": f"injected {status}"}}}


class ChaosProxy(FaultProxy):
    def __init__(self, upstream: str, stream_prefix: str) -> None:
        super().__init__(upstream)
        self.stream_prefix = stream_prefix
        self.mixed = False
        self.stalled: asyncio.Event | None = None
        self.stalled_requests = 0
        self._retried: set[str] = set()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/_bulk") and self.stalled is not None:
            self.stalled_requests += 1
            await self.stalled.wait()
        if self.mixed and request.path.endswith("/_bulk"):
            return await self._mixed(request)
        return await super()._forward(request)

    async def _mixed(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        lines = body.split(b"\n")
        pairs = [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
        answers: list[dict[str, Any] | None] = []
        forward: list[bytes] = []
        for action, doc in pairs:
            meta = orjson.loads(action)["create"]
            doc_id, index = meta["_id"], meta["_index"]
            chosen = fate(doc_id) if index.startswith(self.stream_prefix) else "created"
            if chosen == "400":
                answers.append(_item(400, "document_parsing_exception"))
            elif chosen in ("429", "503") and doc_id not in self._retried:
                self._retried.add(doc_id)
                answers.append(_item(int(chosen), "es_rejected_execution_exception"))
            else:
                answers.append(None)
                forward += [action, doc]
        upstream_items: list[dict[str, Any]] = []
        if forward:
            assert self._session is not None
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP}
            async with self._session.post(
                self._upstream + request.path_qs, data=b"\n".join(forward) + b"\n", headers=headers
            ) as upstream:
                content = await upstream.read()
                if upstream.status != 200:  # a failure of the whole request is passed on as it is
                    out = {k: v for k, v in upstream.headers.items() if k.lower() not in _SKIP}
                    return web.Response(status=upstream.status, body=content, headers=out)
            upstream_items = orjson.loads(content)["items"]
        items = []
        feed = iter(upstream_items)
        for (action, _), injected in zip(pairs, answers, strict=True):
            if injected is not None:
                items.append(injected)
                continue
            item = next(feed)
            meta = orjson.loads(action)["create"]
            if meta["_index"].startswith(self.stream_prefix) and fate(meta["_id"]) == "409":
                status = item["create"].get("status", 201)
                if status < 300:  # indexed now, but answered as "already there"
                    item = _item(409, "version_conflict_engine_exception")
            items.append(item)
        errors = any(item["create"].get("status", 201) >= 300 for item in items)
        return web.Response(
            body=orjson.dumps({"errors": errors, "items": items}),
            content_type="application/json",
            headers={"X-Elastic-Product": "Elasticsearch"},
        )


class ProxyThread:
    """Runs a ChaosProxy on its own event loop in a daemon thread; `call` runs a coroutine there."""

    def __init__(self, upstream: str, stream_prefix: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.proxy = ChaosProxy(upstream, stream_prefix)
        self.call(self.proxy.start())

    @property
    def url(self) -> str:
        return self.proxy.url

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def run(self, fn: Any, *args: Any) -> Any:
        async def wrapped() -> Any:
            return fn(*args)

        return self.call(wrapped())

    def stall(self) -> None:
        self.run(lambda: setattr(self.proxy, "stalled", asyncio.Event()))

    def release(self) -> None:
        def go() -> None:
            if self.proxy.stalled is not None:
                self.proxy.stalled.set()
                self.proxy.stalled = None

        self.run(go)

    def close(self) -> None:
        try:
            self.release()
            self.call(self.proxy.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
