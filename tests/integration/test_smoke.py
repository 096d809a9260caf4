"""Smoke test: one JSON log line carrying a trace id goes Kafka -> `logtrace worker` -> Elasticsearch."""

import json
import uuid

import pytest

from tests.integration.worker.harness import (
    Names,
    WorkerProcess,
    es_search,
    produce,
    run_setup,
    wait_until,
    worker_env,
)


@pytest.mark.timeout(180)
def test_json_log_line_is_found_by_trace_id(devstack, tmp_path) -> None:
    run_setup(devstack)
    names = Names.new()
    trace_id = uuid.uuid4().hex
    line = {
        "@timestamp": "2026-12-03T08:00:00.123Z",
        "level": "info",
        "message": "smoke test",
        "service": "smoke",
        "trace_id": trace_id,
    }
    produce(devstack, names.raw, [json.dumps(line).encode()])
    worker = WorkerProcess(
        worker_env(devstack, names, LOGTRACE_OTLP_SPANS_TOPIC="", LOGTRACE_OTLP_LOGS_TOPIC=""),
        tmp_path / "worker.log",
    ).start()
    try:
        hits = wait_until(
            lambda: es_search(
                devstack, f"logs-logtrace.*-{names.namespace}", {"term": {"trace.id": trace_id}}
            ),
            timeout=60,
            what="the smoke document",
        )
        doc = hits[0]
        assert doc["message"] == "smoke test" and doc["log.level"] == "info"
        assert doc["logtrace.kafka.topic"] == names.raw and doc["logtrace.kafka.offset"] == 0
        assert "event.ingested" in doc and "logtrace.lag_ms" in doc
    finally:
        worker.stop()
