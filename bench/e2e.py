"""`logtrace bench`: the corpus through the real Kafka + Elasticsearch, next to its ceilings.

Steps (each run uses its own topics, groups and namespace `bench<hex>`; its data streams and topics are
deleted at the end unless `keep`):
1. generate the corpus (`bench.corpus`) and produce it to Kafka (timed, but not as pipeline work);
2. micro: parser rates per format vs orjson / protobuf, and the worker's pure path per input kind, which
   also yields the documents for ceiling B (`bench.micro`);
3. ceilings A (bare consumer), C (faust ack-only agents) and B (bulk sweep) (`bench.ceilings`);
4. logtrace: N `logtrace worker` subprocesses read everything; the clock runs from the first record
   consumed (their /metrics) to the moment every document is searchable (count after refresh, dead
   letters included); worker CPU and peak RSS from /proc; then, once the workers are idle again (they
   still drain their internal topics), the latency phase at half that rate (`bench.latency`), and the
   accounting: every record consumed (re-reads counted), and the sink's consumed = indexed + duplicate +
   dead-lettered;
5. headline: logtrace docs/s / min(A, B), with A turned into documents/s (records/s x documents per
   record of the corpus), since one OTLP record carries many documents.
"""

import asyncio
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from elasticsearch import ApiError, AsyncElasticsearch
from prometheus_client.parser import text_string_to_metric_families

from bench import ceilings, latency, micro, report
from bench.corpus import Corpus, generate
from bench.documents import Topics
from bench.kafka import create_topics, produce_corpus
from bench.plots import write_plots
from bench.workers import Names, Worker, run_setup, worker_env
from pipeline.capabilities import probe_capabilities
from pipeline.sink.routing import data_stream, deadletter_stream, span_stream

SAMPLE_S = 0.25
RATE_WINDOW_S = 2.0
IDLE_CORES = 0.15
COUNT_EVERY_S = 1.0


@dataclass(frozen=True)
class BenchConfig:
    """What one run does; `quick()` is the CI size, the defaults are the full mode."""

    kafka_bootstrap: str
    es_url: str
    out: Path
    mode: str = "full"
    logs: int = 200_000
    spans: int = 40_000
    workers: int = 1
    seed: int = 7
    sweep_sizes: tuple[int, ...] = (500, 1000, 2000, 5000)
    sweep_concurrencies: tuple[int, ...] = (1, 2, 4)
    sweep_docs: int = 30_000
    micro_per_format: int = 10_000
    latency_s: float = 30.0
    markers_per_s: float = 10.0
    timeout_s: float = 1800.0
    keep: bool = False

    @classmethod
    def quick(cls, kafka_bootstrap: str, es_url: str, out: Path, **overrides: object) -> "BenchConfig":
        """A few seconds of each phase on a small corpus: keeps the harness from rotting in CI."""
        values: dict = {
            "mode": "quick",
            "logs": 5_000,
            "spans": 1_000,
            "sweep_sizes": (500, 2000),
            "sweep_concurrencies": (1, 2),
            "sweep_docs": 6_000,
            "micro_per_format": 500,
            "latency_s": 5.0,
            "markers_per_s": 20.0,
            "timeout_s": 300.0,
        }
        return cls(kafka_bootstrap, es_url, out, **(values | overrides))


def input_streams(namespace: str) -> str:
    """Every stream a corpus document (or its dead letter) lands in."""
    return ",".join(
        (
            data_stream("logs", "app", namespace),
            data_stream("logs", "otlp", namespace),
            span_stream(namespace),
            deadletter_stream(namespace),
        )
    )


def metric_sum(texts: list[str], name: str, **labels: str) -> float:
    """Sum over workers of the samples `name` whose labels include `labels`."""
    total = 0.0
    for text in texts:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
    return total


def consumed_records(texts: list[str], topics: Topics) -> float:
    """Input records the workers took into batches (internal topics excluded)."""
    name = "logtrace_worker_records_consumed_total"
    return sum(metric_sum(texts, name, topic=topic) for topic in (topics.raw, topics.spans, topics.otlp_logs))


async def searchable(es: AsyncElasticsearch, index: str) -> int | None:
    """Documents searchable in `index` after a refresh; None while a shard cannot answer yet (a backing index
    the first bulk request just created: 503 until its shards start)."""
    try:
        await es.indices.refresh(index=index, ignore_unavailable=True, allow_no_indices=True)
        found = await es.count(index=index, ignore_unavailable=True, allow_no_indices=True)
    except ApiError as exc:
        if exc.meta.status == 503:
            return None
        raise
    return found["count"]


