"""The dead-letter topic refuses writes: the bad record's offset is not committed while it does; once it
is writable again the record is dead-lettered exactly once and everything else is indexed.

The topic is made unwritable on the shared broker without touching any other topic: its
`max.message.bytes` is set below the size of any record batch, so every produce to it fails with
MESSAGE_TOO_LARGE. The worker's answer (pipeline/sink/bulk.py `_write_letters`): retry the dead-letter
write with backoff, report not ready (`sink: deadletter_unavailable: ...`) and keep the batch
unacknowledged, so its offsets are not committed.
"""

import asyncio
import time
from pathlib import Path

import pytest

from tests.integration.reliability.oracle import Event, Oracle, SharedNames
from tests.integration.worker.harness import (
    WorkerProcess,
    committed,
    create_topics,
    raw_worker_env,
    run_setup,
    wait_until,
)

# Smaller than any record batch (its header alone is 61 bytes): every produce is refused.
TINY = "16"
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = "1048588"


async def _set_max_message_bytes(stack, topic: str, value: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        responses = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": value})]
        )
        for response in responses:
            for error_code, message, *_ in response.resources:
                assert error_code == 0, f"alter {topic} max.message.bytes={value}: {error_code} {message}"
    finally:
        await admin.close()


def _set_limit(stack, topic: str, value: str) -> None:
    asyncio.run(_set_max_message_bytes(stack, topic, value))


@pytest.mark.timeout(150)
def test_deadletter_topic_unwritable_then_writable(devstack, tmp_path: Path) -> None:
    run_setup(devstack)
    names = SharedNames.new()
    create_topics(devstack, {names.raw: 1, names.dlq: 1})
    _set_limit(devstack, names.dlq, TINY)
    oracle = Oracle(devstack, names, "deadletter_unwritable")
    bad = Event(b"", expect="empty_record", label="empty_record")
    before, after = oracle.planted(100), oracle.planted(100, start=100)
    events = [*before, bad, *after]
    oracle.produce(events)
    env = raw_worker_env(devstack, names)
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        # The batch holding the bad record is stuck on its dead letter: the worker says why.
        def stuck_reason() -> str | None:
            try:
                status, body = worker.get("/ready")
            except OSError:  # the web server is not up yet
                return None
            return body.decode() if status == 503 and b"deadletter_unavailable" in body else None

        reason = wait_until(stuck_reason, 60, 0.3, what="not ready: deadletter_unavailable")
        assert "TooLarge" in reason, reason
        # The records before the bad one are indexed and may be committed; the bad one is not committed
        # for as long as the dead-letter topic refuses it (watched for 8 s of retries).
        wait_until(lambda: oracle.count() >= len(before), 30, what="the records before the bad one")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            offset = committed(devstack, names.group, names.raw).get(bad.partition, 0)
            assert offset <= bad.offset, f"offset {offset} committed past the unwritten dead letter"
            oracle.check_commits()
            time.sleep(0.5)
        assert not oracle.dead_docs(), "a dead-letter document was indexed although the topic refused it"
        assert worker.proc is not None and worker.proc.poll() is None, f"worker exited\n{worker.tail()}"
        stuck_at = committed(devstack, names.group, names.raw).get(bad.partition, 0)

        _set_limit(devstack, names.dlq, KAFKA_DEFAULT_MAX_MESSAGE_BYTES)
        wait_until(
            lambda: oracle.count() >= len(events) - 1 and oracle.dead_docs(), 60, what="all indexed, 1 letter"
        )
        wait_until(
            lambda: committed(devstack, names.group, names.raw).get(bad.partition) == len(events),
            30,
            what="commit of everything",
        )
        oracle.check_commits()
        wait_until(lambda: worker.get("/ready")[0] == 200, 30, what="ready again")
    finally:
        worker.stop()
    print(f"\ndeadletter_unwritable: committed offset held at {stuck_at} (bad record at {bad.offset})")
    accounting = oracle.check([worker.log_path])
    assert accounting.dead_lettered == 1
    # Exactly one record in the topic: the refused attempts left nothing behind.
    letters = oracle.dlq_records()
    assert len(letters) == 1, letters
    assert letters[0][1]["reason"] == b"empty_record"
    assert letters[0][1]["source_offset"] == str(bad.offset).encode()
