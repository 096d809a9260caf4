"""Making the consumer read a partition again from an offset: the seeks behind offset holes
(`OffsetGuard`, pipeline/app.py) and the fetch-stall watchdog (`StallWatch`, pipeline/stall.py).

This module reads some of faust's and aiokafka's private state (the consumer's committed offsets, its
unacknowledged messages, the fetcher's partition states): the public API has no "is this partition
being fetched" question. Every such read is a best effort — a check that cannot see something skips it.
"""

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import faust

from pipeline import telemetry
from pipeline.stall import PartitionView, StallWatch

log = logging.getLogger("logtrace.worker")

_SEEKS: set[asyncio.Task[None]] = set()


def background_seek(app: faust.App, tp: Any, offset: int) -> None:
    """Seek `tp` to `offset` without blocking the caller (an agent must keep draining meanwhile)."""

    async def seek() -> None:
        try:
            await app.consumer.seek_wait({tp: offset})
            # A fetch that was in flight may have moved the read position past the offset meanwhile.
            app.consumer._read_offset[tp] = offset
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the caller seeks again while the problem persists
            log.warning("seek failed: %s", exc, extra={"fields": {"topic": tp.topic, "offset": offset}})

    task = asyncio.ensure_future(seek())
    _SEEKS.add(task)
    task.add_done_callback(_SEEKS.discard)


class FetchWatch(faust.Sensor):
    """The worker side of the stall watchdog: sees each assigned input partition, re-seeks stalled ones.

    A faust sensor (a service the app starts and stops): it notes when an agent takes a partition's
    records, the agents call `touch` when they acknowledge, and its own loop checks every `interval_s`.
    A rebalance, a recovery or stopped flow restarts every partition's clock.
    """

    def __init__(self, app: faust.App, after_s: float) -> None:
        super().__init__()
        self.app = app
        self.watch: StallWatch[Any] = StallWatch(after_s)
        # Seconds between checks: a stall is named between after_s and 1.5 x after_s after it began.
        self.interval_s = min(5.0, max(1.0, after_s / 2))
        self.activity: dict[Any, float] = {}
        self.quiet_since = time.monotonic()
        self.generation: int | None = None

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        self.activity[tp] = time.monotonic()

    def touch(self, tps: Iterable[Any]) -> None:
        now = time.monotonic()
        for tp in tps:
            self.activity[tp] = now

    @faust.Service.task
    async def _checks(self) -> None:
        while not self.should_stop:
            await self.sleep(self.interval_s)
            try:
                await self.check()
            except Exception:  # a watchdog must not take the worker down: say it, check again later
                log.exception("stall check failed")

    async def check(self) -> None:
        """One watchdog round; a Kafka that does not answer skips it."""
        app, consumer, now = self.app, self.app.consumer, time.monotonic()
        generation = app.consumer_generation_id
        if (
            app.rebalancing
            or app.in_recovery
            or not consumer.flow_active
            or not app.flow_control.is_active()
            or generation != self.generation
        ):
            self.generation = generation
            self.quiet_since = now
            self.watch.forget()
            return
        held = self._held()
        if held is None:
            return
        changelogs = app.tables.changelog_topics
        # Only a partition idle long enough with nothing in the worker can be stalled: the others need no
        # look at Kafka (each request waits its turn behind the consumer thread's fetch, up to a second).
        idle = {
            tp: now - max(self.activity.get(tp, 0.0), self.quiet_since)
            for tp in consumer.assignment()
            if tp.topic not in changelogs and tp not in held
        }
        candidates = [tp for tp, idle_s in idle.items() if idle_s >= self.watch.after_s]
        views: dict[Any, PartitionView] = {}
        if candidates:
            try:
                views = await self._views(candidates, idle)
            except Exception as exc:  # Kafka unreachable: the readiness probe reports it
                log.debug("stall check skipped: %s", exc)
                return
            # Records may have arrived while Kafka answered: look again.
            held = self._held()
            if held is None or generation != app.consumer_generation_id:
                return
            views = {
                tp: view for tp, view in views.items() if tp not in held and self.activity.get(tp, 0.0) < now
            }
        for tp in self.watch.check(now, views):
            self._unstick(tp, views[tp], now)

    def _held(self) -> set[Any] | None:
        """Partitions with records in the worker: waiting in an agent's queue, taken and not yet
        acknowledged, or acknowledged and not yet committed. None when a queue is full: faust's fetch loop
        then waits to hand over a record, and which partition it holds is not visible — backpressure."""
        consumer = self.app.consumer
        held = {message.tp for message in list(consumer._unacked_messages)}
        held.update(tp for tp, acked in list(consumer._acked.items()) if acked)
        channels = {channel for found in self.app.topics._tp_index.values() for channel in found}
        for channel in channels:
            queue = channel.queue
            if queue.full():
                return None
            held.update(event.message.tp for event in list(queue._queue))
        return held

    async def _views(self, tps: list[Any], idle: dict[Any, float]) -> dict[Any, PartitionView]:
        consumer = self.app.consumer
        ends = await consumer.highwaters(*tps)
        committed = {tp: consumer._committed_offset.get(tp) for tp in tps}
        # faust keeps "nothing committed yet" (and offset 0) as None: the partition starts at its log start.
        unknown = [tp for tp, offset in committed.items() if offset is None]
        starts = await consumer.earliest_offsets(*unknown) if unknown else {}
        return {
            tp: PartitionView(
                end=ends[tp],
                next=committed[tp] if committed[tp] is not None else starts.get(tp, 0),
                idle_s=idle[tp],
            )
            for tp in tps
            if ends.get(tp) is not None
        }

    def _unstick(self, tp: Any, view: PartitionView, now: float) -> None:
        telemetry.W_FETCH_STALLS.labels(tp.topic).inc()
        repeat = self.watch.repeats(tp)
        log.log(
            logging.INFO if repeat else logging.WARNING,
            "partition stalled: records wait and none arrive; re-seeking to its committed offset",
            extra={
                "fields": {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "offset": view.next,
                    "stall.end_offset": view.end,
                    "stall.idle_s": round(view.idle_s, 1),
                    "stall.repeat": repeat,
                    "stall.state": fetch_state(self.app, tp),
                }
            },
        )
        consumer = self.app.consumer
        if not self.app.in_recovery:
            consumer._buffered_partitions.discard(tp)
            consumer.resume_partitions([tp])
        background_seek(self.app, tp, view.next)
        self.activity[tp] = now


