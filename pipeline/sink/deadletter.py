"""Dead letters: records and documents that cannot be indexed, kept where an SRE can find and replay them.

Each dead letter goes to two places, and `write()` returns only when both have it:
- the dead-letter Kafka topic (acks=all), value = the record as received after redaction, with headers
  naming the reason, the error, the source coordinates, the time and the document id — and, for a
  document Elasticsearch refused, the document and its target stream so `logtrace dlq replay` can
  re-send it under its original id;
- the `logs-logtrace.deadletter-<ns>` data stream, one searchable document per letter.
Payloads over the size limit keep their first 64 KiB, the full size and a sha256.
"""

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from elasticsearch import AsyncElasticsearch

from pipeline.sink import actions
from pipeline.sink.doc_ids import content_doc_id
from pipeline.sink.items import DeadLetter, Pending
from pipeline.sink.routing import deadletter_stream

# Bytes of a payload kept when it is over the limit, and always in the Elasticsearch document.
KEEP_BYTES = 64 * 1024
# Kafka's default message limit is 1 MiB; stay under it with room for headers.
DEFAULT_MAX_RECORD_BYTES = 900 * 1024
MIN_RETENTION_DAYS = 14
_DAY_MS = 24 * 3600 * 1000

# Kafka header names (values are UTF-8 bytes); `logtrace dlq replay` reads the same names.
H_REASON = "reason"
H_ERROR_TYPE = "error_type"
H_DETAIL = "detail"
H_TOPIC = "source_topic"
H_PARTITION = "source_partition"
H_OFFSET = "source_offset"
H_INDEX = "source_index"
H_TIME = "time"
H_DOC_ID = "doc_id"
H_SIZE = "size"
H_SHA256 = "sha256"
H_TRUNCATED = "truncated"
H_DATA_STREAM = "data_stream"
H_DOCUMENT = "document"


class DeadLetterWriter(Protocol):
    """Makes dead letters durable; raises if it cannot (the sink then retries, offsets stay uncommitted)."""

    async def write(self, letters: Sequence[DeadLetter]) -> None: ...


@dataclass(frozen=True, slots=True)
class Payload:
    """The bytes kept of a dead letter's record, with the facts about the whole record."""

    kept: bytes
    size: int
    sha256: str
    truncated: bool


def payload(raw: bytes, limit: int) -> Payload:
    """`raw` whole when at most `limit` bytes, else its first 64 KiB; always the full size and sha256."""
    truncated = len(raw) > limit
    return Payload(
        raw[:KEEP_BYTES] if truncated else raw, len(raw), hashlib.sha256(raw).hexdigest(), truncated
    )


def letter_for(
    pending: Pending, reason: str, error_type: str, detail: str, body: bytes | None = None
) -> DeadLetter:
    """The dead letter of a document Elasticsearch refused (or that could not be serialized).

    `body` is the document's bulk bytes when it was encoded; the document line is kept for replay.
    """
    document = body.split(b"\n", 2)[1] if body is not None else orjson.dumps(pending.doc, default=repr)
    raw = pending.raw if pending.raw is not None else document
    return DeadLetter(
        reason,
        error_type,
        detail,
        raw,
        pending.source,
        pending.doc_id,
        pending.original,
        document=document,
        data_stream=pending.data_stream,
    )


def kafka_headers(
    letter: DeadLetter, kept: Payload, now: datetime, with_document: bool
) -> list[tuple[str, bytes]]:
    """The headers of a dead letter's Kafka record (see module doc)."""
    values: dict[str, object] = {
        H_REASON: letter.reason,
        H_ERROR_TYPE: letter.error_type,
        H_DETAIL: letter.detail[:1024],
        H_TIME: now.isoformat(timespec="milliseconds"),
        H_SIZE: kept.size,
        H_SHA256: kept.sha256,
        H_TRUNCATED: str(kept.truncated).lower(),
    }
    if letter.doc_id is not None:
        values[H_DOC_ID] = letter.doc_id
    if letter.source is not None:
        values |= {
            H_TOPIC: letter.source.topic,
            H_PARTITION: letter.source.partition,
            H_OFFSET: letter.source.offset,
            H_INDEX: letter.source.index,
        }
    if letter.data_stream is not None:
        values[H_DATA_STREAM] = letter.data_stream
    headers = [(name, str(value).encode()) for name, value in values.items()]
    if with_document and letter.document is not None:
        headers.append((H_DOCUMENT, letter.document))
    return headers


def deadletter_document(letter: DeadLetter, kept: Payload, now: datetime) -> dict[str, Any]:
    """The searchable Elasticsearch document of a dead letter (fields declared in mappings/fields.yml)."""
    doc: dict[str, Any] = {
        "@timestamp": now.isoformat(),
        "message": f"{letter.reason}: {letter.detail}",
        "event.kind": "pipeline_error",
        "error.type": letter.error_type,
        "error.message": letter.detail,
        "logtrace.deadletter.reason": letter.reason,
        "logtrace.deadletter.size": kept.size,
        "logtrace.deadletter.sha256": kept.sha256,
        "logtrace.deadletter.truncated": kept.size > KEEP_BYTES,
        # Undecodable bytes stay visible as \\xNN escapes instead of being dropped.
        "logtrace.deadletter.payload": kept.kept[:KEEP_BYTES].decode("utf-8", "backslashreplace"),
    }
    if letter.doc_id is not None:
        doc["logtrace.deadletter.doc_id"] = letter.doc_id
    if letter.data_stream is not None:
        doc["logtrace.deadletter.data_stream"] = letter.data_stream
    if letter.source is not None:
        doc |= {
            "logtrace.kafka.topic": letter.source.topic,
            "logtrace.kafka.partition": letter.source.partition,
            "logtrace.kafka.offset": letter.source.offset,
            "logtrace.deadletter.source_index": letter.source.index,
        }
    return doc


