"""`logtrace kibana import`: load the saved objects of kibana/logtrace.ndjson into Kibana.

Uses the saved objects import API with overwrite (running it again replaces the objects by id) and
prints what happened to each object. Exit status: 0 all imported, 1 Kibana refused some or all of them
or could not be reached, 2 bad options or settings.
"""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from pipeline.cli._app import app
from pipeline.kibana.bundle import BUNDLE_FILE, from_ndjson
from pipeline.kibana.importer import KibanaImportError, import_url, post_bundle, report
from pipeline.kibana.settings import KibanaSettings

kibana_app = typer.Typer(help="Kibana saved objects: data views, saved searches, dashboards (kibana/).",
                         no_args_is_help=True)
app.add_typer(kibana_app, name="kibana")

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

KibanaUrl = Annotated[
    str | None,
    typer.Option("--kibana-url", help="Kibana base URL (env LOGTRACE_KIBANA_URL).", show_default=False),
]
Space = Annotated[
    str | None,
    typer.Option("--space", help="Kibana space id (env LOGTRACE_KIBANA_SPACE).", show_default=False),
]


def fail(message: str, code: int) -> typer.Exit:
    """Print `error: message` on stderr; the Exit to raise."""
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}")
    return typer.Exit(code)


def kibana_settings(**overrides: Any) -> KibanaSettings:
    """LOGTRACE_KIBANA_* settings with the values given on the command line on top."""
    try:
        return KibanaSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, error['loc'])) or 'settings'}: {error['msg']}"
                             for error in exc.errors())
        raise fail(f"invalid Kibana settings: {problems}", 2) from None


def given(**options: Any) -> dict[str, Any]:
    """The options that were given (not None)."""
    return {key: value for key, value in options.items() if value is not None}


def default_bundle() -> Path:
    """kibana/logtrace.ndjson of the source tree, else of the working directory (the container's /app)."""
    local = Path.cwd() / "kibana" / BUNDLE_FILE.name
    return BUNDLE_FILE if BUNDLE_FILE.is_file() or not local.is_file() else local


def _credentials(api_key: str | None, user: str | None, password: str | None) -> dict[str, Any]:
    """Settings overrides for credentials named on the command line (they win over the environment's)."""
    if api_key is not None:
        return {"api_key": api_key}
    if user is None:
        return {}
    if password is None:
        if not sys.stdin.isatty():
            raise fail("--user needs a password: set LOGTRACE_KIBANA_PASSWORD or pass --password", 2)
        password = typer.prompt(f"Kibana password for {user}", hide_input=True)
    return {"api_key": None, "username": user, "password": password}


ApiKey = Annotated[
    str | None,
    typer.Option("--api-key", show_default=False, help="Base64 API key (env LOGTRACE_KIBANA_API_KEY)."),
]
User = Annotated[str | None, typer.Option("--user", show_default=False, help="User name for basic auth.")]
Password = Annotated[
    str | None,
    typer.Option("--password", envvar="LOGTRACE_KIBANA_PASSWORD", show_default=False,
                 help="Password of --user (asked for when missing)."),
]
BundlePath = Annotated[
    Path | None,
    typer.Option("--file", exists=True, dir_okay=False, show_default=False,
                 help="NDJSON bundle (default kibana/logtrace.ndjson)."),
]
Wait = Annotated[
    float, typer.Option("--wait", min=0, help="Seconds to retry while Kibana is unreachable or starting.")
]


@kibana_app.command("import")
def import_objects(
    kibana_url: KibanaUrl = None,
    space: Space = None,
    api_key: ApiKey = None,
    user: User = None,
    password: Password = None,
    bundle: BundlePath = None,
    wait: Wait = 0.0,
) -> None:
    """Import the logtrace data views, saved searches, visualizations and dashboards (overwriting)."""
    settings = kibana_settings(**given(url=kibana_url, space=space), **_credentials(api_key, user, password))
    path = bundle or default_bundle()
    try:
        ndjson = path.read_bytes()
        objects = from_ndjson(ndjson.decode())
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read the bundle {path}: {exc}", 2) from None
    console.print(f"importing {len(objects)} objects from {path} to {import_url(settings)}")
    try:
        outcome = report(post_bundle(settings, ndjson, wait_s=wait), objects)
    except KibanaImportError as exc:
        raise fail(str(exc), 1) from None
    for result in outcome.results:
        mark = "[green]✓[/green]" if result.ok else "[red]✗[/red]"
        line = f"{mark} {escape(result.type):<13} {escape(result.id):<42} {escape(result.title)}"
        console.print(line + (f"  [red]{escape(result.error)}[/red]" if result.error else ""))
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    if not outcome.success:
        raise fail(f"{len(outcome.failed)} of {len(outcome.results)} objects were not imported", 1)
    console.print(f"[green]imported {len(outcome.results)} objects[/green]")
