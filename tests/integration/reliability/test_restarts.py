"""Real process restarts mid-stream, judged by the oracle: the Kafka broker, then the Elasticsearch node.

Both run on a private stack (private_stack.py: own state dir and ports, started once for this module and
taken down at the end): the shared dev stack other tests use is never stopped. A service is restarted as
an operator would: SIGTERM to its process, wait until it is gone, `logtrace dev up` (DevStack.up) again.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.reliability.oracle import Oracle, SharedNames
from tests.integration.reliability.private_stack import PrivateStack, private_stack
from tests.integration.worker.harness import (
    WorkerProcess,
    committed,
    create_topics,
    metric_value,
    raw_worker_env,
    run_setup,
    wait_until,
)

EVENTS_BEFORE = 1500
EVENTS_AFTER = 300


@pytest.fixture(scope="module")
def restart_stack(devstack) -> Iterator[PrivateStack]:
    # `devstack` first: on a fresh machine it resolves the binaries the private stack links to.
    with private_stack() as stack:
        run_setup(stack)
        yield stack


def _worker(stack: PrivateStack, names: SharedNames, log_path: Path) -> WorkerProcess:
    env = raw_worker_env(
        stack,
        names,
        LOGTRACE_ES_REQUEST_TIMEOUT_S="10",
        LOGTRACE_SINK_PAUSE_RECHECK_S="1",
    )
    return WorkerProcess(env, log_path).start()


def _under_way(
    stack: PrivateStack, scenario: str, tmp_path: Path
) -> tuple[SharedNames, Oracle, WorkerProcess]:
    """Fresh topics, EVENTS_BEFORE planted events produced, and a worker started on them that has indexed
    the first 100 (with no commit past an unaccounted event)."""
    names = SharedNames.new()
    create_topics(stack, {names.raw: 2, names.dlq: 1})
    oracle = Oracle(stack, names, scenario)
    oracle.produce(oracle.planted(EVENTS_BEFORE))
    worker = _worker(stack, names, tmp_path / "worker.log")
    try:
        wait_until(lambda: oracle.count() >= 100, 90, 0.1, what="under way")
        oracle.check_commits()
    except BaseException:
        worker.stop()
        raise
    return names, oracle, worker


def _consumed(worker: WorkerProcess, names: SharedNames) -> float:
    return metric_value(worker.metrics(), "logtrace_worker_records_consumed_total", topic=names.raw)


def _produce_rest(oracle: Oracle) -> None:
    oracle.produce(oracle.planted(EVENTS_AFTER, start=EVENTS_BEFORE))


def _settled(stack: PrivateStack, names: SharedNames, oracle: Oracle) -> int:
    """Wait until every produced event is indexed and committed (no commit past an unaccounted one)."""
    total = len(oracle.events)
    wait_until(lambda: oracle.count() >= total, 90, what=f"{total} documents")
    wait_until(lambda: sum(committed(stack, names.group, names.raw).values()) == total, 45, what="commit")
    oracle.check_commits()
    return total


# The first test of the module also pays for starting the private stack (~30-70 s on a busy 2-core box).
@pytest.mark.timeout(240)
def test_kafka_broker_restart_mid_stream(restart_stack: PrivateStack, tmp_path: Path) -> None:
    stack = restart_stack
    names, oracle, worker = _under_way(stack, "kafka_broker_restart", tmp_path)
    began = time.monotonic()
    try:
        down_s = stack.stop_service("kafka")
        at_stop = oracle.count()
        time.sleep(2)  # the worker's fetches, commits and heartbeats now fail
        assert worker.proc is not None and worker.proc.poll() is None, f"worker exited\n{worker.tail()}"
        up_s = stack.start_again("kafka")
        oracle.check_commits()
        _produce_rest(oracle)
        total = _settled(stack, names, oracle)
        # The same process carried on: it reconnected rather than crashing and being restarted.
        assert worker.proc.poll() is None, f"worker exited\n{worker.tail()}"
        assert _consumed(worker, names) >= total
    finally:
        worker.stop()
    print(
        f"\nkafka_broker_restart: {at_stop} indexed when the broker stopped; stop {down_s:.1f} s, "
        f"up {up_s:.1f} s; all durable after {time.monotonic() - began:.1f} s"
    )
    assert at_stop < EVENTS_BEFORE, "the broker was stopped after the stream had ended"
    oracle.check([worker.log_path])


@pytest.mark.timeout(180)
def test_elasticsearch_restart_mid_stream(restart_stack: PrivateStack, tmp_path: Path) -> None:
    stack = restart_stack
    names, oracle, worker = _under_way(stack, "elasticsearch_restart", tmp_path)
    began = time.monotonic()
    try:
        down_s = stack.stop_service("es")
        # Paused: within a few seconds the worker is not ready, and it neither consumes nor commits.
        wait_until(lambda: worker.get("/ready")[0] == 503, 15, 0.2, what="worker not ready")
        time.sleep(2)
        consumed, offsets = _consumed(worker, names), committed(stack, names.group, names.raw)
        at_stop = sum(offsets.values())
        time.sleep(4)
        assert _consumed(worker, names) == consumed, "the worker kept consuming while ES was down"
        assert committed(stack, names.group, names.raw) == offsets, "offsets committed while ES was down"
        assert worker.proc is not None and worker.proc.poll() is None, f"worker exited\n{worker.tail()}"
        _produce_rest(oracle)
        up_s = stack.start_again("es")
        oracle.check_commits()
        _settled(stack, names, oracle)
        wait_until(lambda: worker.get("/ready")[0] == 200, 30, 0.5, what="worker ready again")
        assert worker.proc.poll() is None, f"worker exited\n{worker.tail()}"
    finally:
        worker.stop()
    print(
        f"\nelasticsearch_restart: {at_stop} committed while the node was down; stop {down_s:.1f} s, "
        f"up {up_s:.1f} s; all durable after {time.monotonic() - began:.1f} s"
    )
    assert at_stop < EVENTS_BEFORE, "the node was stopped after the stream had ended"
    oracle.check([worker.log_path])
