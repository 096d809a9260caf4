"""The sample trace seeded into real data streams, after `logtrace setup`, in this run's own namespace.

Every stream is `<kind>-logtrace.<dataset>-<ns>` with a random namespace and the trace id is random too,
so concurrent runs never see each other's documents. Documents go in as the sink writes them (bulk
`create`, `data_stream.*` fields set). Where the cluster has the data stream API the streams are deleted
afterwards; the minimal dev node has none, and there they stay (one small backing index each), as in
the sink's integration tests.
"""

import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from elasticsearch import AsyncElasticsearch

from pipeline.capabilities import probe_capabilities
from pipeline.cli.setup import run_setup
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.kibana.dataviews import DATA_VIEWS
from pipeline.sink import actions
from pipeline.sink.items import Pending
from pipeline.sink.routing import data_stream, deadletter_stream, metrics_stream, span_stream, summary_stream
from tests.kibana.sample_trace import SampleTrace, sample_trace


def scoped(pattern: str, namespace: str) -> str:
    """A pattern narrowed to one namespace: `logs-logtrace.*` -> `logs-logtrace.*-ns`, `x-*` -> `x-ns`."""
    parts = []
    for part in pattern.split(","):
        parts.append(part[:-1] + namespace if part.endswith("-*") else f"{part}-{namespace}")
    return ",".join(parts)


@dataclass(frozen=True)
class Seeded:
    """The seeded trace and where it went."""

    trace: SampleTrace
    namespace: str
    es_url: str

    def view_pattern(self, view_id: str) -> str:
        """The index pattern of a data view, scoped to this run's namespace."""
        return scoped(next(view.pattern for view in DATA_VIEWS if view.view_id == view_id), self.namespace)


@pytest.fixture(scope="session")
async def kibana_es(devstack) -> AsyncIterator[AsyncElasticsearch]:
    client = ElasticsearchSettings(url=devstack.es_url).client()
    yield client
    await client.close()


@pytest.fixture(scope="session")
async def seeded(devstack, kibana_es: AsyncElasticsearch) -> AsyncIterator[Seeded]:
    """`logtrace setup`, then the sample trace (starting a minute ago) in every kind of stream."""
    await run_setup(ElasticsearchSettings(url=devstack.es_url), dry_run=False)
    namespace = f"t{secrets.token_hex(4)}"
    trace = sample_trace(secrets.token_hex(16), time.time_ns() - 60 * 1_000_000_000)
    placed = [
        *((doc, data_stream("logs", "app", namespace)) for doc in trace.logs),
        *((doc, span_stream(namespace)) for doc in trace.spans),
        (trace.summary, summary_stream(namespace)),
        (trace.metric, metrics_stream("span_red", namespace)),
        (trace.deadletter, deadletter_stream(namespace)),
    ]
    pending = [Pending(dict(doc), stream, secrets.token_hex(10), None, None) for doc, stream in placed]
    body = actions.body([actions.encode(p) for p in pending])
    response = await kibana_es.bulk(operations=body, refresh=True)
    assert not response.body["errors"], [item for item in response.body["items"] if "error" in item["create"]]
    yield Seeded(trace, namespace, devstack.es_url)
    if probe_capabilities(devstack.es_url).get("data_stream_api"):
        streams = scoped("*-logtrace.*", namespace)
        await kibana_es.indices.delete_data_stream(name=streams, expand_wildcards="all")

