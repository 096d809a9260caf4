"""The faust App factory: one place where logtrace's settings become faust's configuration.

Choices that matter for correctness (see pipeline/worker.py for why):
- `stream_wait_empty=False`: on shutdown faust must not wait for unacknowledged events — the worker
  acknowledges only what the sink made durable, so an event still in flight simply stays uncommitted.
- in-memory store with changelog-backed tables: state is rebuilt from the changelog at start-up and
  after a rebalance; no local files to lose or to get out of step with Kafka.
- bounded buffers (`stream_buffer_maxsize`, `broker_max_poll_records`, `consumer_max_fetch_size`):
  together with the agent awaiting the sink they are the worker's backpressure and its memory bound.
"""

import tempfile
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import faust

from pipeline.config.kafka import KafkaSettings
from pipeline.config.worker import WorkerSettings


def create_app(
    settings: WorkerSettings, kafka: KafkaSettings | None = None, *, datadir: Path | None = None
) -> faust.App:
    """A faust App for `settings`; agents, timers and pages are added by `pipeline.worker.install`."""
    kafka = kafka or KafkaSettings()
    if datadir is None:
        # The memory store keeps nothing on disk; faust still wants a directory for its app dir.
        datadir = Path(tempfile.gettempdir()) / f"logtrace-{kafka.group_id}"
    return faust.App(
        kafka.group_id,
        broker=[f"kafka://{server}" for server in kafka.servers],
        broker_credentials=kafka.faust_credentials(),
        broker_client_id=kafka.client_id,
        datadir=str(datadir),
        store="memory://",
        autodiscover=False,
        # Offsets: commit what was acknowledged every `commit_interval_s`; never auto-commit.
        broker_commit_interval=settings.commit_interval_s,
        broker_commit_every=100_000,
        stream_wait_empty=False,
        consumer_auto_offset_reset=settings.auto_offset_reset,
        # Backpressure and memory bound.
        stream_buffer_maxsize=settings.stream_buffer_records,
        broker_max_poll_records=settings.max_poll_records,
        consumer_max_fetch_size=settings.max_partition_fetch_bytes,
        # The sink may retry for as long as Elasticsearch is down; the group must not consider the
        # worker dead meanwhile (heartbeats run in the background, the poll interval is what counts).
        broker_max_poll_interval=3600.0,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.heartbeat_interval_s,
        broker_rebalance_timeout=settings.rebalance_timeout_s,
        broker_request_timeout=max(60.0, settings.session_timeout_s + 5),
        # New input topics are noticed within this time.
        consumer_metadata_max_age_ms=30_000,
        # Internal topics (repartition, partials, changelog).
        topic_partitions=settings.internal_partitions,
        topic_replication_factor=settings.internal_replication,
        table_standby_replicas=0,
        producer_acks=-1,
        # The web server serves /metrics, /health and /ready only (pipeline/web.py).
        web_enabled=True,
        web_bind=settings.web_host,
        web_host=settings.web_host,
        web_port=settings.web_port,
        web_router_enabled=False,
        web_tables_enabled=False,
        web_stats_enabled=False,
        web_graph_enabled=False,
        web_in_thread=False,
        worker_redirect_stdouts=False,
    )


