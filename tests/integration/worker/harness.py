"""Helpers for tests that run `logtrace worker` as a real subprocess against the real Kafka and Elasticsearch.

Every test gets unique topic, group and namespace names, and short timings (trace idle 5 s, window 2 s,
small batches), so tests never see each other's data.
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
WORKER_CODE = "import sys; from pipeline.cli import main; sys.argv = ['logtrace', *sys.argv[1:]]; main()"
FAULTY_WORKER = Path(__file__).with_name("faulty_worker.py")
DROPPING_WORKER = Path(__file__).with_name("dropping_worker.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Names:
    """Unique names of one test's topics, group and namespace."""

    uid: str

    @classmethod
    def new(cls) -> "Names":
        return cls(uuid.uuid4().hex[:10])

    @property
    def raw(self) -> str:
        return f"raw-{self.uid}"

    @property
    def spans(self) -> str:
        return f"spans-{self.uid}"

    @property
    def otlp_logs(self) -> str:
        return f"otlplogs-{self.uid}"

    @property
    def group(self) -> str:
        return f"g-{self.uid}"

    @property
    def namespace(self) -> str:
        return f"t{self.uid}"

    @property
    def dlq(self) -> str:
        return f"dlq-{self.uid}"


def worker_env(stack: Any, names: Names, **overrides: str) -> dict[str, str]:
    """Environment of a test worker: short timings, unique names; `overrides` are LOGTRACE_* values."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOGTRACE_")}
    env.update(
        {
            "LOGTRACE_KAFKA_BOOTSTRAP_SERVERS": stack.kafka_bootstrap,
            "LOGTRACE_ES_URL": stack.es_url,
            "LOGTRACE_KAFKA_GROUP_ID": names.group,
            "LOGTRACE_RAW_TOPICS": names.raw,
            "LOGTRACE_OTLP_SPANS_TOPIC": names.spans,
            "LOGTRACE_OTLP_LOGS_TOPIC": names.otlp_logs,
            "LOGTRACE_SINK_NAMESPACE": names.namespace,
            "LOGTRACE_SINK_DEADLETTER_TOPIC": names.dlq,
            "LOGTRACE_SINK_BACKOFF_MAX_S": "1",
            "LOGTRACE_WEB_PORT": str(free_port()),
            # Idle 5 s: the first bulk request into a new data stream waits ~2-3 s for its backing index,
            # which must not close a trace whose other spans are in the next batch.
            "LOGTRACE_TRACE_IDLE_S": "5",
            "LOGTRACE_TRACE_SCAN_INTERVAL_S": "0.5",
            "LOGTRACE_METRIC_WINDOW_S": "2",
            "LOGTRACE_METRIC_ALLOWED_LATENESS_S": "1",
            "LOGTRACE_INTERNAL_PARTITIONS": "2",
            "LOGTRACE_SESSION_TIMEOUT_S": "6",
            "LOGTRACE_HEARTBEAT_INTERVAL_S": "1",
            "LOGTRACE_REBALANCE_TIMEOUT_S": "10",
            "LOGTRACE_BATCH_MAX_RECORDS": "200",
            "LOGTRACE_BATCH_MAX_WAIT_S": "0.2",
            "LOGTRACE_COMMIT_INTERVAL_S": "0.5",
            "LOGTRACE_READINESS_INTERVAL_S": "1",
            "LOGTRACE_STALL_AFTER_S": "4",
        }
    )
    env.update(overrides)
    return env


def raw_worker_env(stack: Any, names: Names, **overrides: str) -> dict[str, str]:
    """`worker_env` of a worker that reads only the raw-log topic, in batches of 50 (the commit, stall and
    fault tests: small batches put many commits and batch boundaries into a short stream)."""
    raw_only = {
        "LOGTRACE_OTLP_SPANS_TOPIC": "",
        "LOGTRACE_OTLP_LOGS_TOPIC": "",
        "LOGTRACE_BATCH_MAX_RECORDS": "50",
    }
    return worker_env(stack, names, **{**raw_only, **overrides})


# Workers started by the running test (the integration conftest adds their log tails to a failure report).
STARTED: list["WorkerProcess"] = []


class WorkerProcess:
    """One `logtrace worker` subprocess; its JSON logs go to `log_path`."""

    def __init__(self, env: dict[str, str], log_path: Path, script: Path | None = None) -> None:
        self.env = env
        self.log_path = log_path
        self.script = script
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = int(env["LOGTRACE_WEB_PORT"])

    def start(self) -> "WorkerProcess":
        argv = [sys.executable, str(self.script)] if self.script else [sys.executable, "-c", WORKER_CODE]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*argv, "worker"], env=self.env, cwd=REPO, stdout=log, stderr=log, start_new_session=True
            )
        STARTED.append(self)
        return self

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                status, body = self.get("/ready", timeout=2)
                last = (status, body)
                if status == 200:
                    return
            except OSError as exc:
                last = exc
            time.sleep(0.3)
        raise AssertionError(f"worker not ready after {timeout} s: {last}\n{self.tail()}")

    def metrics(self) -> str:
        return self.get("/metrics")[1].decode()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (graceful faust shutdown) and wait."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker did not stop within {timeout} s\n{self.tail()}") from None

    def kill(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        return self.proc.wait(30)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def tail(self, lines: int = 30, width: int | None = None) -> str:
        if not self.log_path.exists():
            return ""
        tail = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(line[:width] for line in tail)


def run_setup(stack: Any) -> None:
    """`logtrace setup` against the test stack (templates, ILM); idempotent."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOGTRACE_")}
    env["LOGTRACE_ES_URL"] = stack.es_url
    done = subprocess.run(
        [sys.executable, "-c", WORKER_CODE, "setup"], env=env, cwd=REPO, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.5, what: str = "") -> Any:
    """Poll `check` until it returns a truthy value; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or check}: last value {value!r}")


# --- Elasticsearch ---


def es_request(stack: Any, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{stack.es_url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    for attempt in range(20):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            # A data stream's first backing index may still be allocating its shard.
            if exc.code != 503 or attempt == 19:
                raise
            time.sleep(0.5)
    return None


def es_search(
    stack: Any, index: str, query: dict | None = None, size: int = 10_000, **extra: Any
) -> list[dict]:
    body = {"query": query or {"match_all": {}}, "size": size, **extra}
    found = es_request(stack, "POST", f"/{index}/_search?ignore_unavailable=true&allow_no_indices=true", body)
    return [] if found is None else [hit["_source"] | {"_id": hit["_id"]} for hit in found["hits"]["hits"]]


def es_count(stack: Any, index: str, query: dict | None = None) -> int:
    body = {"query": query or {"match_all": {}}}
    found = es_request(stack, "POST", f"/{index}/_count?ignore_unavailable=true&allow_no_indices=true", body)
    return 0 if found is None else found["count"]


# --- Kafka ---


async def _produce(
    stack: Any,
    topic: str,
    values: Sequence[bytes | tuple[bytes | None, bytes]],
    compression: str | None = None,
) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(
        bootstrap_servers=stack.kafka_bootstrap, compression_type=compression, linger_ms=5, acks="all"
    )
    await producer.start()
    try:
        futures = []
        for value in values:
            key, payload = value if isinstance(value, tuple) else (None, value)
            futures.append(await producer.send(topic, payload, key=key))
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def produce(
    stack: Any,
    topic: str,
    values: Sequence[bytes | tuple[bytes | None, bytes]],
    compression: str | None = None,
) -> None:
    asyncio.run(_produce(stack, topic, values, compression))


async def _create_topics(stack: Any, topics: dict[str, int]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name, partitions in topics.items()])
    finally:
        await admin.close()


def create_topics(stack: Any, topics: dict[str, int]) -> None:
    asyncio.run(_create_topics(stack, topics))


async def _committed(stack: Any, group: str, topic: str) -> dict[int, int]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return {
        tp.partition: meta.offset for tp, meta in offsets.items() if tp.topic == topic and meta.offset >= 0
    }


def committed(stack: Any, group: str, topic: str) -> dict[int, int]:
    """The group's committed offsets (next offset to read) of `topic`, by partition."""
    return asyncio.run(_committed(stack, group, topic))


def metric_value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels` in a Prometheus text exposition."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total
