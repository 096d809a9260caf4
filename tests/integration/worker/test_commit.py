"""The commit guarantee: offsets are committed only for records whose documents are durable.

faust acknowledges an event when the agent moves past it — even when the body raised — and `take()`
acknowledges its batch in a `finally`; acknowledged offsets are committed, on a graceful shutdown too.
These tests make the sink fail in the middle of a batch (raise, or hang like an Elasticsearch that
stays down followed by SIGTERM), then read the group's committed offsets: they never pass a record
that is not in Elasticsearch. A restart then indexes everything exactly once. A SIGKILL mid-stream and
a restart lose and duplicate nothing.
"""

import json
import time

import pytest

from pipeline.worker import EXIT_FATAL
from tests.integration.worker.harness import (
    FAULTY_WORKER,
    Names,
    WorkerProcess,
    committed,
    create_topics,
    es_count,
    es_request,
    metric_value,
    produce,
    raw_worker_env,
    run_setup,
    wait_until,
    worker_env,
)

RECORDS = 600


def _lines(count: int) -> list[bytes]:
    return [f"level=info msg=record-{n} n={n}".encode() for n in range(count)]


def _offsets_in_es(stack, names: Names) -> list[int]:
    es_request(stack, "POST", f"/logs-logtrace.app-{names.namespace}/_refresh")
    found = es_request(
        stack,
        "POST",
        f"/logs-logtrace.app-{names.namespace}/_search",
        {"size": 10_000, "_source": ["logtrace.kafka.offset"], "query": {"match_all": {}}},
    )
    return sorted(hit["_source"]["logtrace.kafka.offset"] for hit in found["hits"]["hits"])


@pytest.mark.timeout(150)
@pytest.mark.parametrize("mode", ["raise", "hang"])
def test_sink_failure_mid_batch_never_commits_the_batch(devstack, tmp_path, mode: str) -> None:
    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 1})
    produce(devstack, names.raw, _lines(RECORDS))
    report = tmp_path / "fault.json"
    faulty = WorkerProcess(
        raw_worker_env(
            devstack,
            names,
            LOGTRACE_TEST_FAULT=mode,
            LOGTRACE_TEST_FAULT_AFTER="200",
            LOGTRACE_TEST_FAULT_FILE=str(report),
        ),
        tmp_path / "faulty.log",
        script=FAULTY_WORKER,
    ).start()
    try:
        wait_until(report.exists, 90, what="the injected fault")
        fault = json.loads(report.read_text())
        if mode == "raise":
            # The worker exits at once without committing (os._exit after logging).
            assert faulty.wait_exit(30) == EXIT_FATAL
        else:
            # ES "down": the batch hangs in deliver() and the worker stops pulling (backpressure) ...
            taken = metric_value(faulty.metrics(), "logtrace_worker_records_consumed_total", topic=names.raw)
            # Longer than LOGTRACE_STALL_AFTER_S plus a check: a held batch is not a fetch stall (no re-seek).
            time.sleep(7)
            assert metric_value(faulty.metrics(), "logtrace_worker_fetch_stalls_total") == 0
            assert (
                metric_value(faulty.metrics(), "logtrace_worker_records_consumed_total", topic=names.raw)
                == taken
            )
            assert taken <= fault["last_offset"] + 1
            # ... and a graceful stop (SIGTERM) must not commit the hung batch.
            wait_until(
                lambda: committed(devstack, names.group, names.raw).get(0, 0) >= fault["delivered"],
                30,
                what="earlier batches committed",
            )
            assert faulty.stop() == 0
    finally:
        faulty.kill()
    offset = committed(devstack, names.group, names.raw).get(0, 0)
    in_es = set(_offsets_in_es(devstack, names))
    # Every committed record is durable, and the failing batch is not committed.
    assert offset <= fault["first_offset"], (offset, fault)
    assert set(range(offset)) <= in_es
    assert set(fault["partial"]) <= in_es  # half of the failing batch did reach Elasticsearch

    healthy = WorkerProcess(raw_worker_env(devstack, names), tmp_path / "healthy.log").start()
    try:
        wait_until(
            lambda: es_count(devstack, f"logs-logtrace.app-{names.namespace}") >= RECORDS,
            60,
            what="all records after the restart",
        )
        wait_until(
            lambda: committed(devstack, names.group, names.raw).get(0) == RECORDS,
            30,
            what="everything committed",
        )
    finally:
        healthy.stop()
    assert _offsets_in_es(devstack, names) == list(range(RECORDS))  # once each: nothing lost or duplicated


@pytest.mark.timeout(180)
def test_sigkill_mid_stream_loses_and_duplicates_nothing(devstack, tmp_path) -> None:
    from pipeline.demo import generate

    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 2, names.spans: 2})
    total = 4000
    batch = generate(150, seed=5)
    produce(devstack, names.raw, _lines(total))
    produce(devstack, names.spans, batch.spans)
    env = worker_env(devstack, names, LOGTRACE_OTLP_LOGS_TOPIC="", LOGTRACE_BATCH_MAX_RECORDS="100")
    index = f"logs-logtrace.app-{names.namespace}"
    first = WorkerProcess(env, tmp_path / "first.log").start()

    def indexed() -> float:
        # The worker's own count, not Elasticsearch's: `_count` lags by a refresh (1 s), in which a
        # fast worker indexed the rest of the stream before it could be killed.
        try:
            return metric_value(first.metrics(), "logtrace_sink_documents_indexed_total", data_stream=index)
        except OSError:  # web server not up yet
            return 0.0

    try:
        wait_until(lambda: indexed() >= 800, 90, interval=0.05, what="the stream under way")
    finally:
        first.kill()
    assert es_count(devstack, index) < total, "the worker finished before it could be killed"
    second = WorkerProcess(env, tmp_path / "second.log").start()
    spans = sum(len(trace.spans) for trace in batch.traces)
    try:
        wait_until(lambda: es_count(devstack, index) >= total, 90, what="all logs after the restart")
        wait_until(
            lambda: es_count(devstack, f"traces-logtrace.span-{names.namespace}") >= spans,
            60,
            what="all spans",
        )
        wait_until(
            lambda: es_count(devstack, f"traces-logtrace.summary-{names.namespace}") >= len(batch.traces),
            60,
            what="all summaries",
        )
    finally:
        second.stop()
    assert es_count(devstack, index) == total
    es_request(devstack, "POST", f"/{index}/_refresh")
    found = es_request(
        devstack,
        "POST",
        f"/{index}/_search",
        {"size": 10_000, "_source": ["logtrace.kafka.partition", "logtrace.kafka.offset"]},
    )
    coords = [
        (h["_source"]["logtrace.kafka.partition"], h["_source"]["logtrace.kafka.offset"])
        for h in found["hits"]["hits"]
    ]
    assert len(coords) == len(set(coords)) == total
    assert es_count(devstack, f"traces-logtrace.span-{names.namespace}") == spans
    assert es_count(devstack, f"traces-logtrace.summary-{names.namespace}") == len(batch.traces)
