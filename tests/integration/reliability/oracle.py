"""The reliability oracle: plants ids, checksums and secrets in produced events, then accounts for each one.

Every event is identified by its Kafka coordinates (known from the produce acknowledgement), so hostile
records that cannot carry an id are accounted for too. At the end (`check`) each event must be either
in Elasticsearch exactly once (matching checksum of its non-secret fields) or in the dead-letter stream
with its expected specific reason — nothing missing, nothing twice; `check_commits` (call it any time)
verifies that the group's committed offsets never pass an event that is in neither; and no planted
secret may appear in Elasticsearch, in the dead-letter topic (values and headers) or in worker logs.
"""

import asyncio
import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.integration.worker.harness import Names, committed, es_request

INDEXED = "indexed"
# One namespace for every reliability test, run after run: the dev node has no data stream API to delete
# streams, and a namespace per test would add shards to the shared cluster on every run (it has a
# 1000-shard cap). Tests are kept apart by their unique topics: every query filters on the source topic.
NAMESPACE = "reliability"


@dataclass(frozen=True)
class SharedNames(Names):
    """Unique topics and group, the shared reliability namespace."""

    @classmethod
    def new(cls) -> "SharedNames":
        return cls(uuid.uuid4().hex[:10])

    @property
    def namespace(self) -> str:
        return NAMESPACE


@dataclass
class Event:
    """One produced record and what the oracle expects of it."""

    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    # INDEXED, or the specific dead-letter reason expected.
    expect: str = INDEXED
    # For an indexed event: a parse problem its document must be flagged with (`logtrace.parse.problems`).
    flag: str | None = None
    # For an indexed event: a predicate its document must satisfy.
    doc_check: Callable[[dict], bool] | None = None
    oid: str | None = None
    checksum: str | None = None
    label: str = ""
    partition: int = -1
    offset: int = -1


def checksum(oid: str, payload: str, n: int) -> str:
    # The letter prefix keeps a checksum from ever being all digits: a 16-digit one that passes Luhn is,
    # correctly, redacted as a card number.
    return "c" + hashlib.sha256(f"{oid}|{payload}|{n}".encode()).hexdigest()[:16]


@dataclass
class Accounting:
    scenario: str
    sent: int
    indexed: int
    dead_lettered: int
    lost: int
    duplicated: int

    def line(self) -> str:
        return (
            f"{self.scenario}: sent {self.sent}, indexed {self.indexed}, dead-lettered {self.dead_lettered}, "
            f"lost {self.lost}, duplicated {self.duplicated}"
        )


