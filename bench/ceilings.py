"""The three ceilings the pipeline is compared with, on the same topics and documents.

- A: a bare aiokafka consumer reads every record of the run's topics, no processing (records/s).
- B: the pipeline's own documents (`bench.documents`), serialized before the clock starts, bulk-indexed
  straight into Elasticsearch at each bulk size x concurrency of a sweep (docs/s; the best cell counts).
- C: a faust worker with the worker's faust settings whose agents only acknowledge (`bench.ack_worker`):
  the framework's own cost (records/s).
Start-up and group joins are not counted: A starts its clock at its first fetch (partitions assigned by
hand), C runs from the first batch its agents take to the last, B times the bulk requests only.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from elasticsearch import AsyncElasticsearch

from bench.documents import Topics
from bench.sink_bench import raw_index
from bench.workers import Worker


async def consume_ceiling(bootstrap: str, topics: Topics, expected: int, timeout: float) -> dict:
    """Ceiling A: records/s of one bare consumer reading `expected` records of the run's topics.

    Partitions are assigned by hand (no group join to wait for); the clock starts at the first fetch.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    count = 0
    deadline = time.monotonic() + timeout
    try:
        consumer.assign(
            [
                TopicPartition(topic, partition)
                for topic in (topics.raw, topics.spans, topics.otlp_logs)
                for partition in range(topics.partitions)
            ]
        )
        started = time.perf_counter()
        while count < expected:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ceiling A read {count} of {expected} records in {timeout} s")
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            count += sum(len(records) for records in batches.values())
        seconds = time.perf_counter() - started
    finally:
        await consumer.stop()
    return {"records": count, "seconds": seconds, "records_per_s": count / seconds}


@dataclass(frozen=True, slots=True)
class Cell:
    """One bulk size x concurrency measurement of ceiling B."""

    docs_per_request: int
    concurrency: int
    docs: int
    seconds: float

    @property
    def docs_per_s(self) -> float:
        return self.docs / self.seconds


async def bulk_sweep(
    es: AsyncElasticsearch, docs: list[bytes], namespace: str, sizes: list[int], concurrencies: list[int]
) -> dict:
    """Ceiling B: each cell indexes `docs` (made for `namespace`) into a namespace of its own."""
    cells = []
    for size in sizes:
        for concurrency in concurrencies:
            cell_ns = f"{namespace}b{size}x{concurrency}"
            own = [doc.replace(namespace.encode(), cell_ns.encode()) for doc in docs]
            bodies = [b"".join(own[i : i + size]) for i in range(0, len(own), size)]
            started = time.perf_counter()
            await raw_index(es, bodies, concurrency)
            cells.append(Cell(size, concurrency, len(docs), time.perf_counter() - started))
    best = max(cells, key=lambda cell: cell.docs_per_s)
    return {
        "cells": [asdict(cell) | {"docs_per_s": cell.docs_per_s} for cell in cells],
        "best": asdict(best) | {"docs_per_s": best.docs_per_s},
        "docs_per_s": best.docs_per_s,
        "bytes_per_doc": sum(map(len, docs)) / max(len(docs), 1),
    }


def faust_ceiling(env: dict[str, str], log_dir: Path, expected: int, timeout: float) -> dict:
    """Ceiling C: records/s of the ack-only faust worker, first to last record taken."""
    progress = log_dir / "ack_worker.progress.json"
    worker = Worker(
        ["-m", "bench.ack_worker"], env | {"BENCH_PROGRESS": str(progress)}, log_dir / "ack_worker.log"
    )
    deadline = time.monotonic() + timeout
    state: dict = {"records": 0}
    try:
        while state["records"] < expected:
            worker.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"ceiling C took {state['records']} of {expected} records in {timeout} s")
            time.sleep(0.5)
            if progress.exists():
                state = orjson.loads(progress.read_bytes())
    finally:
        worker.stop()
    seconds = state["last"] - state["first"]
    return {
        "records": state["records"],
        "seconds": seconds,
        "records_per_s": state["records"] / max(seconds, 1e-9),
    }
