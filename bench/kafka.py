"""Kafka side of a benchmark run: create the run's topics, produce the corpus, read end offsets."""

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.corpus import Corpus
from bench.documents import Topics


async def create_topics(bootstrap: str, topics: Topics) -> None:
    """The run's three input topics, `topics.partitions` partitions each."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = (topics.raw, topics.spans, topics.otlp_logs)
        await admin.create_topics([NewTopic(name, topics.partitions, 1) for name in names])
    finally:
        await admin.close()


def producer(bootstrap: str) -> AIOKafkaProducer:
    """A throughput-oriented producer (the corpus is not timed as pipeline work)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks=1,
        linger_ms=20,
        max_batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
    )


async def send_all(
    kafka: AIOKafkaProducer, topic: str, values: Iterable[tuple[bytes | None, bytes]], partitions: int
) -> None:
    """Send every (key, value) to `topic` round-robin over its partitions and wait for the acks."""
    futures = [
        await kafka.send(topic, value, key=key, partition=index % partitions)
        for index, (key, value) in enumerate(values)
    ]
    await asyncio.gather(*futures)


async def produce_corpus(bootstrap: str, corpus: Corpus, topics: Topics) -> float:
    """Produce the whole corpus (partition = index mod partitions, like `bench.documents.records`);
    returns the seconds it took."""
    started = time.perf_counter()
    kafka = producer(bootstrap)
    await kafka.start()
    try:
        await send_all(kafka, topics.raw, ((None, value) for value in corpus.raw), topics.partitions)
        await send_all(kafka, topics.spans, corpus.spans, topics.partitions)
        await send_all(kafka, topics.otlp_logs, ((None, v) for v in corpus.otlp_logs), topics.partitions)
    finally:
        await kafka.stop()
    return time.perf_counter() - started