def fetch_state(app: faust.App, tp: Any) -> dict[str, Any]:
    """What faust and aiokafka hold about `tp` (for the stall warning: which layer stopped fetching)."""
    consumer = app.consumer
    state: dict[str, Any] = {
        "faust.active": tp in (consumer._active_partitions or ()),
        "faust.paused": tp in consumer._paused_partitions,
        "faust.buffered": tp in consumer._buffered_partitions,
        "faust.read_offset": consumer._read_offset.get(tp),
        "faust.acked_uncommitted": len(consumer._acked.get(tp, ())),
    }
    try:
        fetcher = consumer._thread._consumer._fetcher
        assignment = fetcher._subscriptions.subscription.assignment
        tp_state = assignment.state_value(tp)
        records = fetcher._records.get(tp)
        state.update(
            {
                "aiokafka.assignment_active": assignment.active,
                "aiokafka.status": getattr(tp_state, "_status", None) and tp_state._status.name,
                "aiokafka.paused": tp_state.paused,
                "aiokafka.position": tp_state._position,
                "aiokafka.highwater": tp_state.highwater,
                "aiokafka.last_fetch_ms_ago": (
                    None if tp_state.timestamp is None else int(time.time() * 1000 - tp_state.timestamp)
                ),
                "aiokafka.buffered": None if records is None else repr(records),
                "aiokafka.nodes_in_flight": sorted(fetcher._in_flight),
                "aiokafka.fetch_task_done": fetcher._fetch_task.done(),
            }
        )
    except Exception as exc:  # private state of another version: say so rather than fail the check
        state["aiokafka"] = f"unavailable: {exc!r}"
    return state