class PartitionState(MutableMapping[str, Any]):
    """The entries of one partition of a changelog-backed faust table, as a plain mutable mapping.

    The pure trackers (trace table, metric windows) keep their state in a MutableMapping. faust's own
    `table[key] = value` needs the *current event* to pick the changelog partition, which a batch
    (`noack_take`) or a timer does not have; this view names its partition explicitly instead:
    writes go to the table's store and to changelog partition `partition` at once, keys are stored
    as `<partition>|<key>` so the partitions of one worker never collide, and deletions are *deferred*
    until `flush_deletes()` — the caller flushes them once the documents derived from the deleted
    entries are durable, so a crash in between resurrects the entry (and re-emits the same document id)
    instead of losing it. Writes are coalesced too: a key written many times in a batch (a trace's state,
    a window's statistics, the window meta) reaches the changelog once, with its last value, when the
    caller calls `flush()` (or `flush_deletes()`) — before it acknowledges the batch. faust flushes the
    producer before it commits offsets, so the changelog is always at least as new as the committed input.
    """

    def __init__(self, table: Any, partition: int) -> None:
        self._table = table
        self._store = table.data
        self.partition = partition
        self._prefix = f"{partition}|"
        self._deleted: list[str] = []
        # Keys written since the last flush (insertion-ordered set).
        self._dirty: dict[str, None] = {}
        self._keys: set[str] = set()
        self.rescan()

    def rescan(self) -> None:
        """Re-read which keys of this partition the store holds (after changelog recovery)."""
        cut = len(self._prefix)
        self._keys = {key[cut:] for key in list(self._store.keys()) if str(key).startswith(self._prefix)}

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return self._store[self._prefix + key]

    def __setitem__(self, key: str, value: Any) -> None:
        full = self._prefix + key
        if key in self._keys and self._store[full] == value:
            return  # unchanged: no changelog record (timers rewrite their bookkeeping every tick)
        self._store[full] = value
        self._keys.add(key)
        self._dirty[key] = None

    def __delitem__(self, key: str) -> None:
        if key not in self._keys:
            raise KeyError(key)
        full = self._prefix + key
        del self._store[full]
        self._keys.discard(key)
        self._dirty.pop(key, None)
        self._deleted.append(key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._keys))

    def __len__(self) -> int:
        return len(self._keys)

    def flush(self) -> int:
        """Write the last value of every key written since the last flush; returns how many."""
        dirty, self._dirty = self._dirty, {}
        sent = 0
        for key in dirty:
            if key in self._keys:
                full = self._prefix + key
                self._table.send_changelog(self.partition, full, self._store[full])
                sent += 1
        return sent

    def flush_deletes(self) -> int:
        """Write pending values (`flush`), then the tombstones of deleted entries (skipping any re-created
        since); returns how many tombstones."""
        self.flush()
        deleted, self._deleted = self._deleted, []
        sent = 0
        for key in dict.fromkeys(deleted):
            if key in self._keys:
                continue
            self._table.send_changelog(self.partition, self._prefix + key, None, value_serializer="raw")
            sent += 1
        return sent

    def drop_local(self) -> None:
        """Forget this partition locally (it moved to another worker); the changelog keeps it."""
        for key in list(self._keys):
            self._store.pop(self._prefix + key, None)
        self._keys.clear()
        self._deleted.clear()
        self._dirty.clear()


class AckGate:
    """Lets only the worker's own acknowledgements reach faust's offset commit.

    faust's pure-Python stream iterator acknowledges the events it *skips* — read while flow control
    is suspended (rebalance, recovery, shutdown) or under an older group generation — "so the lag does
    not grow", although no agent processed them; an acknowledged offset is committed once the offsets
    before it are. (The Cython iterator, used when faust's extension is built, does not do this; the
    gate makes the guarantee independent of which one runs.) The gate wraps the consumer's `ack` so
    that only events the worker allowed — after their batch was durable — are recorded; a skipped event
    stays unacknowledged, the commit stops before it, and `OffsetGuard` has it read again.
    """

    def __init__(self) -> None:
        self._allowed: set[tuple[str, int, int]] = set()
        self.refused = 0
        self._installed: Any = None

    def install(self, consumer: Any) -> None:
        """Wrap `consumer.ack` (idempotent per consumer)."""
        if self._installed is consumer:
            return
        original = consumer.ack

        def ack(message: Any) -> bool:
            key = (message.topic, message.partition, message.offset)
            if key not in self._allowed:
                self.refused += 1
                from pipeline import telemetry

                telemetry.W_ACKS_REFUSED.inc()
                return False
            self._allowed.discard(key)
            return original(message)

        consumer.ack = ack
        self._installed = consumer

    def allow(self, message: Any) -> None:
        """The worker acknowledges `message`: its documents are durable."""
        self._allowed.add((message.topic, message.partition, message.offset))


