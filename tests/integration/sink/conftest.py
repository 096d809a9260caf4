"""Fixtures of the sink integration tests: one namespace per run, the installed templates, clients.

Every stream a test writes is `<kind>-logtrace.<dataset>-<ns>` with this run's random namespace, so
runs and engineers never collide. Where the cluster has the data stream API the streams are deleted at
the end; the minimal dev node has none, and there they stay (one small backing index each).
"""

import secrets
from collections.abc import AsyncIterator

import pytest
from elasticsearch import AsyncElasticsearch

from pipeline.capabilities import probe_capabilities
from pipeline.cli.setup import run_setup
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.sink import SinkSettings
from pipeline.setup import Action
from pipeline.sink.bulk import ElasticsearchSink
from pipeline.sink.doc_ids import record_doc_id
from pipeline.sink.items import Pending, Source
from tests.integration.sink.es_proxy import FaultProxy


@pytest.fixture(scope="session")
def ns() -> str:
    return f"t{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def capabilities(devstack) -> dict[str, bool]:
    return probe_capabilities(devstack.es_url)


@pytest.fixture(scope="session")
async def installed(devstack) -> AsyncIterator[list[Action]]:
    """`logtrace setup` run once for the session (idempotent, so other runs' installs are fine)."""
    yield await run_setup(ElasticsearchSettings(url=devstack.es_url), dry_run=False)


@pytest.fixture(scope="session")
async def es(devstack, ns: str, capabilities: dict[str, bool]) -> AsyncIterator[AsyncElasticsearch]:
    client = ElasticsearchSettings(url=devstack.es_url).client()
    yield client
    if capabilities.get("data_stream_api"):
        await client.indices.delete_data_stream(name=f"*-logtrace.*-{ns}", expand_wildcards="all")
    await client.close()


@pytest.fixture
async def proxy(devstack) -> AsyncIterator[FaultProxy]:
    fault = FaultProxy(devstack.es_url)
    await fault.start()
    yield fault
    await fault.stop()


def fast_settings(**overrides) -> SinkSettings:
    values = {"backoff_initial_s": 0.05, "backoff_max_s": 0.5, "pause_recheck_s": 0.1, **overrides}
    return SinkSettings(**values)


def make_sink(url: str, writer, **overrides) -> ElasticsearchSink:
    return ElasticsearchSink(fast_settings(**overrides), ElasticsearchSettings(url=url).client(), writer)


def docs(stream: str, count: int, topic: str = "app", start: int = 0, **fields) -> list[Pending]:
    """`count` log documents for `stream` with Kafka-coordinate ids (offsets from `start`)."""
    return [
        Pending(
            {
                "@timestamp": "2026-12-03T10:00:00.123456789Z",
                "message": f"event {n}",
                "log.level": "info",
                "n": n,
                **fields,
            },
            stream,
            record_doc_id(topic, 0, n, 0),
            Source(topic, 0, n),
            f"raw {n}".encode(),
        )
        for n in range(start, start + count)
    ]


async def count(es: AsyncElasticsearch, stream: str) -> int:
    await es.indices.refresh(index=stream)
    return (await es.count(index=stream)).body["count"]
