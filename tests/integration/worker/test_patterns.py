"""Pattern mining in a real worker: `patterns: true` on a raw topic gives every log its template, raises a
new-pattern event per warn/error template, and keeps the templates across a restart (log-patterns table).
"""

import json
import time

import pytest

from tests.integration.worker.harness import (
    Names,
    WorkerProcess,
    create_topics,
    es_count,
    es_search,
    free_port,
    metric_value,
    produce,
    run_setup,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.timeout(120)
TEMPLATES = {
    "error": "Payment {n} declined for order {m}",
    "warn": "Slow query took {n} ms on 10.0.0.{m}",
    "info": "Request {n} served in {m} ms",
}
PER_TEMPLATE = 4


def _line(level: str, n: int) -> bytes:
    message = TEMPLATES[level].format(n=1000 + n, m=n + 1)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return json.dumps(
        {"@timestamp": stamp, "log.level": level, "service.name": "checkout", "message": message}
    ).encode()


def test_patterns_on_a_raw_topic(devstack, tmp_path) -> None:
    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 1})
    env = worker_env(
        devstack, names, LOGTRACE_RAW_TOPICS=json.dumps([{"topic": names.raw, "patterns": True}])
    )
    logs = f"logs-logtrace.app-{names.namespace}"
    events = f"logs-logtrace.patterns-{names.namespace}"
    lines = [_line(level, n) for n in range(PER_TEMPLATE) for level in TEMPLATES]
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready(60)
        produce(devstack, names.raw, lines)
        wait_until(lambda: es_count(devstack, logs) >= len(lines), 40, what="logs indexed")
        docs = es_search(devstack, logs)
        assert len(docs) == len(lines)
        ids: dict[str, set[str]] = {}
        for doc in docs:
            assert doc["log.pattern.id"] and doc["log.pattern.template"]
            ids.setdefault(doc["log.level"], set()).add(doc["log.pattern.id"])
        assert all(len(found) == 1 for found in ids.values()), ids
        assert len({next(iter(found)) for found in ids.values()}) == 3
        wait_until(lambda: es_count(devstack, events) >= 2, 30, what="new-pattern events")
        alerts = es_search(devstack, events)
        assert sorted(doc["log.level"] for doc in alerts) == ["error", "warn"]
        assert {doc["log.pattern.id"] for doc in alerts} == ids["error"] | ids["warn"]
        assert all(doc["event.kind"] == "alert" and doc["service.name"] == "checkout" for doc in alerts)
        text = worker.metrics()
        assert metric_value(text, "logtrace_patterns_lines_total", service="checkout") == len(lines)
        assert metric_value(text, "logtrace_patterns_new_total") == 2
        assert metric_value(text, "logtrace_patterns_templates") == 3
    finally:
        stopped = worker.stop()
    assert stopped == 0, worker.tail()

    # Restarted, the worker loads its templates back: a known error template raises no new event.
    again = WorkerProcess(env | {"LOGTRACE_WEB_PORT": str(free_port())}, tmp_path / "worker2.log").start()
    try:
        again.wait_ready(60)
        produce(devstack, names.raw, [_line("error", 99)])
        wait_until(lambda: es_count(devstack, logs) > len(lines), 30, what="the line after the restart")
        wait_until(
            lambda: metric_value(again.metrics(), "logtrace_patterns_lines_total") == 1, 10, what="counted"
        )
        text = again.metrics()
        assert metric_value(text, "logtrace_patterns_new_total") == 0, again.tail()
        assert metric_value(text, "logtrace_patterns_templates") == 3
        loaded = [
            json.loads(line)
            for line in (tmp_path / "worker2.log").read_text().splitlines()
            if "pattern snapshots loaded" in line
        ]
        assert [entry["patterns.keys"] for entry in loaded] == [1]
    finally:
        again.stop()
