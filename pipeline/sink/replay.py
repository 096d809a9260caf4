"""Re-feeding dead letters after a fix, under their original ids so a replay cannot duplicate.

A dead letter of a document Elasticsearch refused carries the document, its data stream and its id
(Kafka headers, see pipeline.sink.deadletter): it is delivered again through the sink as it was, so a
document that is already there answers 409. A record that never became a document (it failed to
parse) is produced again to its source topic with `logtrace.origin.*` headers naming its original
coordinates; the stream worker derives the document ids from those instead of the new offset.
"""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from pipeline.sink import deadletter as dl
from pipeline.sink.bulk import ElasticsearchSink
from pipeline.sink.items import Pending, Source
from pipeline.sink.routing import is_ours

# Headers a re-produced record carries: the worker uses them for `record_doc_id` instead of its new offset.
ORIGIN_TOPIC = "logtrace.origin.topic"
ORIGIN_PARTITION = "logtrace.origin.partition"
ORIGIN_OFFSET = "logtrace.origin.offset"
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
# Documents handed to the sink at once.
_BATCH = 500


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`2h`, `30m`, `7d`, `45s` (ago) or an ISO 8601 time (UTC when it has no offset)."""
    now = now or datetime.now(UTC)
    match = _RELATIVE.match(value.strip())
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Letter:
    """One record read back from the dead-letter topic."""

    value: bytes
    headers: dict[str, bytes]
    timestamp_ms: int

    def header(self, name: str) -> str | None:
        raw = self.headers.get(name)
        return raw.decode() if raw is not None else None

    @property
    def source(self) -> Source | None:
        topic, partition, offset = (self.header(h) for h in (dl.H_TOPIC, dl.H_PARTITION, dl.H_OFFSET))
        if topic is None or partition is None or offset is None:
            return None
        return Source(topic, int(partition), int(offset), int(self.header(dl.H_INDEX) or 0))

    def pending(self) -> Pending | None:
        """The document to deliver again, or None for a record-level letter (or a foreign stream name)."""
        document, stream, doc_id = (
            self.headers.get(dl.H_DOCUMENT),
            self.header(dl.H_DATA_STREAM),
            self.header(dl.H_DOC_ID),
        )
        if document is None or stream is None or doc_id is None or not is_ours(stream):
            return None
        return Pending(orjson.loads(document), stream, doc_id, self.source, self.value)


@dataclass(slots=True)
class ReplayReport:
    """What a replay selected and did (or would do, in a dry run)."""

    selected: int = 0
    documents: int = 0
    records: int = 0
    # A record-level letter without source coordinates, or a truncated one: nothing to re-feed.
    unreplayable: int = 0
    indexed: int = 0
    duplicates: int = 0
    dead_lettered_again: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)


def selected(letter: Letter, reason: str | None, since_ms: int | None) -> bool:
    """Does `letter` match the --reason / --since filters?"""
    if reason is not None and letter.header(dl.H_REASON) != reason:
        return False
    return since_ms is None or letter.timestamp_ms >= since_ms


async def topic_partitions(kafka: dict[str, Any], topic: str) -> list[int]:
    """Partition numbers of `topic` (empty when it does not exist), asked of the cluster, not a cache.

    `kafka` holds the connection keyword arguments (KafkaSettings.aiokafka_kwargs()).
    """
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return sorted(p["partition"] for t in described if t["error_code"] == 0 for p in t["partitions"])


async def read_letters(
    consumer: AIOKafkaConsumer, topic: str, partition_ids: list[int], since_ms: int | None
) -> AsyncIterator[Letter]:
    """Every letter in `topic` from `since_ms` (or the beginning) up to the end offsets seen at start."""
    partitions = [TopicPartition(topic, p) for p in partition_ids]
    if not partitions:
        return  # no such topic: nothing was ever dead-lettered
    consumer.assign(partitions)
    # Explicit offsets: aiokafka 0.14's seek_to_beginning() is not reflected by position() at once.
    begin = await consumer.beginning_offsets(partitions)
    end = await consumer.end_offsets(partitions)
    starts = await consumer.offsets_for_times({tp: since_ms for tp in partitions}) if since_ms else {}
    remaining = set()
    for tp in partitions:
        found = starts.get(tp)
        if since_ms and found is None:
            continue  # nothing at or after `since` in this partition
        start = found.offset if found is not None else begin[tp]
        if start < end[tp]:
            consumer.seek(tp, start)
            remaining.add(tp)
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=1000)
        for tp, records in batches.items():
            for record in records:
                if record.offset < end[tp]:
                    yield Letter(record.value or b"", dict(record.headers), record.timestamp)
            if await consumer.position(tp) >= end[tp]:
                remaining.discard(tp)


async def replay(
    consumer: AIOKafkaConsumer,
    topic: str,
    partition_ids: list[int],
    sink: ElasticsearchSink | None,
    producer: AIOKafkaProducer | None,
    reason: str | None = None,
    since: datetime | None = None,
) -> ReplayReport:
    """Re-feed the selected letters; with `sink` and `producer` None it only counts (dry run)."""
    report = ReplayReport()
    since_ms = int(since.timestamp() * 1000) if since else None
    batch: list[Pending] = []
    async for letter in read_letters(consumer, topic, partition_ids, since_ms):
        if not selected(letter, reason, since_ms):
            continue
        report.selected += 1
        why = letter.header(dl.H_REASON) or "unknown"
        report.by_reason[why] = report.by_reason.get(why, 0) + 1
        pending = letter.pending()
        if pending is not None:
            report.documents += 1
            batch.append(pending)
            if len(batch) >= _BATCH:
                await _deliver(sink, batch, report)
                batch = []
        elif letter.source is not None and letter.header(dl.H_TRUNCATED) != "true":
            report.records += 1
            if producer is not None:
                await _refeed(producer, letter, letter.source)
        else:
            report.unreplayable += 1
    await _deliver(sink, batch, report)
    return report


async def _deliver(sink: ElasticsearchSink | None, batch: list[Pending], report: ReplayReport) -> None:
    if sink is None or not batch:
        return
    delivery = await sink.deliver(batch)
    report.indexed += delivery.indexed
    report.duplicates += delivery.duplicates
    report.dead_lettered_again += delivery.dead_lettered


async def _refeed(producer: AIOKafkaProducer, letter: Letter, source: Source) -> None:
    headers = [
        (ORIGIN_TOPIC, source.topic.encode()),
        (ORIGIN_PARTITION, str(source.partition).encode()),
        (ORIGIN_OFFSET, str(source.offset).encode()),
    ]
    await producer.send_and_wait(source.topic, letter.value, headers=headers)
