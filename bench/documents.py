"""The documents the pipeline writes for a corpus, made offline by the worker's own pure code.

`records()` lays the corpus out as Kafka records (topic, partition, offset) the way `bench.e2e` produces
it; `documents()` runs decode -> prepare -> encode on them in worker-sized batches, so ceiling B indexes
exactly the bytes the pipeline would send, and the micro-benchmark can time that path per input kind.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bench.corpus import Corpus
from pipeline.enrich.batch import BatchOptions, prepare
from pipeline.enrich.service import RootServices, ServiceBackfill
from pipeline.records import Decoded, RawSpec, Record, decode_otlp_logs, decode_otlp_spans, decode_raw, zone
from pipeline.sink import actions

BATCH = 1000
Kind = str  # "raw" | "spans" | "otlp_logs"


@dataclass(frozen=True, slots=True)
class Topics:
    """The input topics of one run."""

    raw: str
    spans: str
    otlp_logs: str
    partitions: int = 4


def records(corpus: Corpus, topics: Topics, kind: Kind) -> Iterator[Record]:
    """The corpus values of `kind` as records, spread over partitions round-robin."""
    now_ms = time.time_ns() // 1_000_000
    topic, values = {
        "raw": (topics.raw, [(None, value) for value in corpus.raw]),
        "spans": (topics.spans, corpus.spans),
        "otlp_logs": (topics.otlp_logs, [(None, value) for value in corpus.otlp_logs]),
    }[kind]
    for index, (key, value) in enumerate(values):
        partition = index % topics.partitions
        yield Record(topic, partition, index // topics.partitions, now_ms, key, value)


def decoder(kind: Kind, namespace: str) -> Callable[[Record, int], Decoded]:
    """The worker's decode step for one input kind (default topic settings: auto format, UTC)."""
    if kind == "raw":
        spec = RawSpec("auto", "app", namespace, None, zone("UTC"))
        return lambda record, now: decode_raw(record, spec, now_ns=now)
    if kind == "spans":
        return lambda record, now: decode_otlp_spans(
            record, encoding="otlp_proto", namespace=namespace, now_ns=now
        )
    return lambda record, now: decode_otlp_logs(
        record, encoding="otlp_proto", dataset="otlp", namespace=namespace, now_ns=now
    )


def encode_batches(batches: Iterator[list[Record]], kind: Kind, namespace: str) -> list[bytes]:
    """decode -> prepare -> encode of each batch, as the worker's agent for `kind` does it."""
    decode = decoder(kind, namespace)
    backfill = ServiceBackfill(RootServices(max_entries=100_000)) if kind != "spans" else None
    out: list[bytes] = []
    for batch in batches:
        now = time.time_ns()
        decoded = Decoded()
        for record in batch:
            decoded.extend(decode(record, now))
        prepared = prepare(decoded, now_ns=now, started_ns=now, options=BatchOptions(), backfill=backfill)
        out.extend(actions.encode(pending).body for pending in prepared.pending)
    return out


def chunks(items: Iterator[Record], size: int = BATCH) -> Iterator[list[Record]]:
    """Consecutive lists of `size` records."""
    batch: list[Record] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def documents(corpus: Corpus, topics: Topics, namespace: str) -> list[bytes]:
    """Every document of the corpus as bulk NDJSON (action + source line), in `namespace`'s streams."""
    out: list[bytes] = []
    for kind in ("raw", "spans", "otlp_logs"):
        out.extend(encode_batches(chunks(records(corpus, topics, kind)), kind, namespace))
    return out
