"""The one known duplicate window, run on purpose and counted: a rollover between a write and its replay.

Document ids are deterministic (topic, partition, offset, position) and written with `op_type: create`,
so a replay into the same backing index is answered 409 and counted as delivered. Ids are unique per
backing index only: when the data stream rolls over between the write and the replay (a crash after
Elasticsearch acknowledged, before the offset commit), the replay lands in the new write index as a
second copy. The replay is made by a worker of a new consumer group reading the topic from the start,
which re-reads exactly what a crash before the commit leaves to the next worker.
"""

from pathlib import Path

import pytest

from tests.integration.reliability.oracle import NAMESPACE, Oracle, SharedNames
from tests.integration.worker.harness import (
    Names,
    WorkerProcess,
    committed,
    create_topics,
    es_request,
    metric_value,
    run_setup,
    wait_until,
    worker_env,
)

EVENTS = 200
STREAM = f"logs-logtrace.app-{NAMESPACE}"


def _replay(stack, names: Names, group: str, log: Path) -> str:
    """Re-read the whole topic under consumer group `group` (new, so it starts from the earliest offset:
    what a crash before the commit leaves to the next worker) until every record is committed; /metrics."""
    env = worker_env(
        stack, names, LOGTRACE_OTLP_SPANS_TOPIC="", LOGTRACE_OTLP_LOGS_TOPIC="", LOGTRACE_KAFKA_GROUP_ID=group
    )
    worker = WorkerProcess(env, log).start()
    try:
        wait_until(
            lambda: sum(committed(stack, group, names.raw).values()) == EVENTS, 90, what="replay committed"
        )
        return worker.metrics()
    finally:
        worker.stop()


@pytest.mark.timeout(240)
def test_rollover_between_write_and_replay_duplicates_exactly_the_replayed_events(
    devstack, tmp_path: Path
) -> None:
    run_setup(devstack)
    names = SharedNames.new()
    create_topics(devstack, {names.raw: 2, names.dlq: 1})
    oracle = Oracle(devstack, names, "rollover_duplicate_window")
    oracle.produce(oracle.planted(EVENTS))
    env = worker_env(devstack, names, LOGTRACE_OTLP_SPANS_TOPIC="", LOGTRACE_OTLP_LOGS_TOPIC="")
    first = WorkerProcess(env, tmp_path / "first.log").start()
    try:
        wait_until(lambda: oracle.count() >= EVENTS, 90, what="first delivery")
        wait_until(
            lambda: sum(committed(devstack, names.group, names.raw).values()) == EVENTS, 30, what="commit"
        )
    finally:
        first.stop()
    assert oracle.check([first.log_path]).duplicated == 0

    # A replay into the same backing index: every document answered 409, counted as delivered.
    metrics = _replay(devstack, names, f"{names.group}-replay1", tmp_path / "same_index.log")
    assert metric_value(metrics, "logtrace_sink_documents_indexed_total", data_stream=STREAM) == 0
    # (metric windows the replay recomputes may add 409s of their own)
    assert metric_value(metrics, "logtrace_sink_documents_duplicate_total") >= EVENTS
    assert oracle.check().duplicated == 0

    # A rollover between the write and the replay: the replay is a second copy of every event.
    es_request(devstack, "POST", f"/{STREAM}/_rollover")
    metrics = _replay(devstack, names, f"{names.group}-replay2", tmp_path / "after_rollover.log")
    assert metric_value(metrics, "logtrace_sink_documents_indexed_total", data_stream=STREAM) == EVENTS
    wait_until(lambda: oracle.count() >= 2 * EVENTS, 30, what="the replayed copies searchable")
    accounting = oracle.check([tmp_path / "after_rollover.log"], duplicate_window=True)
    assert (accounting.lost, accounting.duplicated, accounting.indexed) == (0, EVENTS, EVENTS)
