"""The sink and `logtrace setup` against the real local Elasticsearch (through a fault proxy where needed)."""

import asyncio

import pytest
from elasticsearch import AsyncElasticsearch

from pipeline.cli.setup import logtrace_streams, run_setup
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.lifecycle import LifecycleSettings
from pipeline.setup import desired
from pipeline.sink.doc_ids import span_id_doc
from pipeline.sink.items import Pending
from pipeline.sink.routing import data_stream, metrics_stream, span_stream, summary_stream
from tests.integration.sink.conftest import count, docs, make_sink
from tests.integration.sink.es_proxy import FaultProxy, wait_for
from tests.pipeline.sink.sink_fakes import RecordingWriter

pytestmark = pytest.mark.timeout(60)


async def test_setup_twice_is_a_no_op(devstack, installed) -> None:
    again = await run_setup(ElasticsearchSettings(url=devstack.es_url), dry_run=False)
    assert {a.verb for a in again if a.kind != "data_stream"} == {"unchanged"}
    assert not [a for a in again if a.verb in ("rollover", "update")]


def _field(mapping: dict, dotted: str) -> dict:
    node = {"properties": mapping["properties"]}
    for part in dotted.split("."):
        node = node["properties"][part]
    return node


async def test_documents_land_in_their_streams_with_the_declared_types(
    installed, es: AsyncElasticsearch, ns: str, capabilities: dict[str, bool], devstack
) -> None:
    log = data_stream("logs", "types", ns)
    trace_id, span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    batch = docs(
        log,
        1,
        **{
            "trace.id": trace_id,
            "attributes": {"k8s": {"pod": "x"}},
            "labels.team": "core",
            "error.stack_trace": "Traceback ...",
            "host.ip": ["10.0.0.1"],
            "brand_new": "text",
        },
    )
    batch.append(
        Pending(
            {
                "@timestamp": "2026-12-03T10:00:00.000000001Z",
                "trace.id": trace_id,
                "span.id": span,
                "event.duration": 1_500_000,
                "span.name": "GET /",
            },
            span_stream(ns),
            span_id_doc(trace_id, span),
            None,
            None,
        )
    )
    batch.append(
        Pending(
            {"@timestamp": "2026-12-03T10:00:00Z", "trace.id": trace_id, "event.duration": 9},
            summary_stream(ns),
            span_id_doc(trace_id, "0" * 15 + "1"),
            None,
            None,
        )
    )
    batch.append(
        Pending(
            {"@timestamp": "2026-12-03T10:00:00Z", "service.name": "api"},
            metrics_stream("service_latency", ns),
            "m1",
            None,
            None,
        )
    )
    sink = make_sink(devstack.es_url, RecordingWriter())
    delivery = await sink.deliver(batch)
    await sink.close()
    assert delivery.indexed == 4 and len(delivery.by_stream) == 4

    mappings = (await es.indices.get_mapping(index=log)).body
    mapping = next(iter(mappings.values()))["mappings"]
    want = {r.name: r.body for r in desired(capabilities, LifecycleSettings()).resources}
    declared = want["logtrace@mappings"]["template"]["mappings"]
    for name in (
        "@timestamp",
        "message",
        "trace.id",
        "attributes",
        "error.stack_trace",
        "data_stream.dataset",
        "host.ip",
        "log.level",
    ):
        assert _field(mapping, name)["type"] == _field(declared, name)["type"], name
    assert _field(mapping, "@timestamp")["type"] == "date_nanos"
    assert _field(mapping, "brand_new") == {"type": "keyword", "ignore_above": 1024}
    assert _field(mapping, "labels.team") == {"type": "keyword", "ignore_above": 1024}
    span_mapping = next(iter((await es.indices.get_mapping(index=span_stream(ns))).body.values()))["mappings"]
    assert _field(span_mapping, "event.duration")["type"] == "long"
    assert _field(span_mapping, "span.id")["type"] == "keyword"


