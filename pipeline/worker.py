"""The faust agents of `logtrace worker`: thin loops — take a batch, call pure code, hand it on, acknowledge.

Agents (each `concurrency=1`, so a partition's batches are handled in offset order):
- `raw_logs`: every configured raw-log topic -> parsers -> enrich -> rules -> sink.
- `otlp_spans`: OTLP trace requests -> span documents -> sink; span projections -> trace projections topic
  (or straight into the trace table when the input is partitioned by trace id).
- `otlp_logs`: OTLP log requests -> log documents -> sink.
- `trace_projections`: internal topic partitioned by trace id -> trace table (changelog-backed) -> summaries.
- `metric_partials`: internal topic partitioned by metric key -> event-time windows -> metric documents.
Every input agent also pre-aggregates its batch into metric partials, sent by metric key. The internal
sends are batched: one message per destination partition per input batch (`send_internal`).

Commit guarantee. faust commits the offsets of *acknowledged* events, including on a graceful stop,
and `take()` acknowledges its batch in a `finally` — even when the body raised or was cancelled. So the
agents use `noack_take()` and acknowledge each event themselves, only after (1) `sink.deliver()` has
returned — every document indexed, a 409 duplicate, or dead-lettered — and (2) every message the batch
produced on the internal topics is acknowledged by Kafka. A cancelled batch (shutdown, rebalance) is never
acknowledged, so it is never committed and is read again. Anything else escaping a batch is a bug or an
unrecoverable state: the worker logs it and leaves with `os._exit(70)` at once — no faust shutdown
path runs (the agent supervisor would restart the agent and acknowledge *later* batches, and faust's
commit would then skip over the failed one; see `_fatal`). A replay is harmless: document ids are
deterministic, so the sink answers 409 for what it already has.

Three more faust behaviours are guarded: a batch can arrive with a hole in a partition's offsets (a
record skipped around start-up or a rebalance), which faust's commit would step over — `OffsetGuard`
(pipeline/app.py) seeks back to the missing record (the commit tests hit this); faust's pure-Python
iterator acknowledges the records it skips — `AckGate` lets only the agents' own acknowledgements
through; and around a rebalance faust can drop records it has already fetched, leaving the partition
with nothing more to read until a restart (upstream faust-streaming/faust#629) — `FetchWatch`
(pipeline/refetch.py, pipeline/stall.py) re-reads it from its committed offset.

Backpressure and memory bound. An agent awaits the sink, so while Elasticsearch is slow or down it takes
no new batch; its `noack_take` buffer stops at `batch_max_records`, the topic's stream buffer at
`stream_buffer_records`, then faust's fetcher stops handing records on and aiokafka stops fetching
(at most one fetch per partition is held: `max_partition_fetch_bytes` each). Per worker, records held
in memory are bounded by, per input agent, 2 x batch_max_records + stream_buffer_records +
max_poll_records, plus the fetched bytes (partitions x max_partition_fetch_bytes). With the defaults
(1000, 1000, 500, 1 MiB) and 1 KiB records that is ~3.5k records (~4 MB) per agent plus 1 MiB per
assigned partition. The two internal agents take and buffer at most INTERNAL_BATCH_MESSAGES messages
(each one input batch's share of a partition, <= MAX_INTERNAL_MESSAGE_BYTES), and state writes reach
the changelogs once per key per batch (`PartitionState.flush`), which bounds faust's producer buffer.
State: at most `max_open_traces` trace states (each <= `max_spans_per_trace`
spans) and at most `max_metric_keys` keys per open window and metricset; root services for the
backfill are capped at `max_open_traces` entries.

Scaling. Run N workers with the same LOGTRACE_KAFKA_GROUP_ID: Kafka spreads every topic's partitions
over them. Input topics: a worker processes the partitions it owns (more workers than partitions of a
topic leaves some idle for that topic). Trace projections go through `<group>-trace-projections`,
partitioned by trace id (`internal_partition`), so every span and log of a trace reaches the one worker
that owns that partition and its slice of the `traces` table (changelog `<group>-traces-changelog`, same
partition count); metric partials go through `<group>-metric-partials`, partitioned by metric key, to the
worker owning that key's windows (`<group>-metric-windows-changelog`). LOGTRACE_INTERNAL_PARTITIONS (8)
is the most workers that share the correlation and metric work. After a rebalance, a worker rebuilds the
state of its new partitions from the changelogs before it processes their records.
"""

import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2