async def run_logtrace(
    es: AsyncElasticsearch, config: BenchConfig, names: Names, corpus: Corpus, workers: list[Worker]
) -> dict:
    """Throughput phase: first record consumed -> every document searchable; CPU and timeline."""
    index = input_streams(names.namespace)
    deadline = time.monotonic() + config.timeout_s
    timeline: list[dict] = []
    t0 = cpu0 = None
    last_count_at, count = 0.0, 0
    while True:
        if time.monotonic() > deadline:
            raise RuntimeError(f"logtrace made {count} of {corpus.documents} documents searchable in time")
        for worker in workers:
            worker.check_alive()
        now = time.time()
        texts = [worker.metrics() for worker in workers]
        cpu = sum(worker.sample().cpu_s for worker in workers)
        records = consumed_records(texts, names.topics)
        indexed = metric_sum(texts, "logtrace_sink_documents_indexed_total")
        if t0 is None and records > 0:
            t0, cpu0 = now, cpu
        if t0 is not None and now - last_count_at >= COUNT_EVERY_S:
            found, last_count_at = await searchable(es, index), now
            count = count if found is None else found
            if count >= corpus.documents:
                break
        if t0 is not None:
            timeline.append(
                {
                    "t": now - t0,
                    "records": records,
                    "indexed": indexed,
                    "searchable": count,
                    "cpu_s": cpu - cpu0,
                }
            )
        await asyncio.sleep(SAMPLE_S)
    seconds = time.time() - t0
    cpu_s = cpu - cpu0
    _add_rates(timeline)
    return {
        "seconds": seconds,
        "documents": count,
        "docs_per_s": corpus.documents / seconds,
        "records_per_s": corpus.records / seconds,
        "cpu_s": cpu_s,
        "cpu_us_per_event": cpu_s / corpus.documents * 1e6,
        "cpu_s_per_1k": cpu_s / corpus.documents * 1000,
        "timeline": timeline,
    }


def _add_rates(timeline: list[dict]) -> None:
    """Records/s and indexed/s at each point, over the last `RATE_WINDOW_S` (0.25 s samples are noise)."""
    start = 0
    for point in timeline:
        while point["t"] - timeline[start]["t"] > RATE_WINDOW_S:
            start += 1
        before = timeline[start]
        span = max(point["t"] - before["t"], 1e-9)
        point["records_per_s"] = (point["records"] - before["records"]) / span
        point["indexed_per_s"] = (point["indexed"] - before["indexed"]) / span


async def settle(workers: list[Worker], timeout: float) -> float:
    """Seconds until the workers are idle (under `IDLE_CORES` of CPU for two seconds in a row): after the
    last document is searchable they still drain their internal topics (projections, partials)."""
    started = time.monotonic()
    quiet = 0
    last = sum(worker.sample().cpu_s for worker in workers)
    while quiet < 2 and time.monotonic() - started < timeout:
        await asyncio.sleep(1.0)
        now = sum(worker.sample().cpu_s for worker in workers)
        quiet = quiet + 1 if now - last < IDLE_CORES else 0
        last = now
    return time.monotonic() - started


async def accounting(workers: list[Worker], names: Names, produced: int, timeout: float = 60.0) -> dict:
    """Once every produced record is consumed and the sink's counters hold still: do they balance?

    Records read twice (a rebalance between workers hands a partition over from its last commit) are
    counted as `records_reread`; `balanced` asks that nothing was skipped and that the sink's consumed
    = indexed + duplicate + dead-lettered.
    """
    deadline = time.monotonic() + timeout
    previous: dict | None = None
    while True:
        texts = [worker.metrics() for worker in workers]
        state = {
            "records_produced": produced,
            "records_consumed": consumed_records(texts, names.topics),
            "sink_consumed": metric_sum(texts, "logtrace_sink_documents_consumed_total"),
            "sink_indexed": metric_sum(texts, "logtrace_sink_documents_indexed_total"),
            "sink_duplicates": metric_sum(texts, "logtrace_sink_documents_duplicate_total"),
            "sink_dead_lettered": metric_sum(texts, "logtrace_sink_dead_lettered_total"),
            "parse_problems": metric_sum(texts, "logtrace_worker_parse_problems_total"),
        }
        state["records_reread"] = state["records_consumed"] - produced
        state["balanced"] = (
            state["sink_consumed"]
            == state["sink_indexed"] + state["sink_duplicates"] + state["sink_dead_lettered"]
            and state["records_reread"] >= 0
        )
        if (state == previous and state["balanced"]) or time.monotonic() > deadline:
            return state
        previous = state
        await asyncio.sleep(2.0)


