"""`logtrace trace <id>` (the trace as a terminal waterfall, or --json) and `logtrace link <id>` (Kibana URL).

Exit status: 0 found, 1 the trace is not in Elasticsearch, 2 the id is not a trace id, 3 Elasticsearch
could not be asked.
"""

import asyncio
import json
from typing import Annotated

import typer
from elasticsearch import ApiError, TransportError
from pydantic import ValidationError
from rich.console import Console

from parsers.timefmt import ns_to_iso
from pipeline.cli._app import app
from pipeline.cli.kibana import KibanaUrl, Space, fail, given, kibana_settings
from pipeline.config.elasticsearch import ElasticsearchSettings
from pipeline.kibana.links import DEFAULT_FROM, DEFAULT_TO, trace_url
from pipeline.trace_query import MAX_DOCS, TraceDocuments, fetch_trace, normalize_trace_id
from pipeline.trace_view import build, render, to_json

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)
# The Discover link of a found trace spans it with this margin on both sides (late logs, clock skew).
LINK_MARGIN_NS = 60_000_000_000

TraceId = Annotated[
    str, typer.Argument(help="32 or 16 hex digits (any case), a traceparent, a b3 or an uber-trace-id.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the trace as JSON instead of a waterfall.")]
MaxDocs = Annotated[int, typer.Option(help="Most spans and most log lines fetched.", min=1, max=MAX_DOCS)]
TimeFrom = Annotated[str, typer.Option("--from", help="Start of the time range (Kibana date math or ISO).")]
TimeTo = Annotated[str, typer.Option("--to", help="End of the time range (Kibana date math or ISO).")]


def _trace_id(value: str) -> str:
    found = normalize_trace_id(value)
    if found is None:
        raise fail(f"not a trace id: {value!r} (expected 32/16 hex digits, a traceparent, b3 or "
                   "uber-trace-id)", 2)
    return found


def _iso_ms(ns: int) -> str:
    """ISO 8601 UTC with milliseconds, the precision of Kibana's time picker."""
    return ns_to_iso(ns)[:23] + "Z"


async def _fetch(trace_id: str, max_docs: int) -> TraceDocuments:
    es = ElasticsearchSettings().client()
    try:
        return await fetch_trace(es, trace_id, max_docs)
    finally:
        await es.close()


@app.command("trace")
def trace(
    trace_id: TraceId,
    as_json: AsJson = False,
    kibana_url: KibanaUrl = None,
    space: Space = None,
    max_docs: MaxDocs = MAX_DOCS,
) -> None:
    """Show one trace: its spans as a waterfall by depth with their log lines, and its Kibana link."""
    normalized = _trace_id(trace_id)
    kibana = kibana_settings(**given(url=kibana_url, space=space))
    try:
        documents = asyncio.run(_fetch(normalized, max_docs))
    except ValidationError as exc:
        raise fail(f"invalid Elasticsearch settings: {exc.errors()[0]['msg']}", 3) from None
    except (ApiError, TransportError) as exc:
        raise fail(f"could not query Elasticsearch: {exc}", 3) from None
    if not documents.found:
        raise fail(f"trace {normalized} not found: no span, log line or summary has this trace.id", 1)
    waterfall = build(normalized, documents.spans, documents.logs, documents.summary)
    url = trace_url(kibana.url, normalized, space=kibana.space,
                    time_from=_iso_ms(waterfall.start_ns - LINK_MARGIN_NS),
                    time_to=_iso_ms(waterfall.end_ns + LINK_MARGIN_NS))
    if as_json:
        payload = to_json(waterfall, url) | {"truncated": documents.truncated}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    render(waterfall, console, url)
    if documents.truncated:
        err_console.print(f"[yellow]showing the first {max_docs} spans/log lines of {documents.spans_total} "
                          f"spans and {documents.logs_total} log lines[/yellow]")


@app.command("link")
def link(
    trace_id: TraceId,
    kibana_url: KibanaUrl = None,
    space: Space = None,
    time_from: TimeFrom = DEFAULT_FROM,
    time_to: TimeTo = DEFAULT_TO,
) -> None:
    """Print the Kibana Discover URL of one trace (no Elasticsearch needed)."""
    kibana = kibana_settings(**given(url=kibana_url, space=space))
    normalized = _trace_id(trace_id)
    typer.echo(trace_url(kibana.url, normalized, space=kibana.space, time_from=time_from, time_to=time_to))
