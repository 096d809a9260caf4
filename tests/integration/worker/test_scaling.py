"""Two workers in one consumer group share the partitions: every document indexed exactly once, every
trace summarized once with the right counts, wherever its spans and logs were read."""

import time

import pytest

from pipeline.demo import generate
from tests.integration.worker.harness import (
    Names,
    WorkerProcess,
    create_topics,
    es_count,
    es_request,
    es_search,
    metric_value,
    produce,
    run_setup,
    wait_until,
    worker_env,
)

TRACES = 120


@pytest.mark.timeout(180)
def test_two_workers_share_the_work_exactly_once(devstack, tmp_path) -> None:
    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 2, names.spans: 2})
    workers = [
        # Trace idle 5 s: a rebalance pause between a trace's spans and its logs must not close it early.
        WorkerProcess(
            worker_env(devstack, names, LOGTRACE_OTLP_LOGS_TOPIC="", LOGTRACE_TRACE_IDLE_S="5"),
            tmp_path / f"worker{n}.log",
        ).start()
        for n in range(2)
    ]
    batch = generate(TRACES, seed=23)
    spans = sum(len(trace.spans) for trace in batch.traces)
    try:
        for worker in workers:
            worker.wait_ready(90)
        # Both members own partitions before the traffic starts (the join of the second one rebalances).
        wait_until(
            lambda: all(metric_value(w.metrics(), "logtrace_worker_ready") == 1 for w in workers),
            30,
            what="both workers ready",
        )
        time.sleep(3)
        produce(devstack, names.spans, batch.spans)
        produce(devstack, names.raw, batch.raw)
        ns = names.namespace
        wait_until(lambda: es_count(devstack, f"traces-logtrace.span-{ns}") >= spans, 90, what="all spans")
        wait_until(
            lambda: es_count(devstack, f"logs-logtrace.app-{ns}") >= len(batch.raw), 60, what="all logs"
        )
        wait_until(
            lambda: es_count(devstack, f"traces-logtrace.summary-{ns}") >= TRACES, 60, what="summaries"
        )
        texts = [worker.metrics() for worker in workers]
    finally:
        for worker in workers:
            worker.stop()
    # Both workers consumed input records: the partitions really were shared.
    for text in texts:
        assert (
            metric_value(text, "logtrace_worker_records_consumed_total", topic=names.spans) > 0
            or metric_value(text, "logtrace_worker_records_consumed_total", topic=names.raw) > 0
        )
    assert es_count(devstack, f"traces-logtrace.span-{ns}") == spans
    assert es_count(devstack, f"logs-logtrace.app-{ns}") == len(batch.raw)
    es_request(devstack, "POST", f"/traces-logtrace.summary-{ns}/_refresh")
    summaries = es_search(devstack, f"traces-logtrace.summary-{ns}")
    assert len(summaries) == TRACES
    by_trace = {doc["trace.id"]: doc for doc in summaries}
    for trace in batch.traces:
        summary = by_trace[trace.trace_id]
        assert summary["trace.summary.span_count"] == len(trace.spans)
        assert summary["trace.summary.error_span_count"] == trace.error_spans
        assert summary["event.duration"] == trace.end_ns - trace.start_ns
        assert summary["trace.summary.log_count"] == trace.logs


@pytest.mark.timeout(120)
def test_input_partitioned_by_trace_id_skips_the_repartition(devstack, tmp_path) -> None:
    """LOGTRACE_PARTITION_TRACES_BY_ID: spans keyed by trace id (as the collector's partition_traces_by_id
    writes them) update the trace table straight from the span topic; summaries are still exact."""
    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 2, names.spans: 2})
    env = worker_env(devstack, names, LOGTRACE_OTLP_LOGS_TOPIC="", LOGTRACE_PARTITION_TRACES_BY_ID="true")
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    batch = generate(30, seed=31)
    ns = names.namespace
    try:
        worker.wait_ready(90)
        produce(devstack, names.spans, batch.spans)
        produce(devstack, names.raw, batch.raw)
        wait_until(
            lambda: es_count(devstack, f"traces-logtrace.summary-{ns}") >= len(batch.traces),
            60,
            what="summaries",
        )
        text = worker.metrics()
    finally:
        worker.stop()
    # No span projection went through the repartition topic: only the logs' projections did.
    logs_with_ids = sum(trace.logs for trace in batch.traces)
    assert metric_value(text, "logtrace_worker_trace_projections_received_total") == logs_with_ids
    es_request(devstack, "POST", f"/traces-logtrace.summary-{ns}/_refresh")
    by_trace = {doc["trace.id"]: doc for doc in es_search(devstack, f"traces-logtrace.summary-{ns}")}
    assert len(by_trace) == len(batch.traces)
    for trace in batch.traces:
        assert by_trace[trace.trace_id]["trace.summary.span_count"] == len(trace.spans)
        assert by_trace[trace.trace_id]["trace.summary.log_count"] == trace.logs