async def cleanup(es: AsyncElasticsearch, config: BenchConfig, names: Names) -> None:
    """Delete the run's Kafka topics and, where the cluster has the API, its data streams (all are
    named after the run's unique id; the dev stack's minimal distribution cannot delete data streams)."""
    if probe_capabilities(config.es_url).get("data_stream_api"):
        await es.indices.delete_data_stream(name=f"*-logtrace.*-{names.uid}*")
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await admin.start()
    try:
        ours = [topic for topic in await admin.list_topics() if topic.startswith(names.uid)]
        if ours:
            await admin.delete_topics(ours)
    finally:
        await admin.close()


async def es_version(es: AsyncElasticsearch) -> str:
    """The version of the node answering (`GET /` is not served by the dev stack's distribution)."""
    nodes = await es.nodes.info(node_id="_local", filter_path="nodes.*.version")
    return next(iter(nodes["nodes"].values()))["version"]


async def run(config: BenchConfig) -> dict:
    """One whole run; writes results.json, results.md and the plots into `config.out`."""
    names = Names.new()
    topics = names.topics
    log_dir = config.out / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    es = AsyncElasticsearch(config.es_url, request_timeout=120)
    results: dict = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()}
        | {"names": names.uid}
    }
    try:
        results["machine"] = report.machine(await es_version(es))
        await asyncio.to_thread(run_setup, config.es_url)
        corpus = generate(config.logs, config.spans, seed=config.seed)
        results["corpus"] = corpus.describe()
        await create_topics(config.kafka_bootstrap, topics)
        results["produce"] = {"seconds": await produce_corpus(config.kafka_bootstrap, corpus, topics)}

        share = min(1.0, config.sweep_docs / corpus.documents)
        mapped, docs = micro.map_documents(corpus, topics, names.namespace, share)
        results["micro"] = {"parse": micro.parse_rates(corpus, config.micro_per_format), "map": mapped}

        a = await ceilings.consume_ceiling(config.kafka_bootstrap, topics, corpus.records, config.timeout_s)
        a["docs_per_s"] = a["records_per_s"] * corpus.documents / corpus.records
        env = worker_env(config.kafka_bootstrap, config.es_url, names, "c")
        c = await asyncio.to_thread(ceilings.faust_ceiling, env, log_dir, corpus.records, config.timeout_s)
        b = await ceilings.bulk_sweep(
            es, docs, names.namespace, list(config.sweep_sizes), list(config.sweep_concurrencies)
        )
        results["ceilings"] = {"A": a, "B": b, "C": c}

        env = worker_env(config.kafka_bootstrap, config.es_url, names, "w")
        workers = [Worker.logtrace(env, log_dir / f"worker{i}.log") for i in range(config.workers)]
        try:
            results["logtrace"] = await run_logtrace(es, config, names, corpus, workers)
            results["logtrace"]["settle_s"] = await settle(workers, config.timeout_s / 4)
            results["latency"] = await latency.measure(
                es,
                config.kafka_bootstrap,
                topics.raw,
                data_stream("logs", "app", names.namespace),
                corpus.raw[:10_000],
                background_per_s=results["logtrace"]["docs_per_s"] / 2,
                markers_per_s=config.markers_per_s,
                seconds=config.latency_s,
                uid=names.uid,
            )
            produced = corpus.records + results["latency"]["records_produced"]
            results["accounting"] = await accounting(workers, names, produced)
            peaks = [worker.sample().peak_rss_bytes for worker in workers]
            results["logtrace"] |= {"peak_rss_bytes": max(peaks), "peak_rss_bytes_per_worker": peaks}
        finally:
            for worker in workers:
                worker.stop()
        floor = min(a["docs_per_s"], b["docs_per_s"])
        results["headline"] = {
            "ratio": results["logtrace"]["docs_per_s"] / floor,
            "min_a_b_docs_per_s": floor,
            "limited_by": "A (Kafka read)"
            if a["docs_per_s"] <= b["docs_per_s"]
            else "B (Elasticsearch bulk)",
            "c_over_logtrace_records": c["records_per_s"] / results["logtrace"]["records_per_s"],
        }
        results["targets"] = report.targets(results)
        results["plots"] = write_plots(results, config.out)
        report.write(results, config.out)
        return results
    finally:
        if not config.keep:
            await cleanup(es, config, names)
        await es.close()
