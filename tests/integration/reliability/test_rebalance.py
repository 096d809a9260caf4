"""Consumer-group rebalances mid-stream, judged by the oracle: a second worker joins while the first is
busy, then leaves (SIGTERM) while it is busy too.

tests/integration/worker/test_scaling.py checks that two workers share the work (counts, summaries);
this adds the oracle's exact accounting and a commit watcher that samples the group's committed offsets
all through both rebalances: they must never go backwards (a stale commit of a revoked partition by its
old owner would move them back, or past records the new owner has not made durable) and must never pass
an event that is neither indexed nor dead-lettered (`Oracle.check_commits`).
"""

import threading
import time
from pathlib import Path

import pytest

from tests.integration.reliability.oracle import Oracle, SharedNames
from tests.integration.worker.harness import (
    WorkerProcess,
    committed,
    create_topics,
    free_port,
    metric_value,
    raw_worker_env,
    run_setup,
    wait_until,
)

PARTITIONS = 4
# The stream: CHUNK events every PERIOD_S (~150/s), at most MAX_EVENTS (the oracle reads <= 10k docs).
CHUNK = 30
PERIOD_S = 0.2
MAX_EVENTS = 8000


class CommitWatcher(threading.Thread):
    """Samples committed offsets until stopped; records every backwards move and unsafe commit."""

    def __init__(self, oracle: Oracle) -> None:
        super().__init__(daemon=True)
        self.oracle = oracle
        self.stop_event = threading.Event()
        self.problems: list[str] = []
        self.samples = 0
        self.last: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.sample()
            except AssertionError as exc:
                self.problems.append(str(exc))
            except Exception as exc:  # a transient admin/ES hiccup is not a finding; keep sampling
                print(f"commit watcher: sample failed: {exc!r}", flush=True)
            self.stop_event.wait(0.3)

    def sample(self) -> None:
        offsets = committed(self.oracle.stack, self.oracle.names.group, self.oracle.topic)
        for partition, offset in offsets.items():
            previous = self.last.get(partition, 0)
            assert offset >= previous, (
                f"partition {partition}: committed offset went back {previous} -> {offset}"
            )
            self.last[partition] = offset
        self.oracle.check_commits()
        self.samples += 1

    def finish(self) -> None:
        self.stop_event.set()
        self.join(30)
        self.sample()  # one last sample after both rebalances, in this thread
        assert not self.problems, "\n".join(self.problems[:20])
        assert self.samples >= 10, f"only {self.samples} commit samples"


def _consumed(worker: WorkerProcess, topic: str) -> float:
    try:
        return metric_value(worker.metrics(), "logtrace_worker_records_consumed_total", topic=topic)
    except OSError:
        return 0.0


class Stream(threading.Thread):
    """Produces planted events at a steady rate (CHUNK every PERIOD_S) until stopped or MAX_EVENTS."""

    def __init__(self, oracle: Oracle) -> None:
        super().__init__(daemon=True)
        self.oracle = oracle
        self.stop_event = threading.Event()
        self.sent = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop_event.is_set() and self.sent < MAX_EVENTS:
                self.oracle.produce(self.oracle.planted(CHUNK, start=self.sent))
                self.sent += CHUNK
                self.stop_event.wait(PERIOD_S)
        except BaseException as exc:
            self.error = exc

    def finish(self) -> None:
        self.stop_event.set()
        self.join(30)
        assert self.error is None, f"producer failed: {self.error!r}"


def _partitions_of(worker: WorkerProcess, topic: str) -> set[int]:
    """Partitions of `topic` the worker has taken records from."""
    text = worker.metrics()
    return {
        p
        for p in range(PARTITIONS)
        if metric_value(text, "logtrace_worker_records_consumed_total", topic=topic, partition=str(p)) > 0
    }


def _commits_of(worker: WorkerProcess, topic: str, partitions: set[int]) -> dict[int, float]:
    """The worker's own record of its last commit per partition (faust's commit hook)."""
    text = worker.metrics()
    return {
        p: metric_value(text, "logtrace_worker_committed_offset", topic=topic, partition=str(p))
        for p in partitions
    }


