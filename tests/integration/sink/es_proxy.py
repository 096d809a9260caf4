"""A loopback HTTP proxy in front of the shared Elasticsearch that tests can make fail on purpose.

Modes: pass everything through; refuse connections (the listener is closed, as if Elasticsearch were
down); answer bulk requests with a canned error status. The shared node itself is never touched.
"""

import asyncio
import socket
from dataclasses import dataclass

import aiohttp
import orjson
from aiohttp import web

# Hop-by-hop or recomputed headers that must not be copied between the two connections.
_SKIP = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}


@dataclass
class Injection:
    """Answer the next `count` bulk requests with `status` and an Elasticsearch-style error body."""

    status: int
    error_type: str
    reason: str
    count: int


class FaultProxy:
    """`url` forwards to `upstream` until told to refuse or to inject errors."""

    def __init__(self, upstream: str) -> None:
        self._upstream = upstream.rstrip("/")
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._session: aiohttp.ClientSession | None = None
        self._injection: Injection | None = None
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.bulk_requests = 0

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=256 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await self.accept()

    async def accept(self) -> None:
        """(Re)open the listener: Elasticsearch is reachable again."""
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def refuse(self) -> None:
        """Close the listener and every open connection: new requests get 'connection refused'."""
        assert self._runner is not None and self._site is not None
        await self._site.stop()
        await self._runner.shutdown()
        for connection in list(self._runner.server.connections if self._runner.server else ()):
            connection.force_close()

    def inject(self, status: int, error_type: str, reason: str, count: int = 1_000_000) -> None:
        self._injection = Injection(status, error_type, reason, count)

    def clear(self) -> None:
        self._injection = None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if request.path.endswith("/_bulk"):
            self.bulk_requests += 1
            injection = self._injection
            if injection is not None and injection.count > 0:
                injection.count -= 1
                error = {"type": injection.error_type, "reason": injection.reason}
                payload = orjson.dumps(
                    {"error": {**error, "root_cause": [error]}, "status": injection.status}
                )
                return web.Response(
                    status=injection.status,
                    body=payload,
                    content_type="application/json",
                    headers={"X-Elastic-Product": "Elasticsearch"},
                )
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _SKIP}
        async with self._session.request(
            request.method, self._upstream + request.path_qs, data=body, headers=headers
        ) as upstream:
            content = await upstream.read()
            out = {k: v for k, v in upstream.headers.items() if k.lower() not in _SKIP}
            return web.Response(status=upstream.status, body=content, headers=out)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_for(condition, timeout_s: float = 10.0, every_s: float = 0.02) -> None:
    """Poll `condition()` until it is true (fails the test after `timeout_s`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(every_s)
