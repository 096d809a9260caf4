"""Results of a benchmark run: the machine it ran on, the targets of issue 8, the Markdown table."""

import os
import platform
import time
from importlib import metadata
from pathlib import Path

import orjson

PACKAGES = ("logtrace", "faust-streaming", "aiokafka", "elasticsearch", "orjson", "protobuf")


def machine(es_version: str | None) -> dict:
    """Cores, memory, CPU model, OS, Python and package versions, Elasticsearch version, date."""
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory_kb = int(meminfo.readline().split()[1])
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(memory_kb / 1024**2, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
        "elasticsearch": es_version,
        "load_average_at_start": os.getloadavg(),
    }


def cpu_by_kind(results: dict) -> dict[str, float] | None:
    """Worker CPU µs per log event and per span: the run's CPU per event apportioned by each kind's
    pure-path cost (micro `map`, same machine, same run) — an estimate, the worker does not time its
    work per kind. None when a number is missing."""
    try:
        pure = {row["input"]: row["cpu_us_per_document"] for row in results["micro"]["map"]}
        corpus, per_event = results["corpus"], results["logtrace"]["cpu_us_per_event"]
        docs = {"raw": corpus["raw_lines"], "spans": corpus["spans"], "otlp_logs": corpus["otlp_log_records"]}
        mean = sum(docs[kind] * pure[kind] for kind in docs) / sum(docs.values())
        logs = (docs["raw"] * pure["raw"] + docs["otlp_logs"] * pure["otlp_logs"]) / (
            docs["raw"] + docs["otlp_logs"]
        )
    except (KeyError, TypeError, ZeroDivisionError):
        return None
    return {"log": per_event * logs / mean, "span": per_event * pure["spans"] / mean}


def targets(results: dict) -> list[dict]:
    """The targets of issue 8, each with its measured value (reported, never asserted)."""
    logtrace, ceilings = results["logtrace"], results["ceilings"]
    latency, accounting = results["latency"], results["accounting"]
    by_kind = cpu_by_kind(results)
    rows = [
        ("end-to-end / min(A, B)", results["headline"]["ratio"], ">= 0.80", lambda v: v >= 0.8),
        *(
            [
                ("worker CPU µs per log event (apportioned)", by_kind["log"], "<= 30", lambda v: v <= 30),
                ("worker CPU µs per span (apportioned)", by_kind["span"], "<= 60", lambda v: v <= 60),
            ]
            if by_kind
            else []
        ),
        (
            "worker CPU µs per event (all kinds)",
            logtrace["cpu_us_per_event"],
            "<= 30 (logs) / 60 (spans)",
            lambda v: v <= 60,
        ),
        (
            "ceiling A / logtrace",
            ceilings["A"]["records_per_s"] / logtrace["records_per_s"],
            ">= 3",
            lambda v: v >= 3,
        ),
        ("p99 produce -> searchable (ms)", latency["p99_ms"], "<= 2000", lambda v: v <= 2000),
        ("worker peak RSS (MB)", logtrace["peak_rss_bytes"] / 1e6, "<= 300", lambda v: v <= 300),
        ("consumed = indexed + duplicate + dead-lettered", accounting["balanced"], "true", bool),
    ]
    return [
        {"target": name, "value": value, "wanted": wanted, "met": value is not None and check(value)}
        for name, value, wanted, check in rows
    ]


def _n(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def markdown(results: dict) -> str:
    """The tables of bench/README.md for one run."""
    m, c, lt = results["machine"], results["ceilings"], results["logtrace"]
    lat, corpus = results["latency"], results["corpus"]
    out = [
        f"Run {m['date']} on {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, Python {m['python']}, "
        f"Elasticsearch {m['elasticsearch']}, load average at start {m['load_average_at_start'][0]:.1f}; "
        f"mode {results['config']['mode']}, {results['config']['workers']} worker(s); corpus "
        f"{corpus['raw_lines']:,} raw lines + {corpus['spans']:,} spans ({corpus['traces']:,} traces) + "
        f"{corpus['otlp_log_records']:,} OTLP log records = {corpus['documents']:,} documents in "
        f"{corpus['kafka_records']:,} Kafka records.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| A: bare aiokafka consumer (records/s) | {_n(c['A']['records_per_s'])} |",
        f"| B: raw bulk of the pipeline's documents, best cell "
        f"({c['B']['best']['docs_per_request']} docs x {c['B']['best']['concurrency']}) (docs/s) "
        f"| {_n(c['B']['docs_per_s'])} |",
        f"| C: faust ack-only agents (records/s) | {_n(c['C']['records_per_s'])} |",
        f"| logtrace, produce done -> all searchable (docs/s) | {_n(lt['docs_per_s'])} |",
        f"| logtrace (Kafka records/s) | {_n(lt['records_per_s'])} |",
        f"| **headline: logtrace / min(A, B)** | **{results['headline']['ratio']:.0%}** |",
        f"| worker CPU per event (µs) / per 1k events (s) | {_n(lt['cpu_us_per_event'], 1)} / "
        f"{_n(lt['cpu_s_per_1k'], 3)} |",
        *(
            [
                f"| worker CPU per log event / per span (µs, apportioned by pure-path cost) | "
                f"{_n(by_kind['log'], 1)} / {_n(by_kind['span'], 1)} |"
            ]
            if (by_kind := cpu_by_kind(results))
            else []
        ),
        f"| worker peak RSS (MB, max over workers) | {_n(lt['peak_rss_bytes'] / 1e6)} |",
        f"| workers busy after the last document was searchable (s) | {_n(lt['settle_s'], 1)} |",
        f"| latency p50 / p95 / p99 (ms) at {_n(lat['background_per_s'])} lines/s "
        f"| {_n(lat['p50_ms'])} / {_n(lat['p95_ms'])} / {_n(lat['p99_ms'])} |",
        f"| markers sent / lost | {lat['markers_sent']} / {lat['markers_lost']} |",
        "",
        "Ceiling B sweep (docs/s):",
        "",
        "| docs/request | concurrency | docs/s |",
        "|---:|---:|---:|",
        *(
            f"| {cell['docs_per_request']} | {cell['concurrency']} | {_n(cell['docs_per_s'])} |"
            for cell in c["B"]["cells"]
        ),
        "",
        "Micro (one core, CPU time):",
        "",
        "| input | parse (events/s) | baseline | baseline (events/s) |",
        "|---|---:|---|---:|",
        *(
            f"| {row['input']} | {_n(row['parse_per_s'])} | {row['baseline']} | {_n(row['baseline_per_s'])} |"
            for row in results["micro"]["parse"]
        ),
        "",
        "| worker pure path | documents/s | CPU µs/document |",
        "|---|---:|---:|",
        *(
            f"| {row['input']} | {_n(row['documents_per_s'])} | {_n(row['cpu_us_per_document'], 1)} |"
            for row in results["micro"]["map"]
        ),
        "",
        "Targets (reported, not asserted):",
        "",
        "| target | value | wanted | met |",
        "|---|---:|---|---|",
        *(
            f"| {row['target']} | {row['value'] if isinstance(row['value'], bool) else _n(row['value'], 2)} "
            f"| {row['wanted']} | {'yes' if row['met'] else 'no'} |"
            for row in results["targets"]
        ),
        "",
        f"Plots: {results['plots']}",
    ]
    return "\n".join(out) + "\n"


def write(results: dict, out_dir: Path) -> tuple[Path, Path]:
    """results.json and results.md in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    md_path.write_text(markdown(results))
    return json_path, md_path
