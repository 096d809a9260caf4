"""Dead letters through real Kafka and Elasticsearch, and `logtrace dlq replay` after a fix."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.sink.deadletter import (
    ElasticsearchDeadLetterIndexer,
    KafkaDeadLetterWriter,
    deadletter_producer,
    ensure_deadletter_topic,
)
from pipeline.sink.replay import replay, topic_partitions
from pipeline.sink.routing import data_stream, deadletter_stream
from tests.integration.sink.conftest import count, docs, make_sink

pytestmark = pytest.mark.timeout(90)
FOURTEEN_DAYS_MS = 14 * 24 * 3600 * 1000


async def _retention_ms(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        entries = {e[0]: e[1] for r in responses for res in r.resources for e in res[4]}
        return int(entries["retention.ms"])
    finally:
        await admin.close()


async def _read_all(bootstrap: str, topic: str) -> list:
    partitions = [
        TopicPartition(topic, p) for p in await topic_partitions({"bootstrap_servers": bootstrap}, topic)
    ]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        for tp, offset in (await consumer.beginning_offsets(partitions)).items():
            consumer.seek(tp, offset)
        end = await consumer.end_offsets(partitions)
        records = []
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            for batch in (await consumer.getmany(timeout_ms=1000)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def test_conflicting_document_reaches_topic_and_stream_then_replays_after_a_fix(
    installed, es, ns: str, devstack
) -> None:
    topic = f"logtrace.deadletter.{ns}"
    kafka = {"bootstrap_servers": devstack.kafka_bootstrap}
    assert await ensure_deadletter_topic(kafka, topic, partitions=1) is True
    assert await ensure_deadletter_topic(kafka, topic) is False
    assert await _retention_ms(devstack.kafka_bootstrap, topic) >= FOURTEEN_DAYS_MS

    # A template that maps `message` wrongly for one stream: its documents are dead-lettered...
    stream = data_stream("logs", "replay", ns)
    template = f"logtrace-test-replay-{ns}"
    body = {
        "index_patterns": [stream],
        "priority": 300,
        "data_stream": {},
        "template": {"mappings": {"properties": {"message": {"type": "long"}}}},
    }
    await es.indices.put_index_template(name=template, **body)
    producer = deadletter_producer(kafka)
    await producer.start()
    es_client = ElasticsearchSettings(url=devstack.es_url).client()
    writer = KafkaDeadLetterWriter(producer, topic, ElasticsearchDeadLetterIndexer(es_client, ns))
    sink = make_sink(devstack.es_url, writer, breaker_min_docs=100)
    try:
        batch = docs(stream, 3, topic="orders")
        delivery = await sink.deliver(batch)
        assert (delivery.indexed, delivery.dead_lettered) == (0, 3)

        records = await _read_all(devstack.kafka_bootstrap, topic)
        assert [r.value for r in records] == [b"raw 0", b"raw 1", b"raw 2"]
        headers = dict(records[1].headers)
        assert headers["reason"] in (b"document_parsing_exception", b"mapper_parsing_exception")
        assert (headers["source_topic"], headers["source_partition"], headers["source_offset"]) == (
            b"orders",
            b"0",
            b"1",
        )
        assert headers["doc_id"] == batch[1].doc_id.encode() and headers["time"] and headers["error_type"]
        assert await count(es, deadletter_stream(ns)) == 3
        found = (
            await es.search(
                index=deadletter_stream(ns), query={"term": {"logtrace.deadletter.doc_id": batch[1].doc_id}}
            )
        ).body
        source = found["hits"]["hits"][0]["_source"]
        assert source["logtrace.deadletter.payload"] == "raw 1" and source["logtrace.kafka.offset"] == 1

        # ... the fix, then a replay that keeps the original ids: twice, and nothing is duplicated.
        body["template"]["mappings"]["properties"]["message"] = {"type": "text"}
        await es.indices.put_index_template(name=template, **body)
        await es.indices.rollover(alias=stream)
        reason = headers["reason"].decode()
        for expected_indexed, expected_duplicates in ((3, 0), (0, 3)):
            consumer = AIOKafkaConsumer(bootstrap_servers=devstack.kafka_bootstrap, enable_auto_commit=False)
            await consumer.start()
            await asyncio.sleep(0)
            try:
                report = await replay(consumer, topic, [0], sink, None, reason=reason)
            finally:
                await consumer.stop()
            assert (report.selected, report.documents, report.indexed, report.duplicates) == (
                3,
                3,
                expected_indexed,
                expected_duplicates,
            )
        ids = (await es.search(index=stream, source=False, size=10)).body["hits"]["hits"]
        assert sorted(hit["_id"] for hit in ids) == sorted(p.doc_id for p in batch)
    finally:
        await sink.close()
        await producer.stop()
        await es_client.close()


async def test_an_unwritable_dead_letter_topic_holds_the_batch(installed, es, ns: str, devstack) -> None:
    """The dead-letter write never succeeds here, so deliver() never reports the batch done."""
    producer = AIOKafkaProducer(
        bootstrap_servers=devstack.kafka_bootstrap, acks="all", request_timeout_ms=1000
    )
    await producer.start()
    # A topic name Kafka refuses: every send fails, as an unwritable dead-letter topic would.
    writer = KafkaDeadLetterWriter(producer, "bad topic name!", ElasticsearchDeadLetterIndexer(es, ns))
    stream = data_stream("logs", "dlqdown", ns)
    batch = docs(stream, 2)
    batch[0].doc["log.level"] = {"object": "in a keyword"}
    sink = make_sink(devstack.es_url, writer)
    try:
        task = asyncio.create_task(sink.deliver(batch))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not sink.readiness()[0]:
                break
        assert sink.readiness()[1].startswith("deadletter_unavailable") and not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await sink.close()
        await producer.stop()