def deadletter_doc_id(letter: DeadLetter, kept: Payload) -> str:
    """Deterministic: writing the same letter again (a retried write) is a 409, not a copy."""
    source = letter.source
    coords = f"{source.topic}\x00{source.partition}\x00{source.offset}\x00{source.index}" if source else ""
    return content_doc_id(f"{letter.reason}\x00{letter.doc_id}\x00{coords}\x00{kept.sha256}".encode())


class ElasticsearchDeadLetterIndexer:
    """Indexes dead-letter documents into `logs-logtrace.deadletter-<namespace>`; raises unless all landed."""

    def __init__(self, es: AsyncElasticsearch, namespace: str) -> None:
        self._es = es
        self.stream = deadletter_stream(namespace)

    async def index(self, docs: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Create each (id, document); 201 and 409 are success, anything else raises."""
        pending = [Pending(doc, self.stream, doc_id, None, None) for doc_id, doc in docs]
        payload_bytes = actions.body([actions.encode(p) for p in pending])
        response = await self._es.bulk(
            operations=payload_bytes, filter_path="errors,items.*.status,items.*.error"
        )
        if not response.body.get("errors"):
            return
        for entry in response.body["items"]:
            error = actions.item_error(entry)
            if actions.classify_item(error) not in (actions.Decision.INDEXED, actions.Decision.DUPLICATE):
                raise RuntimeError(f"dead-letter document refused: {error}")


class KafkaDeadLetterWriter:
    """Writes dead letters to the dead-letter topic and the dead-letter data stream (see module doc).

    The producer must be created with acks="all" (see `deadletter_producer`). With `raw_topic`, letters
    that carry the unredacted record also go there (an access-restricted topic).
    """

    def __init__(
        self,
        producer: AIOKafkaProducer,
        topic: str,
        es_indexer: ElasticsearchDeadLetterIndexer,
        raw_topic: str | None = None,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._indexer = es_indexer
        self._raw_topic = raw_topic
        self._max_record_bytes = max_record_bytes

    async def write(self, letters: Sequence[DeadLetter]) -> None:
        """Produce every letter (awaiting each acknowledgement), then index them; raises on any failure."""
        now = datetime.now(UTC)
        sends = []
        docs = []
        for letter in letters:
            kept = payload(letter.raw, self._max_record_bytes)
            room = self._max_record_bytes - len(kept.kept)
            with_document = letter.document is not None and len(letter.document) <= room
            key = letter.doc_id.encode() if letter.doc_id else None
            headers = kafka_headers(letter, kept, now, with_document)
            sends.append(await self._producer.send(self._topic, kept.kept, key=key, headers=headers))
            if self._raw_topic is not None and letter.original is not None:
                original = payload(letter.original, self._max_record_bytes)
                sends.append(
                    await self._producer.send(self._raw_topic, original.kept, key=key, headers=headers)
                )
            docs.append((deadletter_doc_id(letter, kept), deadletter_document(letter, kept, now)))
        await asyncio.gather(*sends)
        await self._indexer.index(docs)


def deadletter_producer(kafka: dict[str, Any]) -> AIOKafkaProducer:
    """A producer fit for dead letters: every in-sync replica acknowledges, retries do not duplicate.

    `kafka` holds the connection keyword arguments (KafkaSettings.aiokafka_kwargs()).
    """
    return AIOKafkaProducer(**kafka, acks="all", enable_idempotence=True, max_request_size=2 * 1024 * 1024)


async def ensure_deadletter_topic(
    kafka: dict[str, Any],
    topic: str,
    retention_days: int = MIN_RETENTION_DAYS,
    partitions: int = 3,
    replication_factor: int | None = None,
) -> bool:
    """Create `topic` with `retention.ms` of `retention_days` (>= 14); True when it was created.

    `kafka` holds the connection keyword arguments (KafkaSettings.aiokafka_kwargs()). An existing topic
    is left as it is if its retention is long enough (or infinite), else this raises: altering a topic
    with the non-incremental config API would reset its other settings. `replication_factor` None means
    min(3, brokers in the cluster).
    """
    if retention_days < MIN_RETENTION_DAYS:
        raise ValueError(f"dead-letter retention must be >= {MIN_RETENTION_DAYS} days")
    retention_ms = retention_days * _DAY_MS
    admin = AIOKafkaAdminClient(**kafka)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            if replication_factor is None:
                replication_factor = min(3, len((await admin.describe_cluster())["brokers"]))
            new = NewTopic(
                topic, partitions, replication_factor, topic_configs={"retention.ms": str(retention_ms)}
            )
            await admin.create_topics([new])
            return True
        current = await _topic_retention_ms(admin, topic)
        if current != -1 and current < MIN_RETENTION_DAYS * _DAY_MS:
            raise RuntimeError(
                f"topic {topic} exists with retention.ms={current} (< {MIN_RETENTION_DAYS} days); "
                f"raise it: kafka-configs --alter --entity-type topics --entity-name {topic} "
                f"--add-config retention.ms={retention_ms}"
            )
        return False
    finally:
        await admin.close()


async def _topic_retention_ms(admin: AIOKafkaAdminClient, topic: str) -> int:
    responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    for response in responses:
        for resource in response.resources:
            # (error_code, error_message, resource_type, resource_name, config_entries)
            for entry in resource[4]:
                if entry[0] == "retention.ms":
                    return int(entry[1])
    raise RuntimeError(f"topic {topic}: retention.ms not reported")
