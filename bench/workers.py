"""Subprocesses of a benchmark run: `logtrace worker`s and the ack-only faust worker (ceiling C).

Each run has its own topics, consumer groups and sink namespace (`Names`), so it never mixes with other
data on the shared stack. Processes are started in their own session and stopped by their pid only.
"""

import os
import signal
import socket
import subprocess
import sys
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.documents import Topics
from bench.procstat import ProcSample, sample

REPO = Path(__file__).resolve().parents[1]
LOGTRACE = "import sys; from pipeline.cli import main; sys.argv = ['logtrace', *sys.argv[1:]]; main()"


@dataclass(frozen=True, slots=True)
class Names:
    """Unique names of one benchmark run."""

    uid: str

    @classmethod
    def new(cls) -> "Names":
        return cls(f"bench{uuid.uuid4().hex[:8]}")

    @property
    def topics(self) -> Topics:
        return Topics(f"{self.uid}-raw", f"{self.uid}-spans", f"{self.uid}-otlplogs")

    def group(self, role: str) -> str:
        return f"{self.uid}-{role}"

    @property
    def namespace(self) -> str:
        return self.uid


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_env(kafka_bootstrap: str, es_url: str, names: Names, role: str) -> dict[str, str]:
    """Environment of a worker of this run: the caller's, minus its LOGTRACE_*, plus the run's names.

    Timings are the worker's defaults except a short trace idle time (summaries land during the run).
    """
    topics = names.topics
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOGTRACE_")}
    env.update(
        {
            "LOGTRACE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "LOGTRACE_ES_URL": es_url,
            "LOGTRACE_KAFKA_GROUP_ID": names.group(role),
            "LOGTRACE_RAW_TOPICS": topics.raw,
            "LOGTRACE_OTLP_SPANS_TOPIC": topics.spans,
            "LOGTRACE_OTLP_LOGS_TOPIC": topics.otlp_logs,
            "LOGTRACE_SINK_NAMESPACE": names.namespace,
            "LOGTRACE_SINK_DEADLETTER_TOPIC": f"{names.uid}-dlq",
            "LOGTRACE_TRACE_IDLE_S": "5",
            "LOGTRACE_INTERNAL_PARTITIONS": str(topics.partitions),
            "LOGTRACE_LOG_LEVEL": "WARNING",
        }
    )
    return env


class Worker:
    """One worker subprocess (`argv` after the interpreter), its log file and its /metrics port."""

    def __init__(self, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.env = env | {"LOGTRACE_WEB_PORT": str(self.port)}
        self.log_path = log_path
        with log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, *argv],
                env=self.env,
                cwd=REPO,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    @classmethod
    def logtrace(cls, env: dict[str, str], log_path: Path) -> "Worker":
        """`logtrace worker`."""
        return cls(["-c", LOGTRACE, "worker"], env, log_path)

    def get(self, path: str, timeout: float = 5.0) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=timeout) as response:
            return response.read()

    def metrics(self) -> str:
        """The /metrics text, or "" while the web server is not up yet."""
        try:
            return self.get("/metrics").decode()
        except OSError:
            return ""

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"worker exited with {self.proc.returncode}:\n{self.tail()}")

    def sample(self) -> ProcSample:
        return sample(self.proc.pid)

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM (graceful), then SIGKILL of its process group after `timeout`."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(30)

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def run_setup(es_url: str) -> None:
    """`logtrace setup` (index templates, ILM) against `es_url`; idempotent."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LOGTRACE_")}
    env["LOGTRACE_ES_URL"] = es_url
    done = subprocess.run(
        [sys.executable, "-c", LOGTRACE, "setup"], env=env, cwd=REPO, capture_output=True, timeout=180
    )
    if done.returncode != 0:
        raise RuntimeError(f"logtrace setup failed:\n{done.stdout.decode()}{done.stderr.decode()}")