def _replayed(worker: WorkerProcess) -> float:
    """Documents the worker re-sent after a rebalance that Elasticsearch already had (409)."""
    try:
        return metric_value(worker.metrics(), "logtrace_sink_documents_duplicate_total")
    except OSError:
        return 0.0


@pytest.mark.timeout(240)
def test_worker_joins_and_leaves_mid_stream(devstack, tmp_path: Path) -> None:
    run_setup(devstack)
    names = SharedNames.new()
    create_topics(devstack, {names.raw: PARTITIONS, names.dlq: 1})
    oracle = Oracle(devstack, names, "rebalance_join_leave")
    env = raw_worker_env(devstack, names)
    first = WorkerProcess(env, tmp_path / "first.log")
    # The second worker needs its own web port; everything else (group, topics) is shared.
    second = WorkerProcess({**env, "LOGTRACE_WEB_PORT": str(free_port())}, tmp_path / "second.log")
    watcher = CommitWatcher(oracle)
    stream = Stream(oracle)
    stream.start()
    first.start()
    began = time.monotonic()
    try:
        wait_until(lambda: oracle.count() >= 200, 90, 0.2, what="first worker under way")
        watcher.start()
        # Join while records keep coming: the first worker has batches in hand when partitions move.
        second.start()
        wait_until(lambda: _consumed(second, names.raw) > 0, 60, 0.3, what="the second worker consuming")
        at_join = oracle.count()
        # The partitions the second worker took (it has read from each of them once it has taken 200
        # records of a stream spread over all partitions): from now on the first must not commit for them.
        base = _consumed(second, names.raw)
        wait_until(lambda: _consumed(second, names.raw) >= base + 200, 60, 0.2, what="second worker busy")
        moved = _partitions_of(second, names.raw)
        assert moved and len(moved) < PARTITIONS, moved
        first_commits = _commits_of(first, names.raw, moved)
        base = _consumed(second, names.raw)
        wait_until(lambda: _consumed(second, names.raw) >= base + 200, 60, 0.2, what="second worker busy")
        assert _partitions_of(second, names.raw) == moved, "partitions moved again without a member change"
        assert _commits_of(first, names.raw, moved) == first_commits, (
            "first worker committed a revoked partition"
        )
        # Leave: SIGTERM the second worker while it is busy; the first takes its partitions back.
        second_consumed = _consumed(second, names.raw)
        second_replays = _replayed(second)
        first_before_leave = _consumed(first, names.raw)
        assert second.stop(timeout=30) == 0, second.tail()
        at_leave = len(oracle.events)
        # The first worker goes on with all partitions for a while, then the stream ends.
        wait_until(
            lambda: (
                _consumed(first, names.raw) >= first_before_leave + 300
                and len(oracle.events) >= at_leave + 300
            ),
            60,
            what="first worker alone",
        )
        stream.finish()
        total = len(oracle.events)
        # Everything committed: from here on every event must be accounted for (a lost one shows in the
        # accounting below and as a commit past it in the watcher).
        wait_until(
            lambda: sum(committed(devstack, names.group, names.raw).values()) == total, 90, what="commit"
        )
        assert first.proc is not None and first.proc.poll() is None, first.tail()
        replays = second_replays + _replayed(first)
    finally:
        watcher.stop_event.set()
        stream.finish()
        first.stop()
        if second.proc is not None:
            second.kill()
    print(
        f"\nrebalance_join_leave: partitions {sorted(moved)} moved to the second worker; "
        f"{at_join} indexed when it joined, "
        f"{at_leave} sent when it left; second consumed {second_consumed:.0f}; "
        f"{replays:.0f} replayed records answered 409; {watcher.samples} commit samples; "
        f"{time.monotonic() - began:.1f} s"
    )
    assert total >= at_leave + 300, "the stream had ended when the second worker left"
    assert second_consumed > 0
    try:
        oracle.check([first.log_path, second.log_path])
    finally:
        watcher.finish()