from parsers.limits import DEFAULT_LIMITS, Limits
from pipeline import telemetry
from pipeline.app import AckGate, OffsetGuard, PartitionState
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.kafka import KafkaSettings
from pipeline.config.sink import SinkSettings
from pipeline.config.worker import WorkerSettings
from pipeline.correlate.projection import decode_ref, decode_refs, encode_refs
from pipeline.correlate.summary import summary_doc, summary_id_input
from pipeline.correlate.tracker import TraceTracker
from pipeline.enrich.batch import BatchOptions, Prepared, prepare
from pipeline.enrich.patterns import PatternStep
from pipeline.enrich.redact import redactor_from_settings
from pipeline.enrich.rules import TopicRules
from pipeline.enrich.service import RootServices, ServiceBackfill
from pipeline.logs import BATCH_ID, new_batch_id
from pipeline.metrics.keys import OVERFLOW, Cardinality
from pipeline.metrics.partials import Partial, decode_partials, encode_partials
from pipeline.metrics.windows import WindowStore
from pipeline.patterns import PatternConfig, PatternMiner
from pipeline.records import Decoded, RawSpec, Record, decode_otlp_logs, decode_otlp_spans, decode_raw, zone
from pipeline.refetch import FetchWatch, background_seek
from pipeline.sink.bulk import ElasticsearchSink
from pipeline.sink.deadletter import ElasticsearchDeadLetterIndexer, KafkaDeadLetterWriter
from pipeline.sink.doc_ids import content_doc_id
from pipeline.sink.items import Delivery, Pending
from pipeline.sink.routing import metrics_stream, sanitize_namespace, summary_stream
from pipeline.web import RedMetrics, watch_group_join

log = logging.getLogger("logtrace.worker")

RAW = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
# Seconds between writes of the pattern miner's changed snapshots into the `log-patterns` table.
PATTERN_SAVE_INTERVAL_S = 30.0
# Exit code of an unrecoverable failure (EX_SOFTWARE): the batch in hand is not committed.
EXIT_FATAL = 70
# Largest value of one internal-topic message; a partition's share of a batch is split above it
# (faust's producer refuses requests over 1 MB by default).
MAX_INTERNAL_MESSAGE_BYTES = 512 * 1024
# Internal-topic messages per batch of the trace-projections and metric-partials agents (and per topic
# buffer): each holds one input batch's projections or partials for its partition (~batch_max_records /
# internal_partitions entries), so 32 of them are a batch of the input agents' size. Taking
# batch_max_records of them held ~100x more entries (decoded sketches, refs) in memory at once and
# kept the event loop busy for seconds per batch.
INTERNAL_BATCH_MESSAGES = 32


def internal_partition(key: bytes, partitions: int) -> int:
    """The internal-topic partition of a trace id or metric key: Kafka's default partitioner (murmur2).

    Every worker computes the same, and it is the partition a message keyed by `key` got before the
    sends were batched, so state in the changelogs stays where it was.
    """
    return (murmur2(key) & 0x7FFFFFFF) % partitions


def _encoded_chunks(items: list[Any], encode: Callable[[list[Any]], bytes]) -> list[bytes]:
    """`encode(items)`, split in halves until each value is at most MAX_INTERNAL_MESSAGE_BYTES."""
    value = encode(items)
    if len(value) <= MAX_INTERNAL_MESSAGE_BYTES or len(items) < 2:
        return [value]
    half = len(items) // 2
    return _encoded_chunks(items[:half], encode) + _encoded_chunks(items[half:], encode)


def _fatal(what: str, exc: BaseException) -> None:
    """Log and leave at once, without any faust shutdown path (it could commit past the failed batch).

    A graceful stop would be safe for *our* acknowledgements, but faust's agent supervisor restarts a
    crashed agent, which then acknowledges later batches of the same partitions; faust's commit takes
    the highest offset whose predecessors are acknowledged *relative to the last commit* and does not
    notice a one-batch hole right after it. `os._exit` guarantees nothing else is acknowledged or
    committed; on restart the group resumes from the last commit, and deterministic ids make the
    replay idempotent.
    """
    log.critical(
        "unrecoverable failure in %s; exiting without committing the batch",
        what,
        exc_info=exc,
        extra={"fields": {"event.action": "worker-fatal"}},
    )
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):  # nothing more can be done on the way out
            handler.flush()
    sys.stderr.flush()
    os._exit(EXIT_FATAL)


def to_record(event: Any) -> Record:
    """The plain-values Record of a faust event (no faust types past this point)."""
    message = event.message
    timestamp = message.timestamp
    return Record(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        timestamp_ms=int(timestamp * 1000) if timestamp else None,
        key=message.key,
        value=message.value,
    )


