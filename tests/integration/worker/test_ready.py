"""/ready says why the worker is not ready (503 + JSON reason) while /health still answers."""

import json

import pytest

from tests.integration.worker.harness import Names, WorkerProcess, free_port, wait_until, worker_env


@pytest.mark.timeout(90)
def test_ready_is_503_with_a_reason_when_elasticsearch_is_unreachable(devstack, tmp_path) -> None:
    names = Names.new()
    env = worker_env(
        devstack,
        names,
        LOGTRACE_ES_URL=f"http://127.0.0.1:{free_port()}",
        LOGTRACE_OTLP_SPANS_TOPIC="",
        LOGTRACE_OTLP_LOGS_TOPIC="",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:

        def answered():
            try:
                status, body = worker.get("/ready")
            except OSError:
                return None
            # "starting" until the first probe ran.
            return (status, body) if json.loads(body).get("reason") != "starting" else None

        status, body = wait_until(answered, 60, what="/ready to answer")
        assert status == 503
        reason = json.loads(body)
        assert reason["ready"] is False and reason["reason"].startswith("elasticsearch_unreachable")
        assert worker.get("/health")[0] == 200
        text = worker.metrics()
        assert "logtrace_worker_ready 0.0" in text and "logtrace_worker_elasticsearch_up 0.0" in text
        assert "logtrace_worker_kafka_up 1.0" in text
    finally:
        worker.stop()
    # The worker's own logs are JSON lines.
    lines = [json.loads(line) for line in worker.log_path.read_text().splitlines() if line.startswith("{")]
    assert lines and all(
        {"@timestamp", "log.level", "log.logger", "message"} <= line.keys() for line in lines
    )
    assert any(line["message"] == "readiness changed" and line["ready"] is False for line in lines)
