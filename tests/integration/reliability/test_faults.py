"""Fault scenarios through real worker processes, real Kafka and real Elasticsearch, judged by the oracle.

Elasticsearch faults are made by a loopback proxy in front of the shared node (tests/integration/sink/
es_proxy.py, extended in chaos.py); the shared Kafka and Elasticsearch are never stopped.
"""

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.sink.doc_ids import record_doc_id
from tests.integration.reliability.chaos import ProxyThread, fate
from tests.integration.reliability.oracle import Oracle, SharedNames
from tests.integration.worker.harness import (
    Names,
    WorkerProcess,
    committed,
    create_topics,
    metric_value,
    raw_worker_env,
    run_setup,
    wait_until,
)


@pytest.fixture(scope="module")
def stack(devstack):
    run_setup(devstack)
    return devstack


@pytest.fixture
def names(stack) -> Names:
    names = SharedNames.new()
    create_topics(stack, {names.raw: 2, names.dlq: 1})
    return names


@pytest.fixture
def proxy(stack, names: Names) -> Iterator[ProxyThread]:
    thread = ProxyThread(stack.es_url, f"logs-logtrace.app-{names.namespace}")
    yield thread
    thread.close()


def _env(stack, names: Names, es_url: str | None = None) -> dict[str, str]:
    extra = {"LOGTRACE_ES_URL": es_url} if es_url else {}
    return raw_worker_env(stack, names, **extra)


def _settled(oracle: Oracle, expected_docs: int, timeout: float) -> None:
    wait_until(
        lambda: oracle.count() >= expected_docs,
        timeout,
        what=f"{expected_docs} documents",
    )


def _consumed(worker: WorkerProcess, names: Names) -> float:
    return metric_value(worker.metrics(), "logtrace_worker_records_consumed_total", topic=names.raw)


@pytest.mark.timeout(120)
def test_es_unreachable_longer_than_backoff_then_back(stack, names, proxy, tmp_path: Path) -> None:
    oracle = Oracle(stack, names, "es_unreachable_8s")
    oracle.produce(oracle.planted(200))
    worker = WorkerProcess(_env(stack, names, proxy.url), tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        _settled(oracle, 200, 60)
        proxy.call(proxy.proxy.refuse())
        oracle.produce(oracle.planted(200, start=200))
        time.sleep(2)
        before = _consumed(worker, names)
        time.sleep(6)  # 8 s down in all: longer than LOGTRACE_SINK_BACKOFF_MAX_S (1 s) many times over
        assert _consumed(worker, names) - before <= 0, "the worker kept consuming while ES was down"
        oracle.check_commits()
        proxy.call(proxy.proxy.accept())
        _settled(oracle, 400, 60)
        wait_until(lambda: sum(committed(stack, names.group, names.raw).values()) == 400, 30, what="commit")
    finally:
        worker.stop()
    oracle.check([worker.log_path])


@pytest.mark.timeout(120)
def test_whole_request_429_then_503_backoff_and_recovery(stack, names, proxy, tmp_path: Path) -> None:
    oracle = Oracle(stack, names, "bulk_429_503")
    worker = WorkerProcess(_env(stack, names, proxy.url), tmp_path / "worker.log").start()
    try:
        worker.wait_ready()
        proxy.run(proxy.proxy.inject, 429, "es_rejected_execution_exception", "injected overload", 4)
        oracle.produce(oracle.planted(150))
        wait_until(lambda: proxy.proxy._injection.count == 0, 30, what="the 429s answered")
        proxy.run(proxy.proxy.inject, 503, "unavailable_shards_exception", "injected unavailable", 4)
        oracle.produce(oracle.planted(150, start=150))
        wait_until(lambda: proxy.proxy._injection.count == 0, 30, what="the 503s answered")
        _settled(oracle, 300, 60)
        oracle.check_commits()
        retries = metric_value(worker.metrics(), "logtrace_sink_retries_total")
        assert retries > 0
    finally:
        worker.stop()
    oracle.check([worker.log_path])


@pytest.mark.timeout(120)
def test_mixed_item_statuses(stack, names, proxy, tmp_path: Path) -> None:
    oracle = Oracle(stack, names, "mixed_items")
    events = oracle.planted(300)
    proxy.run(setattr, proxy.proxy, "mixed", True)
    oracle.produce(events)
    for event in events:
        if fate(record_doc_id(names.raw, event.partition, event.offset, 0)) == "400":
            event.expect = "document_parsing_exception"
    expected_docs = sum(1 for event in events if event.expect == "indexed")
    worker = WorkerProcess(_env(stack, names, proxy.url), tmp_path / "worker.log").start()
    try:
        _settled(oracle, expected_docs, 90)
        wait_until(lambda: sum(committed(stack, names.group, names.raw).values()) == 300, 30, what="commit")
        oracle.check_commits()
        metrics = worker.metrics()
    finally:
        worker.stop()
    accounting = oracle.check([worker.log_path])
    assert accounting.dead_lettered == len(events) - expected_docs > 0
    assert (
        metric_value(metrics, "logtrace_sink_documents_duplicate_total") > 0
    )  # the 409s counted as delivered
    assert metric_value(metrics, "logtrace_sink_retries_total", status="429") > 0
    assert metric_value(metrics, "logtrace_sink_retries_total", status="503") > 0


@pytest.mark.timeout(150)
def test_sigkill_mid_stream_with_oracle(stack, names, tmp_path: Path) -> None:
    """test_commit.py covers SIGKILL counts; the oracle adds checksums, reasons, secrets, commit safety."""
    oracle = Oracle(stack, names, "sigkill_restart")
    oracle.produce(oracle.planted(2000))
    env = _env(stack, names)
    first = WorkerProcess(env, tmp_path / "first.log").start()
    try:
        wait_until(lambda: oracle.count() >= 300, 90, 0.2, what="under way")
    finally:
        first.kill()
    oracle.check_commits()
    second = WorkerProcess(env, tmp_path / "second.log").start()
    try:
        _settled(oracle, 2000, 90)
        oracle.check_commits()
    finally:
        second.stop()
    oracle.check([first.log_path, second.log_path])


@pytest.mark.timeout(150)
def test_sigterm_with_requests_in_flight(stack, names, proxy, tmp_path: Path) -> None:
    oracle = Oracle(stack, names, "sigterm_in_flight")
    oracle.produce(oracle.planted(100))
    env = _env(stack, names, proxy.url)
    first = WorkerProcess(env, tmp_path / "first.log").start()
    try:
        _settled(oracle, 100, 60)
        wait_until(lambda: sum(committed(stack, names.group, names.raw).values()) == 100, 30, what="commit")
        proxy.stall()
        oracle.produce(oracle.planted(200, start=100))
        wait_until(lambda: proxy.proxy.stalled_requests > 0, 30, what="a stalled bulk request")
        started = time.monotonic()
        assert first.stop(timeout=30) == 0
        took = time.monotonic() - started
    finally:
        first.kill()
    assert took < 30
    oracle.check_commits()
    assert sum(committed(stack, names.group, names.raw).values()) < 300, "unflushed records committed"
    proxy.release()
    second = WorkerProcess(env, tmp_path / "second.log").start()
    try:
        _settled(oracle, 300, 60)
        oracle.check_commits()
    finally:
        second.stop()
    print(f"\nsigterm_in_flight: graceful stop took {took:.1f} s")
    oracle.check([first.log_path, second.log_path])
