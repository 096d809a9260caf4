"""The quick mode of `logtrace bench` against the real stack: every section present, positive numbers,
and the worker's books balance. No speed assertions (the CI machine is shared and noisy)."""

import asyncio
import json
from pathlib import Path

import pytest

from bench.e2e import BenchConfig, run

POSITIVE = {
    "ceilings.A": ("records_per_s",),
    "ceilings.B": ("docs_per_s",),
    "ceilings.C": ("records_per_s",),
    "logtrace": ("docs_per_s", "records_per_s", "cpu_s", "cpu_us_per_event", "peak_rss_bytes", "seconds"),
    "latency": ("p50_ms", "p95_ms", "p99_ms", "markers_sent"),
    "headline": ("ratio", "min_a_b_docs_per_s"),
}


def _section(results: dict, dotted: str) -> dict:
    section = results
    for part in dotted.split("."):
        section = section[part]
    return section


@pytest.mark.timeout(240)
def test_quick_mode_writes_every_section(devstack, tmp_path: Path) -> None:
    config = BenchConfig.quick(devstack.kafka_bootstrap, devstack.es_url, tmp_path)
    asyncio.run(run(config))

    results = json.loads((tmp_path / "results.json").read_text())
    for dotted, keys in POSITIVE.items():
        section = _section(results, dotted)
        for key in keys:
            assert section[key] > 0, f"{dotted}.{key} = {section[key]!r}"
    assert results["machine"]["cores"] > 0 and results["machine"]["elasticsearch"]
    assert results["corpus"]["documents"] == results["logtrace"]["documents"]
    assert all(row["parse_per_s"] > 0 and row["baseline_per_s"] > 0 for row in results["micro"]["parse"])
    assert {row["input"] for row in results["micro"]["map"]} == {"raw", "spans", "otlp_logs"}
    assert results["ceilings"]["B"]["cells"] and results["logtrace"]["timeline"]
    assert results["latency"]["markers_lost"] == 0

    books = results["accounting"]
    # One worker never rebalances away from itself: every record is read exactly once.
    assert books["records_consumed"] == books["records_produced"]
    assert (
        books["sink_consumed"]
        == books["sink_indexed"] + books["sink_duplicates"] + books["sink_dead_lettered"]
    )
    assert books["balanced"] is True
    # ... and nothing is written twice: a 409 from one healthy worker is a bug (a second summary of a
    # trace, or a replay), not the expected answer to a replay.
    assert books["sink_duplicates"] == 0

    assert "| **headline: logtrace / min(A, B)** |" in (tmp_path / "results.md").read_text()
    if results["plots"].endswith(".png"):
        assert (tmp_path / "throughput.png").stat().st_size > 0
        assert (tmp_path / "latency_cdf.png").stat().st_size > 0