class Runtime:
    """The worker's non-faust state and the per-batch steps the agents call."""

    def __init__(
        self,
        app: faust.App,
        settings: WorkerSettings,
        kafka: KafkaSettings,
        es_settings: ElasticsearchSettings,
        sink_settings: SinkSettings,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.app = app
        self.settings = settings
        self.kafka = kafka
        self.es_settings = es_settings
        self.sink_settings = sink_settings
        # Per-event bounds (LOGTRACE_LIMIT_*) every parser applies before a document can reach Elasticsearch.
        self.limits = limits
        self.namespace = sanitize_namespace(sink_settings.namespace)
        self.options = BatchOptions(
            settings.metric_window_s,
            settings.max_metric_keys,
            redactor=redactor_from_settings(settings),
            keep_original=sink_settings.deadletter_raw_topic is not None,
        )
        self.raw_specs = {
            topic.topic: RawSpec(
                topic.format, topic.dataset, topic.namespace or self.namespace, topic.service, zone(topic.tz)
            )
            for topic in settings.raw_topics
        }
        self.rules = {topic.topic: TopicRules(topic.rules) for topic in settings.raw_topics if topic.rules}
        # Pattern mining, only for the topics that switched it on: one miner shared by the agents.
        pattern_topics = {topic.topic for topic in settings.raw_topics if topic.patterns}
        if settings.otlp_logs_patterns and settings.otlp_logs_topic:
            pattern_topics.add(settings.otlp_logs_topic)
        self.patterns: PatternStep | None = None
        if pattern_topics:
            config = PatternConfig(
                max_templates=settings.pattern_max_templates, sim_th=settings.pattern_sim_th
            )
            self.patterns = PatternStep(PatternMiner(config), pattern_topics)
        # Label sets of logtrace_patterns_lines_total over the process's life; more share __overflow__.
        self.pattern_labels = Cardinality(settings.max_metric_keys)
        # The `log-patterns` table (set by `install`), loaded after its recovery or at the first batch.
        self.patterns_table: Any = None
        self.patterns_loaded = False
        self.roots = RootServices(max_entries=settings.max_open_traces)
        self.backfill = ServiceBackfill(self.roots)
        self.red = RedMetrics(settings.max_metric_keys)
        self.sink: ElasticsearchSink | None = None
        self.es: Any = None
        self.producer: AIOKafkaProducer | None = None
        self._started = asyncio.Lock()
        self.acks = AckGate()
        self.fetch_watch = FetchWatch(app, settings.stall_after_s)
        # One per agent: the input of each agent is checked for holes separately.
        self.guards: dict[str, OffsetGuard] = {}
        self._ready = False
        # Per partition of the internal topics: the trace trackers and metric window stores.
        self.trackers: dict[int, tuple[PartitionState, TraceTracker]] = {}
        self.windows: dict[int, tuple[PartitionState, WindowStore]] = {}
        # Next offset to take per (topic, partition), for the consumer-lag gauge.
        self.positions: dict[tuple[str, int], int] = {}
        # (tp, end offset, durable at) of batches not yet known committed (batch commit latency).
        self.durable: dict[tuple[str, int], list[tuple[int, float]]] = {}
        self.readiness_reason: str | None = "starting"
        self._group_watch: asyncio.Future[None] | None = None
        self.kafka_ok = False
        self.es_ok = False
        self.templates_ok = False

    # --- lifecycle ---

    async def start(self) -> None:
        """Create the sink and its dead-letter writer once (agents and timers await this first)."""
        self.acks.install(self.app.consumer)
        logging.getLogger("drain3").setLevel(logging.WARNING)
        async with self._started:
            if self.sink is not None:
                return
            self.es = self.es_settings.client()
            self.producer = AIOKafkaProducer(
                **self.kafka.aiokafka_kwargs(),
                acks="all",
                enable_idempotence=True,
                max_request_size=2 * 1024 * 1024,
            )
            await self.producer.start()
            writer = KafkaDeadLetterWriter(
                self.producer,
                self.sink_settings.deadletter_topic,
                ElasticsearchDeadLetterIndexer(self.es, self.namespace),
                raw_topic=self.sink_settings.deadletter_raw_topic,
            )
            self.sink = ElasticsearchSink(self.sink_settings, self.es, writer)
            self._group_watch = asyncio.ensure_future(
                watch_group_join(self, self.settings.readiness_interval_s)
            )
            log.info(
                "sink started",
                extra={
                    "fields": {"elasticsearch.url": self.es_settings.url, "sink.namespace": self.namespace}
                },
            )

    async def stop(self) -> None:
        if self._group_watch is not None:
            self._group_watch.cancel()
        if self.sink is not None:
            await self.sink.close()
        if self.producer is not None:
            await self.producer.stop()

    # --- batch steps ---

    async def deliver(self, items: Sequence[Pending], dead: Sequence[Any] = ()) -> Delivery:
        """Hand documents to the sink; returns when every one is durable (the sink retries in place)."""
        await self.start()
        assert self.sink is not None
        if not items and not dead:
            return Delivery()
        return await self.sink.deliver(items, dead)

    def count_batch(self, agent: str, records: Sequence[Record], prepared: Prepared | None) -> None:
        """Per-batch counters: records and bytes consumed, formats, problems, rules, lag."""
        counts: dict[tuple[str, int], int] = {}
        sizes: dict[str, int] = {}
        for record in records:
            tp = (record.topic, record.partition)
            counts[tp] = counts.get(tp, 0) + 1
            sizes[record.topic] = sizes.get(record.topic, 0) + len(record.value or b"")
            self.positions[tp] = record.offset + 1
        for (topic, partition), count in counts.items():
            telemetry.W_RECORDS.labels(topic, str(partition)).inc(count)
        for topic, size in sizes.items():
            telemetry.W_BYTES.labels(topic).inc(size)
        telemetry.W_BATCH_RECORDS.labels(agent).observe(len(records))
        if prepared is None:
            return
        for name, count in prepared.formats.items():
            telemetry.W_PARSED.labels(name).inc(count)
        for reason, count in prepared.problems.items():
            telemetry.W_PARSE_PROBLEMS.labels(reason).inc(count)
        for (topic, rule, effect), count in prepared.rule_effects.items():
            telemetry.W_RULE_EVENTS.labels(topic, rule, effect).inc(count)
        for rule, count in prepared.redactions.items():
            telemetry.W_REDACTIONS.labels(rule).inc(count)
        if prepared.backfilled:
            telemetry.W_SERVICE_BACKFILLED.inc(prepared.backfilled)
        if self.patterns is not None:
            self.count_patterns(prepared)
        for lag in prepared.lags_s:
            telemetry.W_EVENT_LAG_SECONDS.observe(max(lag, 0.0))
        self.red.observe(prepared.docs)

    def prepare(
        self, decoded: Decoded, started_ns: int, *, project: bool = True, backfill: bool = False
    ) -> Prepared:
        options = self.options if project else dataclasses.replace(self.options, project=False)
        if self.patterns is not None and not self.patterns_loaded and self.patterns_table is not None:
            self.load_patterns(self.patterns_table)
        return prepare(
            decoded,
            now_ns=time.time_ns(),
            started_ns=started_ns,
            options=options,
            rules=self.rules,
            backfill=self.backfill if backfill else None,
            patterns=self.patterns,
        )

    def count_patterns(self, prepared: Prepared) -> None:
        """Pattern counters of a batch: lines (label sets capped), new patterns, evictions, templates."""
        assert self.patterns is not None
        counts = prepared.patterns
        for key, lines in counts.lines.items():
            labels = key.labels
            if self.pattern_labels.admit(None, key).is_overflow:
                labels = (OVERFLOW, OVERFLOW, labels[2])
            service, pattern, level = labels
            telemetry.P_LINES.labels(service, pattern, level).inc(lines)
        for level, count in counts.new.items():
            telemetry.P_NEW.labels(level).inc(count)
        if counts.evicted:
            telemetry.P_EVICTED.inc(counts.evicted)
        telemetry.P_TEMPLATES.set(self.patterns.miner.template_count())

    # --- pattern miner state ---

    def save_patterns(self, table: Any) -> int:
        """Write the miner's changed snapshots into the `log-patterns` table; returns how many."""
        if self.patterns is None:
            return 0
        state = self.patterns.miner.state()
        for key, snapshot in state.items():
            # As text: the table's changelog is JSON, and a snapshot is JSON text (UTF-8).
            text = snapshot.decode()
            table.data[key] = text
            table.send_changelog(0, key, text)
        return len(state)

    def load_patterns(self, table: Any) -> int:
        """Take over the table's snapshots once, after the first recovery; returns how many keys."""
        if self.patterns is None or self.patterns_loaded:
            return 0
        self.patterns_loaded = True
        state = {
            key.decode() if isinstance(key, bytes) else str(key): value.encode()
            for key, value in list(table.data.items())
            if isinstance(value, str)
        }
        try:
            self.patterns.miner.load(state)
        except Exception as exc:  # an unreadable snapshot: mine from scratch rather than not at all
            log.warning("pattern snapshots not loaded; mining from scratch: %s", exc)
            return 0
        log.info("pattern snapshots loaded", extra={"fields": {"patterns.keys": len(state)}})
        return len(state)

    def mark_durable(self, records: Sequence[Record]) -> None:
        """Remember when each partition's batch became durable (for the batch commit latency)."""
        now = time.monotonic()
        ends: dict[tuple[str, int], int] = {}
        for record in records:
            key = (record.topic, record.partition)
            ends[key] = max(ends.get(key, -1), record.offset + 1)
        for key, end in ends.items():
            pending = self.durable.setdefault(key, [])
            pending.append((end, now))
            del pending[:-1000]

    def on_committed(self, offsets: dict[tuple[str, int], int]) -> None:
        """faust committed `offsets` (next offset to read, per partition)."""
        now = time.monotonic()
        for (topic, partition), offset in offsets.items():
            telemetry.W_COMMITTED_OFFSET.labels(topic, str(partition)).set(offset)
            telemetry.W_OFFSET_COMMITS.inc()
            pending = self.durable.get((topic, partition))
            while pending and pending[0][0] <= offset:
                _, durable_at = pending.pop(0)
                telemetry.W_BATCH_COMMIT_SECONDS.observe(now - durable_at)

    # --- trace correlation ---

    def tracker(self, table: Any, partition: int) -> tuple[PartitionState, TraceTracker]:
        found = self.trackers.get(partition)
        if found is None:
            state = PartitionState(table, partition)
            per_partition = max(1, -(-self.settings.max_open_traces // self.settings.internal_partitions))
            tracker = TraceTracker(
                state,
                idle_s=self.settings.trace_idle_s,
                max_open_traces=per_partition,
                max_spans_per_trace=self.settings.max_spans_per_trace,
            )
            found = self.trackers[partition] = (state, tracker)
        return found

    def windows_for(self, table: Any, partition: int) -> tuple[PartitionState, WindowStore]:
        found = self.windows.get(partition)
        if found is None:
            state = PartitionState(table, partition)
            store = WindowStore(
                state,
                window_s=self.settings.metric_window_s,
                allowed_lateness_s=self.settings.metric_allowed_lateness_s,
                max_keys_per_window=self.settings.max_metric_keys,
            )
            found = self.windows[partition] = (state, store)
        return found

    def flush_windows(self) -> None:
        """Write the window stores' changed entries to their changelog (once per key; see PartitionState)."""
        for state, _ in self.windows.values():
            state.flush()

    def summaries(self, closed: Iterable[Any]) -> list[Pending]:
        """Summary documents of closed traces (one deterministic id per trace)."""
        stream = summary_stream(self.namespace)
        pending = []
        for trace_id, state in closed:
            doc = summary_doc(trace_id, state)
            if doc is None:
                continue
            if doc.get("service.name"):
                self.roots.learn(trace_id, doc["service.name"])
            pending.append(Pending(doc, stream, content_doc_id(summary_id_input(trace_id)), None, None))
        return pending

    def open_traces(self) -> int:
        return sum(len(tracker) for _, tracker in self.trackers.values())


def install(app: faust.App, rt: Runtime) -> None:
    """Register topics, tables, agents, timers and web pages of the worker on `app`."""
    from pipeline.web import install_pages

    settings = rt.settings
    partitions = settings.internal_partitions
    # An internal message carries a whole input batch's share for its partition (hundreds of entries), so
    # the internal agents take and buffer far fewer messages than the input agents take records.
    internal = {"internal": True, "partitions": partitions, "maxsize": INTERNAL_BATCH_MESSAGES, **RAW}
    projections_topic = app.topic(f"{app.conf.id}-trace-projections", **internal)
    partials_topic = app.topic(f"{app.conf.id}-metric-partials", **internal)
    traces_table = app.Table("traces", partitions=partitions, key_type=str, default=None)
    windows_table = app.Table("metric-windows", partitions=partitions, key_type=str, default=None)
    batch_max, batch_wait = settings.batch_max_records, settings.batch_max_wait_s
    if rt.patterns is not None:
        _install_patterns(app, rt)

    async def send_internal(prepared: Prepared, *, spans_direct: dict[str, int] | None = None) -> list[Any]:
        """Queue the batch's projections and partials; the returned futures resolve when Kafka has them.

        One message (unkeyed, explicit partition) per destination partition per batch, carrying all of
        the batch's projections (or partials) for that partition; the partition is `internal_partition`
        of the trace id (metric key), so a trace's refs always reach the same partition and table slice.
        """
        projections: dict[int, list[Any]] = {}
        partition_of: dict[str, int] = {}
        for projected in prepared.projections:
            trace_id = projected.trace_id
            if spans_direct is not None and trace_id in spans_direct:
                continue
            partition = partition_of.get(trace_id)
            if partition is None:
                partition = partition_of[trace_id] = internal_partition(trace_id.encode(), partitions)
            projections.setdefault(partition, []).append(projected)
        partials: dict[int, list[Partial]] = {}
        for partial in prepared.partials:
            partials.setdefault(internal_partition(partial.key.token().encode(), partitions), []).append(
                partial
            )
        futures = []
        for partition, pairs in projections.items():
            for value in _encoded_chunks(pairs, encode_refs):
                futures.append(await projections_topic.send(key=None, value=value, partition=partition))
        for partition, group in partials.items():
            for value in _encoded_chunks(group, encode_partials):
                futures.append(await partials_topic.send(key=None, value=value, partition=partition))
        return futures

    async def run_batches(
        name: str,
        stream: Any,
        handle: Callable[[list[Record], int], Awaitable[None]],
        max_records: int | None = None,
    ) -> None:
        """The one agent loop: batch, handle until durable, then acknowledge (see the module doc)."""
        await rt.start()
        guard = rt.guards.setdefault(name, OffsetGuard())
        async for events in stream.noack_take(max_records or batch_max, within=batch_wait):
            started_ns = time.time_ns()
            token = BATCH_ID.set(new_batch_id())
            try:
                process, again, seeks = guard.split(events, app.consumer, time.monotonic())
                for tp, offset in seeks.items():
                    telemetry.W_OFFSET_HOLES.labels(tp.topic).inc()
                    log.warning(
                        "offset hole: re-reading the partition from the missing offset",
                        extra={
                            "fields": {
                                "agent": name,
                                "topic": tp.topic,
                                "partition": tp.partition,
                                "offset": offset,
                            }
                        },
                    )
                    # In the background: the seek runs in the consumer thread and waits for the new
                    # position, which needs this agent to keep draining the stale records meanwhile.
                    background_seek(app, tp, offset)
                records = [to_record(event) for event in process]
                if records:
                    await handle(records, started_ns)
                    rt.mark_durable(records)
                telemetry.W_BATCHES.labels(name).inc()
                telemetry.W_PIPELINE_SECONDS.labels(name).observe((time.time_ns() - started_ns) / 1e9)
                log.debug(
                    "batch durable",
                    extra={
                        "fields": {
                            "agent": name,
                            "batch.records": len(records),
                            "batch.again": len(again),
                            "batch.offsets": _ranges(records),
                        }
                    },
                )
            except asyncio.CancelledError:
                log.info(
                    "batch cancelled before it was durable; it will be read again",
                    extra={"fields": {"agent": name}},
                )
                raise
            except BaseException as exc:
                _fatal(f"agent {name}", exc)
            finally:
                BATCH_ID.reset(token)
            for event in (*process, *again):
                rt.acks.allow(event.message)
                await stream.ack(event)
            rt.fetch_watch.touch({event.message.tp for event in (*process, *again)})

    async def wait_all(futures: list[Any]) -> None:
        if futures:
            await asyncio.gather(*futures)

    # --- raw logs ---
    if settings.raw_topics:
        raw_topic = app.topic(*[topic.topic for topic in settings.raw_topics], **RAW)

        async def handle_raw(records: list[Record], started_ns: int) -> None:
            decoded = Decoded()
            now = time.time_ns()
            for record in records:
                decoded.extend(decode_raw(record, rt.raw_specs[record.topic], now_ns=now, limits=rt.limits))
            prepared = rt.prepare(decoded, started_ns, backfill=True)
            rt.count_batch("raw_logs", records, prepared)
            futures = await send_internal(prepared)
            await rt.deliver(prepared.pending, prepared.dead)
            await wait_all(futures)

        @app.agent(raw_topic, name="raw_logs", concurrency=1)
        async def raw_logs(stream: Any) -> None:
            await run_batches("raw_logs", stream, handle_raw)

    # --- OTLP spans ---
    if settings.otlp_spans_topic:
        spans_topic = app.topic(settings.otlp_spans_topic, **RAW)
        direct = settings.partition_traces_by_id

        async def handle_spans(records: list[Record], started_ns: int) -> None:
            decoded = Decoded()
            now = time.time_ns()
            partition_of: dict[str, int] = {}
            for record in records:
                part = decode_otlp_spans(
                    record,
                    encoding=settings.otlp_spans_encoding,
                    namespace=rt.namespace,
                    now_ns=now,
                    limits=rt.limits,
                )
                if direct:
                    for item in part.items:
                        partition_of[item.doc["trace.id"]] = record.partition
                decoded.extend(part)
            prepared = rt.prepare(decoded, started_ns)
            rt.roots.learn_from_spans(prepared.docs)
            rt.count_batch("otlp_spans", records, prepared)
            closed_pending: list[Pending] = []
            if direct:
                closed_pending = _track(rt, traces_table, prepared.projections, partition_of)
            futures = await send_internal(prepared, spans_direct=partition_of if direct else None)
            await rt.deliver(prepared.pending + closed_pending, prepared.dead)
            await wait_all(futures)
            if direct:
                for partition in set(partition_of.values()):
                    rt.tracker(traces_table, partition)[0].flush_deletes()

        @app.agent(spans_topic, name="otlp_spans", concurrency=1)
        async def otlp_spans(stream: Any) -> None:
            await run_batches("otlp_spans", stream, handle_spans)

    # --- OTLP logs ---
    if settings.otlp_logs_topic:
        logs_topic = app.topic(settings.otlp_logs_topic, **RAW)

        async def handle_otlp_logs(records: list[Record], started_ns: int) -> None:
            decoded = Decoded()
            now = time.time_ns()
            for record in records:
                decoded.extend(
                    decode_otlp_logs(
                        record,
                        encoding=settings.otlp_logs_encoding,
                        dataset=settings.otlp_logs_dataset,
                        namespace=rt.namespace,
                        now_ns=now,
                        limits=rt.limits,
                    )
                )
            prepared = rt.prepare(decoded, started_ns, backfill=True)
            rt.count_batch("otlp_logs", records, prepared)
            futures = await send_internal(prepared)
            await rt.deliver(prepared.pending, prepared.dead)
            await wait_all(futures)

        @app.agent(logs_topic, name="otlp_logs", concurrency=1)
        async def otlp_logs(stream: Any) -> None:
            await run_batches("otlp_logs", stream, handle_otlp_logs)

    # --- trace projections -> trace table -> summaries ---
    async def handle_projections(records: list[Record], started_ns: int) -> None:
        refs: dict[str, int] = {}
        grouped: list[Any] = []
        for record, pairs in _unpack(records, _one_projection, decode_refs, "trace projection"):
            for trace_id, ref in pairs:
                grouped.append((trace_id, ref))
                refs[trace_id] = record.partition
        rt.count_batch("trace_projections", records, None)
        telemetry.W_PROJECTIONS_RECEIVED.inc(len(grouped))
        closed = _track(rt, traces_table, grouped, refs)
        if closed:
            await rt.deliver(closed)
        for partition in set(refs.values()):
            rt.tracker(traces_table, partition)[0].flush_deletes()

    @app.agent(projections_topic, name="trace_projections", concurrency=1)
    async def trace_projections(stream: Any) -> None:
        await run_batches("trace_projections", stream, handle_projections, INTERNAL_BATCH_MESSAGES)

    @app.timer(settings.trace_scan_interval_s)
    async def summarize_idle_traces() -> None:
        await _guarded("summarize_idle_traces", _summarize_idle(rt))

    # --- metric partials -> windows -> metric documents ---
    async def handle_partials(records: list[Record], started_ns: int) -> None:
        now = time.time_ns()
        for record, partials in _unpack(records, _one_partial, decode_partials, "metric partial"):
            store = rt.windows_for(windows_table, record.partition)[1]
            for partial in partials:
                added = store.add(partial, now)
                if added.late:
                    telemetry.W_METRIC_LATE.labels(partial.key.metricset).inc(partial.stats.count)
                if added.overflowed:
                    telemetry.W_METRIC_OVERFLOW.labels(partial.key.metricset).inc(partial.stats.count)
        rt.flush_windows()
        rt.count_batch("metric_partials", records, None)

    @app.agent(partials_topic, name="metric_partials", concurrency=1)
    async def metric_partials(stream: Any) -> None:
        await run_batches("metric_partials", stream, handle_partials, INTERNAL_BATCH_MESSAGES)

    @app.timer(min(1.0, settings.metric_window_s / 2))
    async def close_metric_windows() -> None:
        await _guarded("close_metric_windows", _close_windows(rt))

    # --- state after a rebalance ---
    @traces_table.on_recover
    async def _traces_recovered() -> None:
        for guard in rt.guards.values():
            guard.reset()
        _resync(
            rt.trackers,
            app,
            projections_topic.get_topic_name()
            if not settings.partition_traces_by_id
            else settings.otlp_spans_topic,
            lambda p: rt.tracker(traces_table, p),
        )

    @windows_table.on_recover
    async def _windows_recovered() -> None:
        _resync(rt.windows, app, partials_topic.get_topic_name(), lambda p: rt.windows_for(windows_table, p))

    @app.timer(1.0)
    async def reseek_holes() -> None:
        now = time.monotonic()
        for guard in rt.guards.values():
            for tp, offset in guard.due_seeks(now).items():
                log.info(
                    "offset hole still open: seeking again",
                    extra={"fields": {"topic": tp.topic, "partition": tp.partition, "offset": offset}},
                )
                background_seek(app, tp, offset)

    app.sensors.add(rt.fetch_watch)

    @app.timer(settings.readiness_interval_s)
    async def probe() -> None:
        from pipeline.web import probe_readiness

        await probe_readiness(rt)
        telemetry.W_OPEN_TRACES.set(rt.open_traces())
        _update_lag(rt)

    _install_commit_metrics(app, rt)
    install_pages(app, rt)


def _install_patterns(app: faust.App, rt: Runtime) -> None:
    """The miner's state table: every worker reads all of it (a global table, changelog
    `<group>-log-patterns-changelog`, one partition as faust advises for global tables), loads it after the
    first recovery, and writes its changed snapshots every PATTERN_SAVE_INTERVAL_S and on stop. Workers
    mining the same (dataset, service) overwrite each other's snapshot: last writer wins, which is
    harmless since pattern ids come from the template text."""
    table = app.GlobalTable(
        "log-patterns",
        partitions=1,
        recovery_buffer_size=1,
        key_type=str,
        value_type=str,
        default=None,
    )
    rt.patterns_table = table

    @table.on_recover
    async def _patterns_recovered() -> None:
        rt.load_patterns(table)

    @app.timer(PATTERN_SAVE_INTERVAL_S)
    async def save_patterns() -> None:
        if rt.patterns_loaded:
            rt.save_patterns(table)

    @app.on_before_shutdown.connect
    async def _save_patterns_on_stop(app: Any, **kwargs: Any) -> None:
        if rt.patterns_loaded:
            saved = rt.save_patterns(table)
            log.info("pattern snapshots saved", extra={"fields": {"patterns.keys": saved}})


def _one_projection(record: Record) -> list[Any]:
    """A keyed projection message (the format before the sends were batched): one ref of its trace id."""
    return [(bytes(record.key or b"").decode(errors="replace"), decode_ref(record.value or b""))]


def _one_partial(record: Record) -> list[Any]:
    """A keyed partial message (the format before the sends were batched): one partial."""
    return [Partial.from_bytes(record.value or b"")]


def _unpack(
    records: Sequence[Record],
    one: Callable[[Record], list[Any]],
    many: Callable[[bytes], list[Any]],
    what: str,
) -> Iterator[tuple[Record, list[Any]]]:
    """(record, its entries) of an internal topic's batch: a keyed record holds one entry (`one`), an
    unkeyed one a batch (`many`); an unreadable record is logged and skipped (it is still acknowledged)."""
    for record in records:
        try:
            entries = one(record) if record.key else many(record.value or b"")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("skipping an unreadable %s: %s", what, exc)
            continue
        yield record, entries


def _ranges(records: Sequence[Record]) -> dict[str, list[int]]:
    """`topic:partition` -> [first offset, last offset] of a batch (for the batch log line)."""
    ranges: dict[str, list[int]] = {}
    for record in records:
        key = f"{record.topic}:{record.partition}"
        found = ranges.get(key)
        if found is None:
            ranges[key] = [record.offset, record.offset]
        else:
            found[0], found[1] = min(found[0], record.offset), max(found[1], record.offset)
    return ranges


def _track(rt: Runtime, table: Any, refs: Iterable[Any], partition_of: dict[str, int]) -> list[Pending]:
    """Add refs to their partition's trace tracker; summaries of traces evicted by the cap."""
    by_trace: dict[str, list[Any]] = {}
    for trace_id, ref in refs:
        by_trace.setdefault(trace_id, []).append(ref)
    now = time.time_ns()
    closed = []
    spans = late = 0
    for trace_id, trace_refs in by_trace.items():
        partition = partition_of.get(trace_id)
        if partition is None:
            continue
        tracker = rt.tracker(table, partition)[1]
        before = tracker.late_refs
        evicted = tracker.add(trace_id, trace_refs, now)
        if tracker.late_refs != before:
            late += tracker.late_refs - before
            continue
        spans += sum(1 for ref in trace_refs if hasattr(ref, "span_id"))
        if evicted:
            telemetry.W_TRACE_EVICTIONS.inc(len(evicted))
            closed.extend(evicted)
        for ref in trace_refs:
            service = getattr(ref, "service", None)
            if service and getattr(ref, "parent_id", "x") is None:
                rt.roots.learn(trace_id, service)
    telemetry.W_SPANS_TRACKED.inc(spans)
    if late:
        telemetry.W_TRACE_LATE_REFS.inc(late)
    pending = rt.summaries(closed)
    telemetry.W_TRACE_SUMMARIES.inc(len(pending))
    return pending


async def _guarded(what: str, work: Awaitable[None]) -> None:
    """Run a timer's work; an unexpected failure is fatal like an agent's (see `_fatal`)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except BaseException as exc:
        _fatal(what, exc)


async def _summarize_idle(rt: Runtime) -> None:
    """Summarize traces idle for `trace_idle_s`; table entries are deleted once the summaries are durable."""
    now = time.time_ns()
    closed = []
    touched = []
    for state, tracker in list(rt.trackers.values()):
        found = tracker.idle(now)
        if found:
            closed.extend(found)
            touched.append(state)
    if not closed:
        return
    token = BATCH_ID.set(new_batch_id())
    try:
        pending = rt.summaries(closed)
        await rt.deliver(pending)
        telemetry.W_TRACE_SUMMARIES.inc(len(pending))
        log.info("trace summaries written", extra={"fields": {"summaries": len(pending)}})
    finally:
        BATCH_ID.reset(token)
    for state in touched:
        state.flush_deletes()


async def _close_windows(rt: Runtime) -> None:
    """Close windows the watermark passed; their entries are deleted once the documents are durable."""
    now = time.time_ns()
    pending: list[Pending] = []
    touched = []
    keys: dict[str, int] = {}
    for state, store in list(rt.windows.values()):
        emitted = store.advance(now)
        if emitted:
            touched.append(state)
        for entry in emitted:
            metricset = entry.doc["metricset.name"]
            keys[metricset] = keys.get(metricset, 0) + 1
            pending.append(
                Pending(
                    entry.doc,
                    metrics_stream(metricset, rt.namespace),
                    content_doc_id(entry.id_input),
                    None,
                    None,
                )
            )
    if not pending:
        rt.flush_windows()
        return
    token = BATCH_ID.set(new_batch_id())
    try:
        await rt.deliver(pending)
    finally:
        BATCH_ID.reset(token)
    for metricset, count in keys.items():
        telemetry.W_METRIC_KEYS.labels(metricset).set(count)
        telemetry.W_METRIC_WINDOWS.labels(metricset).inc()
    for state in touched:
        state.flush_deletes()


def _resync(states: dict[int, Any], app: faust.App, topic: str, make: Callable[[int], Any]) -> None:
    """After recovery: keep state for the partitions of `topic` this worker now owns, drop the rest."""
    assigned = {tp.partition for tp in app.consumer.assignment() if tp.topic == topic}
    for partition in list(states):
        if partition not in assigned:
            state = states.pop(partition)[0]
            state.drop_local()
    for partition in assigned:
        found = states.get(partition)
        if found is None:
            make(partition)
        else:
            found[0].rescan()
            found[1].resync()
    log.info("state recovered", extra={"fields": {"topic": topic, "partitions": sorted(assigned)}})


def _update_lag(rt: Runtime) -> None:
    consumer = rt.app.consumer
    try:
        assignment = consumer.assignment()
    except Exception:
        return
    for tp in assignment:
        highwater = consumer.highwater(tp)
        position = rt.positions.get((tp.topic, tp.partition))
        if highwater is None or position is None:
            continue
        telemetry.W_CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - position))


class _CommitSensor(faust.Sensor):
    """Commit latency from faust's sensor hooks."""

    def on_commit_initiated(self, consumer: Any) -> Any:
        return time.perf_counter()

    def on_commit_completed(self, consumer: Any, state: Any) -> None:
        if isinstance(state, float):
            telemetry.W_COMMIT_SECONDS.observe(time.perf_counter() - state)


def _install_commit_metrics(app: faust.App, rt: Runtime) -> None:
    app.sensors.add(_CommitSensor())
    monitor = app.monitor
    original = monitor.on_tp_commit

    def on_tp_commit(tp_offsets: Any) -> None:
        original(tp_offsets)
        rt.on_committed({(tp.topic, tp.partition): offset for tp, offset in tp_offsets.items()})

    monitor.on_tp_commit = on_tp_commit  # type: ignore[method-assign]