class OffsetGuard:
    """Makes sure an agent processes each partition's records in offset order without holes.

    faust can hand an agent a partition's records with a hole: records read while flow control was
    suspended or under an older group generation are *skipped* (never processed), and a re-fetch after a
    seek can interleave with records already buffered. faust's commit then takes the highest offset
    whose predecessors are acknowledged *counting from one past the last commit*, so a single skipped
    record right after the committed offset is committed without being processed (the commit tests saw
    exactly this: one record lost after a restart, before the guard existed).

    The guard tracks the next offset each partition must deliver. Per batch it returns the records to
    process (the contiguous run), the ones already processed (to acknowledge again, harmlessly), and a
    seek for each partition whose run broke: the consumer goes back to the missing offset, the records
    past the hole are neither processed nor acknowledged, and they come again after the seek. A hole
    Kafka itself has (transaction markers, compaction) is accepted when faust recorded it as a read
    gap starting at the hole (not before it: see `_accept_hole`), or when the missing offset has not
    come back within `accept_after_s` of the seek.
    """

    def __init__(self, accept_after_s: float = 10.0) -> None:
        self.accept_after_s = accept_after_s
        self._next: dict[Any, int] = {}
        # tp -> (missing offset, when first seen), and when the last seek for it was issued.
        self._seeked: dict[Any, tuple[int, float]] = {}
        self._last_seek: dict[Any, float] = {}
        self.holes = 0

    def reset(self) -> None:
        """Forget positions (after a rebalance the consumer resumes from the committed offsets)."""
        self._next.clear()
        self._seeked.clear()
        self._last_seek.clear()

    def split(
        self, events: list[Any], consumer: Any, now: float
    ) -> tuple[list[Any], list[Any], dict[Any, int]]:
        """(to process, already processed, {tp: offset to seek to}) for one batch, in batch order."""
        process: list[Any] = []
        again: list[Any] = []
        seeks: dict[Any, int] = {}
        for event in events:
            message = event.message
            tp, offset = message.tp, message.offset
            if tp in seeks:
                continue  # past a hole found in this batch: it comes again after the seek
            expected = self._next.get(tp)
            if expected is None:
                committed = getattr(consumer, "_committed_offset", {}).get(tp)
                expected = committed if committed is not None and committed <= offset else offset
            if offset < expected:
                again.append(event)
                continue
            if offset > expected and not self._accept_hole(tp, expected, offset, consumer, now):
                seeks[tp] = expected
                continue
            self._seeked.pop(tp, None)
            self._next[tp] = offset + 1
            process.append(event)
        # Seek once per hole and second: stale records from before the seek keep arriving for a moment.
        fresh = {}
        for tp, offset in seeks.items():
            first = self._seeked.get(tp)
            if first is None or first[0] != offset:
                self._seeked[tp] = (offset, now)
                self._last_seek[tp] = now
                self.holes += 1
                fresh[tp] = offset
            elif now - self._last_seek.get(tp, 0.0) >= 1.0:
                self._last_seek[tp] = now
                fresh[tp] = offset
        return process, again, fresh

    def due_seeks(self, now: float, every_s: float = 1.0) -> dict[Any, int]:
        """Holes still open whose last seek is `every_s` old: seek again (a fetch in flight at the time of
        the seek may have moved faust's read position past the hole again, so the re-read was dropped)."""
        due = {}
        for tp, (offset, _) in self._seeked.items():
            if now - self._last_seek.get(tp, 0.0) >= every_s:
                self._last_seek[tp] = now
                due[tp] = offset
        return due

    def _accept_hole(self, tp: Any, start: int, offset: int, consumer: Any, now: float) -> bool:
        gaps = getattr(consumer, "_gap", {}).get(tp)
        if gaps and all(gaps.overlaps_point(point) for point in range(start, min(offset, start + 1000))):
            # faust records a gap from its read position, which a rebalance resets to the committed offset
            # while records past it are still being delivered: such a "gap" starts before `start`, over
            # records that exist (this guard processed them), and accepting it lost the hole's record (the
            # rebalance test saw it). Only a gap that starts at the hole is Kafka's own; from a false one,
            # chop the hole off, or faust's commit would step over it before the re-read fills it.
            if min(interval.begin for interval in gaps.at(start)) >= start:
                return True
            gaps.chop(start, offset)
        seeked = self._seeked.get(tp)
        return seeked is not None and seeked[0] == start and now - seeked[1] >= self.accept_after_s
