"""A private Kafka + Elasticsearch stack for the restart scenarios: the shared dev stack is never stopped.

It is a second `pipeline.devstack.DevStack` with its own state dir (unique per test process, deleted at
the end) and its own free ports. The Maven-resolved binaries of the shared stack's cache are hard-linked
into it (read-only use: jars and the ES zip), so no resolve runs; Elasticsearch unpacks its own home, since
`up()` writes its config file there. One service is restarted by stopping its process (SIGTERM, wait) and
calling `up()` again, which starts only what is not running.
"""

import os
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.devstack import DevStack, DevStackSettings, Service, UpResult, pid_alive
from tests.integration.worker.harness import free_port

# Not below /var/tmp/logtrace-devstack*: nothing here may share a prefix with the shared stack's paths.
STATE_PARENT = Path("/var/tmp")


class PrivateStack:
    """A started private stack: `.kafka_bootstrap`, `.es_url` (as UpResult) plus restart helpers."""

    def __init__(self, shared_state_dir: Path) -> None:
        ports = set()
        while len(ports) < 4:
            ports.add(free_port())
        kafka, controller, es, transport = sorted(ports)
        self.settings = DevStackSettings(
            state_dir=STATE_PARENT / f"logtrace-restarts-{os.getpid()}",
            kafka_port=kafka,
            kafka_controller_port=controller,
            es_port=es,
            es_transport_port=transport,
            es_heap_mb=512,
            kafka_heap_mb=256,
            stop_grace_s=30,
        )
        self.stack = DevStack(self.settings, echo=lambda line: print(f"[private stack] {line}", flush=True))
        self._shared_cache = shared_state_dir / "cache"
        self.up_result: UpResult | None = None

    @property
    def kafka_bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    @property
    def es_url(self) -> str:
        return self.settings.es_url

    def start(self) -> UpResult:
        root = self.settings.state_dir
        root.mkdir(parents=True, exist_ok=True)
        (root / ".logtrace-devstack").write_text("private stack of the restart tests\n")
        cache = root / "cache"
        if self._shared_cache.is_dir() and not cache.exists():
            try:
                shutil.copytree(self._shared_cache, cache, copy_function=os.link)
            except OSError:  # another filesystem: a copy is still faster than a Maven resolve
                shutil.rmtree(cache, ignore_errors=True)
                shutil.copytree(self._shared_cache, cache)
        self.up_result = self.stack.up()
        return self.up_result

    def pid(self, service: Service) -> int:
        pids = [status.pid for status in self.stack.status() if status.service == service]
        assert pids and pids[0] is not None, f"private {service} is not running"
        return pids[0]

    def stop_service(self, service: Service, timeout: float = 60.0) -> float:
        """SIGTERM the service's process and wait until it is gone; returns the seconds it took."""
        pid = self.pid(service)
        began = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        while pid_alive(pid):
            if time.monotonic() - began > timeout:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"private {service} (pid {pid}) ignored SIGTERM for {timeout} s")
            time.sleep(0.1)
        return time.monotonic() - began

    def start_again(self, service: Service) -> float:
        """`up()` again: it must start exactly the stopped service; returns the seconds it took."""
        began = time.monotonic()
        result = self.stack.up()
        assert result.started == (service,), f"up() started {result.started}, expected only {service}"
        return time.monotonic() - began

    def close(self) -> None:
        try:
            self.stack.down()
        finally:
            shutil.rmtree(self.settings.state_dir, ignore_errors=True)


@contextmanager
def private_stack() -> Iterator[PrivateStack]:
    """Start a private stack, yield it, take it down and delete its state dir."""
    stack = PrivateStack(DevStackSettings().state_dir)
    try:
        stack.start()
        yield stack
    finally:
        stack.close()
