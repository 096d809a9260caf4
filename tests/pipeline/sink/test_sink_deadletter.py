"""Dead-letter payloads, Kafka headers and the searchable document."""

import hashlib
from datetime import UTC, datetime

from pipeline.sink import deadletter
from pipeline.sink.items import DeadLetter, Pending, Source

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_small_payload_is_kept_whole() -> None:
    kept = deadletter.payload(b"abc", limit=10)
    assert (kept.kept, kept.size, kept.truncated) == (b"abc", 3, False)
    assert kept.sha256 == hashlib.sha256(b"abc").hexdigest()


def test_large_payload_keeps_64_kib_size_and_hash() -> None:
    raw = bytes(range(256)) * 1024  # 256 KiB
    kept = deadletter.payload(raw, limit=100_000)
    assert (len(kept.kept), kept.size, kept.truncated) == (64 * 1024, len(raw), True)
    assert kept.sha256 == hashlib.sha256(raw).hexdigest()


def letter(**overrides) -> DeadLetter:
    values = {
        "reason": "mapper_parsing_exception",
        "error_type": "mapper_parsing_exception",
        "detail": "failed to parse field [a]",
        "raw": b"redacted \xff record",
        "source": Source("app", 2, 41, 1),
        "doc_id": "AbC",
        "document": b'{"a":{}}',
        "data_stream": "logs-logtrace.app-default",
    }
    return DeadLetter(**{**values, **overrides})


def test_headers_name_reason_error_coordinates_time_and_id() -> None:
    headers = dict(deadletter.kafka_headers(letter(), deadletter.payload(b"x", 10), NOW, with_document=True))
    assert headers == {
        "reason": b"mapper_parsing_exception",
        "error_type": b"mapper_parsing_exception",
        "detail": b"failed to parse field [a]",
        "time": b"2026-12-03T10:00:00.000+00:00",
        "size": b"1",
        "sha256": hashlib.sha256(b"x").hexdigest().encode(),
        "truncated": b"false",
        "doc_id": b"AbC",
        "source_topic": b"app",
        "source_partition": b"2",
        "source_offset": b"41",
        "source_index": b"1",
        "data_stream": b"logs-logtrace.app-default",
        "document": b'{"a":{}}',
    }


def test_searchable_document_escapes_undecodable_bytes() -> None:
    item = letter()
    doc = deadletter.deadletter_document(item, deadletter.payload(item.raw, 1000), NOW)
    assert doc["logtrace.deadletter.payload"] == "redacted \\xff record"
    assert doc["logtrace.kafka.offset"] == 41 and doc["logtrace.deadletter.source_index"] == 1
    assert doc["logtrace.deadletter.reason"] == "mapper_parsing_exception" and doc["error.type"]
    assert doc["logtrace.deadletter.truncated"] is False


def test_dead_letter_ids_are_stable_per_letter() -> None:
    first, second = letter(), letter(source=Source("app", 2, 42, 1))
    kept = deadletter.payload(first.raw, 1000)
    assert deadletter.deadletter_doc_id(first, kept) == deadletter.deadletter_doc_id(letter(), kept)
    assert deadletter.deadletter_doc_id(first, kept) != deadletter.deadletter_doc_id(second, kept)


def test_letter_for_keeps_the_redacted_record_and_the_document() -> None:
    pending = Pending({"a": 1}, "logs-logtrace.app-default", "id1", Source("app", 0, 5), b"the record")
    body = b'{"create":{}}\n{"a":1}\n'
    made = deadletter.letter_for(
        pending, "mapper_parsing_exception", "mapper_parsing_exception", "bad", body=body
    )
    assert (made.raw, made.document, made.doc_id, made.data_stream) == (
        b"the record",
        b'{"a":1}',
        "id1",
        "logs-logtrace.app-default",
    )
    no_raw = deadletter.letter_for(Pending({"a": 1}, "s", "i", None, None), "r", "t", "d")
    assert no_raw.raw == b'{"a":1}'


class FakeProducer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes | None, list]] = []

    async def send(self, topic, value, key=None, headers=None):
        self.sent.append((topic, value, key, headers))
        future = __import__("asyncio").get_running_loop().create_future()
        future.set_result(None)
        return future


class FakeIndexer:
    def __init__(self) -> None:
        self.docs: list = []

    async def index(self, docs) -> None:
        self.docs.extend(docs)


async def test_writer_sends_to_both_topics_and_indexes() -> None:
    producer, indexer = FakeProducer(), FakeIndexer()
    writer = deadletter.KafkaDeadLetterWriter(producer, "dlq", indexer, raw_topic="dlq.raw")  # type: ignore[arg-type]
    await writer.write([letter(original=b"secret record"), letter(doc_id=None)])
    assert [(topic, value) for topic, value, _, _ in producer.sent] == [
        ("dlq", b"redacted \xff record"),
        ("dlq.raw", b"secret record"),
        ("dlq", b"redacted \xff record"),
    ]
    assert producer.sent[0][2] == b"AbC" and len(indexer.docs) == 2
