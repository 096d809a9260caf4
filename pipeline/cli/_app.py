"""The one Typer application every sub-command module registers on."""

import typer

app = typer.Typer(
    name="logtrace",
    no_args_is_help=True,
    add_completion=False,
    help="Kafka logs and OTLP spans -> parsed, correlated, enriched -> Elasticsearch data streams.",
)
