"""`logtrace setup [--dry-run]`: install or upgrade logtrace's ILM policies, templates and data streams.

The planning is pure (pipeline.setup); this module only asks the cluster what it has, prints the plan
and applies it. Running it twice is a no-op the second time.
"""

import asyncio
from typing import Any

import typer
from elasticsearch import ApiError, AsyncElasticsearch, NotFoundError
from rich.console import Console
from rich.markup import escape

from pipeline.capabilities import CapabilityProbeError, probe_capabilities
from pipeline.cli._app import app
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.config.lifecycle import LifecycleSettings
from pipeline.config.sink import SinkSettings
from pipeline.mappings import DATA_TYPES
from pipeline.setup import Action, Desired, desired, plan
from pipeline.sink.routing import deadletter_stream

console = Console(soft_wrap=True)
_PAST = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "rollover": "rolled over",
    "lifecycle": "set lifecycle of",
}


async def current_state(
    es: AsyncElasticsearch, want: Desired
) -> dict[tuple[str, str], dict[str, Any] | None]:
    """(kind, name) -> the body the cluster has now (ILM policies as {"policy": ...}), None if absent."""
    state: dict[tuple[str, str], dict[str, Any] | None] = {}
    for resource in want.resources:
        try:
            if resource.kind == "ilm_policy":
                found = (await es.ilm.get_lifecycle(name=resource.name)).body[resource.name]
                body: dict[str, Any] | None = {"policy": found["policy"]}
            elif resource.kind == "component_template":
                found = (await es.cluster.get_component_template(name=resource.name)).body
                body = found["component_templates"][0]["component_template"]
            else:
                found = (await es.indices.get_index_template(name=resource.name)).body
                body = found["index_templates"][0]["index_template"]
        except NotFoundError:
            body = None
        state[(resource.kind, resource.name)] = body
    return state


async def logtrace_streams(es: AsyncElasticsearch) -> list[str]:
    """Names of the existing data streams that logtrace's templates match (via _resolve, core API)."""
    patterns = sorted({spec["pattern"] for spec in DATA_TYPES.values()})
    resolved = await es.indices.resolve_index(name=",".join(patterns), expand_wildcards="all")
    return sorted(stream["name"] for stream in resolved.body.get("data_streams", []))


async def apply(es: AsyncElasticsearch, action: Action) -> None:
    """Carry out one planned action."""
    if action.resource is not None:
        await es.perform_request(
            "PUT",
            action.resource.path,
            body=action.resource.body,
            headers={"accept": "application/json", "content-type": "application/json"},
        )
    elif action.verb == "rollover":
        await es.indices.rollover(alias=action.name)
    elif action.verb == "create" and action.kind == "data_stream":
        await es.indices.create_data_stream(name=action.name)
    elif action.verb == "lifecycle":
        retention = action.detail.removeprefix("retention ")
        await es.indices.put_data_lifecycle(name=action.name, data_retention=retention)


async def run_setup(es_settings: ElasticsearchSettings, dry_run: bool) -> list[Action]:
    """Probe, plan, print and (unless `dry_run`) apply; returns the plan."""
    capabilities = await asyncio.to_thread(probe_capabilities, es_settings.url, 10.0, es_settings)
    console.print(
        "cluster capabilities: " + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in capabilities.items())
    )
    want = desired(capabilities, LifecycleSettings())
    for note in want.notes:
        console.print(f"[yellow]adapted[/] {note}")
    for warning in want.warnings:
        console.print(f"[bold red]WARNING[/] {warning}")
    es = es_settings.client()
    try:
        streams = await logtrace_streams(es)
        namespace = SinkSettings().namespace
        create = (deadletter_stream(namespace),) if capabilities.get("data_stream_api") else ()
        if not create:
            console.print(
                f"{deadletter_stream(namespace)} is created by its first write (no data stream API)"
            )
        actions = plan(want, await current_state(es, want), streams, create)
        for action in actions:
            if not dry_run and action.verb != "unchanged":
                await apply(es, action)
            verb = f"would {action.verb}" if dry_run and action.verb != "unchanged" else _PAST[action.verb]
            console.print(
                f"{verb} {action.kind} {action.name}" + (f" ({action.detail})" if action.detail else "")
            )
    finally:
        await es.close()
    return actions


@app.command("setup")
def setup_command(
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Print what would change without changing anything."
    ),
) -> None:
    """Install or upgrade ILM policies, component/index templates and data streams (idempotent)."""
    try:
        asyncio.run(run_setup(ElasticsearchSettings(), dry_run))
    except (ApiError, CapabilityProbeError) as exc:
        # escape: Elasticsearch's reasons are full of [brackets] that rich would take for markup.
        console.print(f"[bold red]setup failed:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
