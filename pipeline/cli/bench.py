"""`logtrace bench`: the benchmark harness (bench/e2e.py) against the configured Kafka and Elasticsearch.

The harness lives in the repository's `bench/` directory (not in the installed package): run it from a
checkout (an editable install finds it next to `pipeline/`).
"""

import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._app import app


@app.command("bench")
def bench_command(
    quick: Annotated[
        bool, typer.Option("--quick", help="Small corpus, a few seconds per phase (CI).")
    ] = False,
    logs: Annotated[int | None, typer.Option("--logs", min=1, help="Log events (raw + OTLP).")] = None,
    spans: Annotated[int | None, typer.Option("--spans", min=1, help="Spans (whole traces).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="`logtrace worker` processes.")] = 1,
    out: Annotated[Path, typer.Option("--out", help="Directory for results.json, .md and plots.")] = Path(
        "bench-results"
    ),
    keep: Annotated[bool, typer.Option("--keep", help="Keep the run's topics and data streams.")] = False,
) -> None:
    """Benchmark: micro rates, ceilings A/B/C, logtrace end to end, latency; results in --out."""
    import asyncio

    from pipeline.config.elasticsearch import ElasticsearchSettings
    from pipeline.config.kafka import KafkaSettings

    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "bench" / "e2e.py").exists() and str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    try:
        from bench.e2e import BenchConfig, run
    except ImportError as exc:
        typer.echo(f"logtrace bench: the bench/ directory of a checkout is needed ({exc})", err=True)
        raise typer.Exit(2) from None
    bootstrap, es_url = KafkaSettings().bootstrap_servers, ElasticsearchSettings().url
    sizes = {key: value for key, value in (("logs", logs), ("spans", spans)) if value is not None}
    common = {"workers": workers, "keep": keep, **sizes}
    if quick:
        config = BenchConfig.quick(bootstrap, es_url, out, **common)
    else:
        config = BenchConfig(bootstrap, es_url, out, **common)
    results = asyncio.run(run(config))
    typer.echo((out / "results.md").read_text())
    typer.echo(f"results: {out / 'results.json'}; {results['plots']}")