class Oracle:
    """Plants and accounts the events of one scenario on `names.raw`."""

    def __init__(self, stack: Any, names: Names, scenario: str, topic: str | None = None) -> None:
        self.stack = stack
        self.names = names
        self.topic = topic or names.raw
        self.scenario = scenario
        self.events: list[Event] = []
        # A per-scenario marker every planted secret starts with: searching for it finds any leak.
        self.secret_mark = "Zq" + uuid.uuid4().hex[:12]

    # --- planting ---

    def planted(self, count: int, start: int = 0) -> list[Event]:
        """`count` JSON log events, each with an id, a checksum of its non-secret fields and two secrets."""
        events = []
        for n in range(start, start + count):
            # Letters between the digit runs: an all-digit uid joined by a dash can pass Luhn, and is
            # (rightly) redacted as a card number.
            oid = f"{self.names.uid}n{n}"
            payload = f"order-{n}-{'x' * (n % 7)}"
            secret = f"{self.secret_mark}{n}"
            line = {
                "@timestamp": "2026-01-01T00:00:00Z",
                "message": f"user login ok password={secret} n={n}",
                "oracle_id": oid,
                "oracle_sum": checksum(oid, payload, n),
                "oracle_n": n,
                "payload": payload,
                "token": f"{secret}t",
            }
            events.append(
                Event(json.dumps(line).encode(), oid=oid, checksum=line["oracle_sum"], label=f"planted-{n}")
            )
        return events

    def produce(self, events: Sequence[Event], topic: str | None = None) -> None:
        """Produce `events` in order and remember each one's partition and offset."""
        asyncio.run(self._produce(list(events), topic or self.topic))
        self.events.extend(events)

    async def _produce(self, events: list[Event], topic: str) -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(
            bootstrap_servers=self.stack.kafka_bootstrap,
            linger_ms=5,
            acks="all",
            max_request_size=64 * 1024 * 1024,
        )
        await producer.start()
        try:
            futures = [
                await producer.send(topic, event.value, key=event.key, headers=event.headers or None)
                for event in events
            ]
            for event, meta in zip(events, await asyncio.gather(*futures), strict=True):
                event.partition, event.offset = meta.partition, meta.offset
        finally:
            await producer.stop()

    # --- reading what happened ---

    def count(self) -> int:
        """Indexed documents of this scenario's topic (dead letters excluded)."""
        return len(self.indexed_docs())

    def indexed_docs(self) -> list[dict]:
        """Documents of this scenario's raw topic in any of its data streams (dead letters excluded)."""
        ns = self.names.namespace
        es_request(self.stack, "POST", f"/*-logtrace.*-{ns}/_refresh?ignore_unavailable=true")
        body = {"size": 10_000, "query": {"term": {"logtrace.kafka.topic": self.topic}}}
        found = es_request(
            self.stack,
            "POST",
            f"/*-logtrace.*-{ns}/_search?ignore_unavailable=true&allow_no_indices=true",
            body,
        )
        hits = [] if found is None else found["hits"]["hits"]
        return [hit["_source"] for hit in hits if "logtrace.deadletter.reason" not in hit["_source"]]

    def dead_docs(self) -> list[dict]:
        ns = self.names.namespace
        body = {"size": 10_000, "query": {"term": {"logtrace.kafka.topic": self.topic}}}
        found = es_request(
            self.stack,
            "POST",
            f"/logs-logtrace.deadletter-{ns}/_search?ignore_unavailable=true&allow_no_indices=true",
            body,
        )
        return [] if found is None else [hit["_source"] for hit in found["hits"]["hits"]]

    def dlq_records(self) -> list[tuple[bytes, dict[str, bytes]]]:
        """Every record of the dead-letter topic: (value, headers)."""
        return asyncio.run(self._dlq_records())

    async def _dlq_records(self) -> list[tuple[bytes, dict[str, bytes]]]:
        from aiokafka import AIOKafkaConsumer

        consumer = AIOKafkaConsumer(
            self.names.dlq,
            bootstrap_servers=self.stack.kafka_bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        records: list[tuple[bytes, dict[str, bytes]]] = []
        try:
            partitions = consumer.assignment()
            for _ in range(50):
                partitions = consumer.assignment()
                if partitions:
                    break
                await asyncio.sleep(0.1)
            if not partitions:
                return records
            ends = await consumer.end_offsets(list(partitions))
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                batch = await consumer.getmany(timeout_ms=1000)
                for messages in batch.values():
                    records.extend((m.value or b"", dict(m.headers or ())) for m in messages)
        finally:
            await consumer.stop()
        return records

    # --- checks ---

    def check_commits(self) -> None:
        """Committed offsets never pass an event that is neither indexed nor dead-lettered."""
        offsets = committed(self.stack, self.names.group, self.topic)
        done = self._coords(self.indexed_docs()) | self._coords(self.dead_docs())
        for event in self.events:
            if event.offset < offsets.get(event.partition, 0):
                assert (event.partition, event.offset) in done, (
                    f"{self.scenario}: offset {event.offset} of partition {event.partition} is committed "
                    f"but the event ({event.label}) is neither indexed nor dead-lettered"
                )

    @staticmethod
    def _coords(docs: Iterable[dict]) -> set[tuple[int, int]]:
        return {(doc["logtrace.kafka.partition"], doc["logtrace.kafka.offset"]) for doc in docs}

    def check(
        self, logs: Sequence[Path] = (), *, secrets: bool = True, duplicate_window: bool = False
    ) -> Accounting:
        """Account every event; assert nothing is lost, duplicated, misrouted or leaked; print the line.

        `duplicate_window`: the scenario runs the one known duplicate window on purpose (a rollover between
        a write and its replay); duplicates are then counted and returned for the test to assert, not
        failed on. Lost, misrouted or leaked events still fail."""
        docs = self.indexed_docs()
        indexed = Counter((d["logtrace.kafka.partition"], d["logtrace.kafka.offset"]) for d in docs)
        by_coords = {(d["logtrace.kafka.partition"], d["logtrace.kafka.offset"]): d for d in docs}
        dead_docs = self.dead_docs()
        dead = Counter(
            (d["logtrace.kafka.partition"], d["logtrace.kafka.offset"], d["logtrace.deadletter.reason"])
            for d in dead_docs
        )
        dead_by_coords: dict[tuple[int, int], list[str]] = {}
        for (partition, offset, reason), _ in dead.items():
            dead_by_coords.setdefault((partition, offset), []).append(reason)
        problems: list[str] = []
        lost = duplicated = n_indexed = n_dead = 0
        for event in self.events:
            coords = (event.partition, event.offset)
            times = indexed.get(coords, 0)
            reasons = dead_by_coords.get(coords, [])
            copies = times + sum(dead[(*coords, r)] for r in reasons)
            if copies == 0:
                lost += 1
                problems.append(f"lost: {event.label} at {coords}")
                continue
            if copies > 1:
                duplicated += 1
            if copies > 1 and not duplicate_window:
                problems.append(f"duplicated: {event.label} at {coords}: {times} docs, letters {reasons}")
            if times:
                n_indexed += 1
                if event.expect != INDEXED:
                    problems.append(f"{event.label}: indexed, expected dead letter {event.expect!r}")
                doc = by_coords[coords]
                if event.flag is not None and event.flag not in (doc.get("logtrace.parse.problems") or []):
                    problems.append(f"{event.label}: not flagged {event.flag!r}")
                if event.doc_check is not None and not event.doc_check(doc):
                    problems.append(f"{event.label}: unexpected document {str(doc)[:300]}")
                if event.oid is not None:
                    attrs = doc.get("attributes", {})
                    got = attrs.get("oracle_id"), attrs.get("oracle_sum")
                    n = attrs.get("oracle_n")
                    recomputed = checksum(
                        event.oid, str(attrs.get("payload")), int(n) if n is not None else -1
                    )
                    if got != (event.oid, event.checksum) or recomputed != event.checksum:
                        problems.append(f"{event.label}: checksum mismatch {got} / {recomputed}")
            else:
                n_dead += 1
                if event.expect not in reasons:
                    problems.append(f"{event.label}: dead-lettered as {reasons}, expected {event.expect!r}")
        if secrets:
            problems += self._leaks(docs, dead_docs, logs)
        accounting = Accounting(self.scenario, len(self.events), n_indexed, n_dead, lost, duplicated)
        print("\n" + accounting.line(), flush=True)
        assert not problems, f"{accounting.line()}\n" + "\n".join(problems[:40])
        return accounting

    def _leaks(self, docs: list[dict], dead_docs: list[dict], logs: Sequence[Path]) -> list[str]:
        mark = self.secret_mark
        found = []
        if mark in json.dumps(docs):
            found.append("a planted secret is in an indexed document")
        if mark in json.dumps(dead_docs):
            found.append("a planted secret is in the dead-letter stream")
        for value, headers in self.dlq_records():
            if mark.encode() in value or any(mark.encode() in v for v in headers.values()):
                found.append("a planted secret is in the dead-letter topic")
                break
        for path in logs:
            if path.exists() and mark.encode() in path.read_bytes():
                found.append(f"a planted secret is in the worker log {path.name}")
        return found
