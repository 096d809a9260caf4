"""Produce -> searchable latency: marker log lines at a fixed rate over a steady background load.

Method. For `seconds`, corpus raw lines are produced at `background_per_s` (half the measured maximum),
and every 1/`markers_per_s` s a JSON line `{"message": "bench marker", "bench_marker": "<id>"}` (the
JSON parser keeps the unknown field as `attributes.bench_marker`, a keyword). Its produce time is taken
just before `send()`. A poller searches the run's log stream every `POLL_S` for markers not yet seen
(`terms` on `attributes.bench_marker`) and stamps each with the time of the first search that found it.
So a latency includes producer batching, the worker, the bulk request and the index refresh (1 s), and
over-states the truth by up to `POLL_S` (half of it on average). Markers not found within `GRACE_S` after
the last one was sent are reported as lost.
"""

import asyncio
import itertools
import time

import orjson
from elasticsearch import AsyncElasticsearch

from bench.kafka import producer

POLL_S = 0.1
GRACE_S = 30.0
TICK_S = 0.05


def marker_line(marker: str) -> bytes:
    """One marker log line (JSON, current time)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1000) % 1000:03d}Z"
    return orjson.dumps(
        {"@timestamp": stamp, "log.level": "info", "message": "bench marker", "bench_marker": marker}
    )


async def _produce(
    bootstrap: str,
    topic: str,
    lines: list[bytes],
    background_per_s: float,
    markers_per_s: float,
    seconds: float,
    uid: str,
    sent: dict[str, float],
) -> int:
    """Background lines and markers at their rates; fills `sent` (marker -> produce time); returns the
    records produced."""
    kafka = producer(bootstrap)
    await kafka.start()
    background = itertools.cycle(lines)
    futures = []
    started = time.monotonic()
    produced = markers = 0
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            while markers < elapsed * markers_per_s:
                marker = f"m{markers:06d}{uid}"
                sent[marker] = time.time()
                futures.append(await kafka.send(topic, marker_line(marker)))
                markers += 1
            while produced < elapsed * background_per_s:
                futures.append(await kafka.send(topic, next(background)))
                produced += 1
            await asyncio.sleep(TICK_S)
        await asyncio.gather(*futures)
    finally:
        await kafka.stop()
    return produced + markers


async def _poll(
    es: AsyncElasticsearch, index: str, sent: dict[str, float], seen: dict[str, float], done: asyncio.Event
) -> None:
    """Stamp markers as they become searchable, until `done` is set and every marker is seen."""
    while not (done.is_set() and len(seen) == len(sent)):
        pending = [marker for marker in sent if marker not in seen]
        if pending:
            found = await es.search(
                index=index,
                query={"terms": {"attributes.bench_marker": pending}},
                source=["attributes.bench_marker"],
                size=len(pending),
                ignore_unavailable=True,
                allow_no_indices=True,
            )
            now = time.time()
            for hit in found["hits"]["hits"]:
                seen.setdefault(hit["_source"]["attributes"]["bench_marker"], now)
        await asyncio.sleep(POLL_S)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of `values` (q in 0..100)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


async def measure(
    es: AsyncElasticsearch,
    bootstrap: str,
    topic: str,
    index: str,
    lines: list[bytes],
    *,
    background_per_s: float,
    markers_per_s: float,
    seconds: float,
    uid: str,
) -> dict:
    """Run the steady phase and return the latency percentiles (ms), the CDF points and the counts."""
    sent: dict[str, float] = {}
    seen: dict[str, float] = {}
    done = asyncio.Event()
    poller = asyncio.create_task(_poll(es, index, sent, seen, done))
    try:
        records = await _produce(bootstrap, topic, lines, background_per_s, markers_per_s, seconds, uid, sent)
        done.set()
        await asyncio.wait_for(asyncio.shield(poller), GRACE_S)
    except TimeoutError:
        pass
    finally:
        poller.cancel()
    latencies = sorted((seen[m] - sent[m]) * 1000 for m in sent if m in seen)
    return {
        "method": "marker JSON lines, produce time before send() -> first ES search that finds them "
        f"(poll every {POLL_S} s)",
        "background_per_s": background_per_s,
        "markers_per_s": markers_per_s,
        "seconds": seconds,
        "records_produced": records,
        "markers_sent": len(sent),
        "markers_lost": len(sent) - len(latencies),
        "p50_ms": percentile(latencies, 50) if latencies else None,
        "p95_ms": percentile(latencies, 95) if latencies else None,
        "p99_ms": percentile(latencies, 99) if latencies else None,
        "max_ms": latencies[-1] if latencies else None,
        "latencies_ms": latencies,
    }
