"""`logtrace demo`: realistic demo traffic to Kafka (pipeline/demo.py)."""

from typing import Annotated

import typer

from pipeline.cli._app import app


@app.command("demo")
def demo_command(
    traces: Annotated[int, typer.Option("--traces", min=1, help="Traces to produce.")] = 50,
    rate: Annotated[
        float, typer.Option("--rate", min=0.0, help="Traces per second; 0 = as fast as possible.")
    ] = 10.0,
    bootstrap: Annotated[
        str | None,
        typer.Option(
            "--bootstrap", help="Kafka bootstrap servers (default LOGTRACE_KAFKA_BOOTSTRAP_SERVERS)."
        ),
    ] = None,
) -> None:
    """Produce demo traffic: services calling each other (OTLP spans), their logs in several raw formats."""
    import asyncio

    from pipeline.demo import DemoSettings, run_demo

    summary = asyncio.run(run_demo(DemoSettings.from_env(bootstrap=bootstrap), traces=traces, rate=rate))
    typer.echo(summary.describe())