async def test_mapping_conflict_dead_letters_only_that_document(installed, es, ns: str, devstack) -> None:
    stream = data_stream("logs", "conflict", ns)
    batch = docs(stream, 20)
    batch[7].doc["log.level"] = {"not": "a keyword"}
    writer = RecordingWriter()
    sink = make_sink(devstack.es_url, writer)
    delivery = await sink.deliver(batch)
    await sink.close()
    assert (delivery.indexed, delivery.dead_lettered) == (19, 1)
    assert writer.letters[0].reason in ("document_parsing_exception", "mapper_parsing_exception")
    assert writer.letters[0].doc_id == batch[7].doc_id and writer.letters[0].raw == b"raw 7"
    assert await count(es, stream) == 19


async def test_a_blocked_index_pauses_and_resumes_without_dead_letters(
    installed, es, ns: str, devstack
) -> None:
    stream = data_stream("logs", "blocked", ns)
    writer = RecordingWriter()
    sink = make_sink(devstack.es_url, writer)
    await sink.deliver(docs(stream, 1))
    write_index = (await es.indices.resolve_index(name=stream)).body["data_streams"][0]["backing_indices"][-1]
    # add_block refuses a data stream's write index; the setting it would set does the same.
    await es.indices.put_settings(index=write_index, settings={"index.blocks.write": True})
    try:
        task = asyncio.create_task(sink.deliver(docs(stream, 5, start=1)))
        await wait_for(lambda: not sink.readiness()[0])
        assert "cluster_block_exception" in sink.readiness()[1] and not task.done()
    finally:
        await es.indices.put_settings(index=write_index, settings={"index.blocks.write": False})
    delivery = await task
    await sink.close()
    assert (delivery.indexed, delivery.dead_lettered, writer.letters) == (5, 0, [])
    assert sink.readiness() == (True, None)


@pytest.mark.parametrize(("status", "error_type"), [(401, "security_exception"), (403, "security_exception")])
async def test_auth_errors_pause_instead_of_dead_lettering(
    installed, es, ns: str, proxy: FaultProxy, status: int, error_type: str
) -> None:
    stream = data_stream("logs", "auth", ns)
    writer = RecordingWriter()
    sink = make_sink(proxy.url, writer)
    proxy.inject(status, error_type, "action [indices:data/write/bulk] is unauthorized for API key")
    task = asyncio.create_task(sink.deliver(docs(stream, 3, start=status)))
    await wait_for(lambda: not sink.readiness()[0])
    assert str(status) in sink.readiness()[1] and "unauthorized" in sink.readiness()[1]
    proxy.clear()
    delivery = await task
    await sink.close()
    assert (delivery.indexed + delivery.duplicates, delivery.dead_lettered, writer.letters) == (3, 0, [])


async def test_circuit_breaker_trips_on_a_broken_template(installed, es, ns: str, devstack) -> None:
    stream = data_stream("logs", "broken", ns)
    template = f"logtrace-test-broken-{ns}"
    broken = {
        "index_patterns": [stream],
        "priority": 300,
        "data_stream": {},
        "template": {
            "settings": {"index.auto_expand_replicas": "0-1"},
            "mappings": {"properties": {"message": {"type": "long"}}},
        },
    }
    await es.indices.put_index_template(name=template, **broken)
    writer = RecordingWriter()
    sink = make_sink(devstack.es_url, writer)
    task = asyncio.create_task(sink.deliver(docs(stream, 20)))
    await wait_for(lambda: not sink.readiness()[0])
    assert sink.readiness()[1].startswith("circuit_open: 20 of 20")
    # The fix: a correct template, and a rollover so the stream gets a backing index that uses it.
    broken["template"]["mappings"]["properties"]["message"] = {"type": "text"}
    await es.indices.put_index_template(name=template, **broken)
    await es.indices.rollover(alias=stream)
    delivery = await task
    await sink.close()
    assert (delivery.indexed, delivery.dead_lettered, writer.letters) == (20, 0, [])


