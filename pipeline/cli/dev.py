"""`logtrace dev up|down|status|logs|reset`: the local Kafka + Elasticsearch stack (pipeline/devstack.py)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pipeline.cli._app import app
from pipeline.devstack import DevStack, DevStackError, DevStackSettings, Service

dev_app = typer.Typer(
    help="Local dev stack: real Kafka and Elasticsearch on 127.0.0.1, no Docker (settings: LOGTRACE_DEV_*).",
    no_args_is_help=True,
)
app.add_typer(dev_app, name="dev")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
T = TypeVar("T")

TIMING_LABELS = {
    "resolve_s": "resolve binaries",
    "es_unpack_s": "unpack Elasticsearch",
    "kafka_ready_s": "Kafka ready",
    "es_ready_s": "Elasticsearch ready",
    "total_s": "total",
}


class ServiceName(StrEnum):
    """Services `logs` can show."""

    kafka = "kafka"
    es = "es"


def _echo(message: str) -> None:
    console.print(escape(message), style="dim")


def _settings_error(exc: ValidationError) -> str:
    """One line per invalid setting, named as the environment variable that sets it."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"])
        name = f"LOGTRACE_DEV_{field.upper()}" if field else "dev stack settings"
        lines.append(f"invalid {name}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(lines)


def _run(action: Callable[[DevStack], T]) -> T:
    """Run one stack action; any expected failure becomes a one-line error (details below it) and exit 1."""
    try:
        return action(DevStack(DevStackSettings(), echo=_echo))
    except ValidationError as exc:
        message, details = _settings_error(exc), ""
    except DevStackError as exc:
        message, _, details = str(exc).partition("\n")
    except KeyboardInterrupt:
        err_console.print("[red]interrupted[/red]")
        raise typer.Exit(130) from None
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}")
    if details:
        err_console.print(escape(details), style="dim")
    raise typer.Exit(1)


@dev_app.command()
def up() -> None:
    """Start Kafka and Elasticsearch (a no-op when both already run) and wait until they are ready."""
    result = _run(lambda stack: stack.up())
    verb = "already running" if result.already_running else "ready"
    console.print(f"[green]dev stack {verb}[/green]")
    console.print(f"  Kafka bootstrap   [bold]{result.kafka_bootstrap}[/bold]")
    console.print(f"  Elasticsearch     [bold]{result.es_url}[/bold]")
    timings = ", ".join(
        f"{TIMING_LABELS.get(key, key)} {seconds:.1f} s" for key, seconds in result.timings.items()
    )
    console.print(f"  timings           {timings}")


@dev_app.command()
def down() -> None:
    """Stop our Kafka and Elasticsearch processes (never anyone else's)."""
    _run(lambda stack: stack.down())
    console.print("[green]dev stack stopped[/green]")


@dev_app.command()
def status() -> None:
    """Show pid, address and health of each service; exit 1 unless both are healthy."""
    statuses = _run(lambda stack: stack.status())
    table = Table("service", "pid", "address", "healthy", "detail")
    for entry in statuses:
        healthy = "[green]yes[/green]" if entry.healthy else "[red]no[/red]"
        table.add_row(entry.service, str(entry.pid or "-"), entry.address, healthy, escape(entry.detail))
    console.print(table)
    if not all(entry.healthy for entry in statuses):
        raise typer.Exit(1)


@dev_app.command()
def logs(
    service: Annotated[ServiceName, typer.Argument(help="kafka or es")],
    lines: Annotated[int, typer.Option("--lines", "-n", min=1, help="How many lines from the end")] = 50,
) -> None:
    """Print the last lines of a service's log."""
    name: Service = "kafka" if service is ServiceName.kafka else "es"
    for line in _run(lambda stack: stack.logs(name, lines)):
        console.print(escape(line), soft_wrap=True)


@dev_app.command()
def reset(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation")] = False,
) -> None:
    """Stop the stack and delete its data and logs (downloaded binaries are kept)."""
    if not yes:
        settings = _run(lambda stack: stack.settings)
        typer.confirm(f"Delete all Kafka and Elasticsearch data under {settings.state_dir}?", abort=True)
    _run(lambda stack: stack.reset())
    console.print("[green]dev stack reset[/green]; `logtrace dev up` starts it empty")
