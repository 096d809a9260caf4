"""The real dev stack: idempotent `up`, Kafka round trip, ES health, capabilities vs devstack/README.md."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from pipeline.capabilities import probe_capabilities
from pipeline.devstack import DevStack, DevStackSettings, UpResult, pom_versions

README = Path(__file__).resolve().parents[2] / "devstack" / "README.md"


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_second_up_is_a_fast_no_op(devstack: UpResult) -> None:
    messages: list[str] = []
    began = time.monotonic()
    again = DevStack(DevStackSettings(), echo=messages.append).up()
    assert again.already_running and again.started == ()
    assert time.monotonic() - began < 15
    assert any("already running" in message for message in messages)
    assert (again.kafka_bootstrap, again.es_url) == (devstack.kafka_bootstrap, devstack.es_url)


async def test_kafka_produce_consume_round_trip(devstack: UpResult) -> None:
    topic = f"devstack-roundtrip-{uuid.uuid4().hex[:12]}"  # auto-created with the broker's defaults
    sent = [f"record-{i}".encode() for i in range(5)]
    producer = AIOKafkaProducer(bootstrap_servers=devstack.kafka_bootstrap)
    await producer.start()
    try:
        for value in sent:
            await producer.send_and_wait(topic, value, key=b"same-key")  # one key: one partition, in order
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=devstack.kafka_bootstrap,
        group_id=f"devstack-test-{uuid.uuid4().hex[:12]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    received: list[bytes] = []
    try:
        async with asyncio.timeout(60):
            while len(received) < len(sent):
                batches = await consumer.getmany(timeout_ms=1000)
                received.extend(record.value for records in batches.values() for record in records)
        partitions = consumer.partitions_for_topic(topic)
    finally:
        await consumer.stop()
    assert received == sent
    assert partitions is not None and len(partitions) == 4, "num.partitions=4 is the broker default"


def test_elasticsearch_is_healthy_single_node_of_the_pinned_version(devstack: UpResult) -> None:
    health = get_json(f"{devstack.es_url}/_cluster/health")
    assert health["status"] in ("green", "yellow")
    assert health["number_of_nodes"] == 1
    nodes = get_json(f"{devstack.es_url}/_nodes/_local?filter_path=nodes.*.version")["nodes"]
    assert [node["version"] for node in nodes.values()] == [pom_versions()["es.version"]]


def test_status_and_logs(devstack: UpResult) -> None:
    stack = DevStack(DevStackSettings())
    statuses = stack.status()
    assert [(entry.service, entry.healthy) for entry in statuses] == [("kafka", True), ("es", True)]
    assert all(entry.pid for entry in statuses)
    assert stack.logs("kafka", 5) and stack.logs("es", 5)


def readme_capabilities() -> dict[str, bool]:
    """The rows `| `key` | yes/no | ... |` of the README table headed `| key | here | ...`."""
    table = README.read_text().split("\n| key | here |", 1)[1].split("\n\n", 1)[0]
    rows = re.findall(r"^\| `(\w+)` \| (yes|no) \|", table, flags=re.MULTILINE)
    return {key: answer == "yes" for key, answer in rows}


def test_capabilities_match_the_readme(devstack: UpResult) -> None:
    probed = probe_capabilities(devstack.es_url)
    assert probed["data_streams"] is True
    assert probed["ilm"] is False
    assert probed == readme_capabilities()