async def test_elasticsearch_down_mid_stream_loses_and_duplicates_nothing(
    installed, es, ns: str, proxy: FaultProxy
) -> None:
    stream = data_stream("logs", "outage", ns)
    writer = RecordingWriter()
    sink = make_sink(proxy.url, writer, max_docs=50)
    first = await sink.deliver(docs(stream, 200))
    await proxy.refuse()
    task = asyncio.create_task(sink.deliver(docs(stream, 300, start=200)))
    await wait_for(lambda: not sink.readiness()[0])
    assert sink.readiness()[1].startswith("elasticsearch_unavailable")
    await asyncio.sleep(1.0)
    assert not task.done()
    await proxy.accept()
    second = await task
    # A batch whose answer was lost comes back as 409 on resend: counted, not copied.
    replayed = await sink.deliver(docs(stream, 100, start=150))
    await sink.close()
    assert first.indexed == 200 and second.indexed + second.duplicates == 300
    assert (replayed.indexed, replayed.duplicates) == (0, 100)
    assert writer.letters == [] and await count(es, stream) == 500


async def test_forced_rollover_keeps_writes_flowing(installed, es, ns: str, devstack) -> None:
    stream = data_stream("logs", "rollover", ns)
    sink = make_sink(devstack.es_url, RecordingWriter())
    assert (await sink.deliver(docs(stream, 10))).indexed == 10
    await es.indices.rollover(alias=stream)
    assert (await sink.deliver(docs(stream, 10, start=10))).indexed == 10
    # The documented limit: ids are unique per backing index, so a replay after a rollover duplicates.
    again = await sink.deliver(docs(stream, 2))
    await sink.close()
    assert again.indexed == 2
    resolved = (await es.indices.resolve_index(name=stream)).body["data_streams"][0]
    assert len(resolved["backing_indices"]) == 2 and await count(es, stream) == 22


async def test_retention_is_visible_where_the_cluster_enforces_it(
    installed, es, ns: str, capabilities: dict[str, bool]
) -> None:
    want = desired(capabilities, LifecycleSettings())
    lifecycle = (await es.cluster.get_component_template(name="logtrace-logs@lifecycle")).body
    template = lifecycle["component_templates"][0]["component_template"]["template"]
    if capabilities["ilm"]:
        policy = (await es.ilm.get_lifecycle(name="logtrace-logs")).body["logtrace-logs"]["policy"]
        assert policy["phases"]["delete"]["min_age"] == "30d"
        assert template["settings"]["index"]["lifecycle"]["name"] == "logtrace-logs"
    elif capabilities["data_stream_lifecycle"]:
        assert template["lifecycle"]["data_retention"] == "30d"
    else:
        # The minimal dev node: nothing to enforce retention with, and setup says so instead of pretending.
        assert "settings" not in template and "lifecycle" not in template
        assert any("retention is NOT enforced" in w for w in want.warnings)


async def test_a_crafted_dataset_cannot_escape_the_prefixes(installed, es, ns: str, devstack) -> None:
    hostile = ["../../.kibana", "*", ".security-7", "A-B", "a,b", "x" * 300, "", "logs-other-default", "ü"]
    batch = [
        p
        for i, value in enumerate(hostile)
        for p in docs(data_stream("logs", f"{value}", f"{ns}{value}"), 1, topic=f"h{i}")
    ]
    sink = make_sink(devstack.es_url, RecordingWriter())
    delivery = await sink.deliver(batch)
    await sink.close()
    assert delivery.indexed == len(hostile)
    streams = await logtrace_streams(es)
    written = set(delivery.by_stream)
    assert written <= set(streams)
    assert all(
        name.split("-")[0] == "logs" and name.startswith("logs-logtrace.") and name.count("-") == 2
        for name in written
    )
