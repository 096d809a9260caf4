"""The dashboards and the Lens visualizations on them.

Service overview (RED metrics from the metric documents), Errors, Latency, Log volume, Log patterns,
Pipeline health.
Panels reference Lens objects and saved searches by id (`panelRefName` `panel_<panelIndex>`, reference
`<panelIndex>:panel_<panelIndex>`, as Kibana 8.x extracts them); a Markdown panel on top links the
dashboards to each other and to the trace search.
"""

from dataclasses import dataclass
from typing import Any

from pipeline.kibana import dataviews, searches
from pipeline.kibana.lens import (
    Column,
    count,
    maximum,
    over_time,
    per_second,
    percentile,
    table,
    top,
    total,
    xy,
)
from pipeline.kibana.links import TRACE_SEARCH_ID
from pipeline.kibana.saved import reference, saved_object

GRID_COLUMNS = 48
SPAN_RED = "metricset.name:span_red"
# A request is a span that entered a service: server spans (HTTP, RPC) and consumer spans (messages).
REQUESTS = f"{SPAN_RED} AND span.kind:(server OR consumer)"
FAILED_SPANS = "event.outcome:failure OR span.status.code:error"
# Log lines with a mined template, and the new-pattern events (`pipeline.patterns.events`).
PATTERNED_LOGS = "_exists_:log.pattern.id AND NOT event.kind:alert"
NEW_PATTERNS = "_exists_:log.pattern.id AND event.kind:alert"
_NO_QUERY = {"filter": [], "query": {"language": "lucene", "query": ""}}
_OPTIONS = {"hidePanelTitles": False, "syncColors": False, "syncCursor": True, "syncTooltips": False,
            "useMargins": True}


@dataclass(frozen=True, slots=True)
class Panel:
    """One panel: a Lens object or a saved search (by reference), and its size on the 48-column grid."""

    kind: str
    target: str
    width: int
    height: int
    # The Lens object a chart shows (it goes into the bundle too); None for a saved search.
    lens_object: dict[str, Any] | None = None


def chart(obj: dict[str, Any], width: int = 24, height: int = 12) -> Panel:
    """A panel showing a Lens object."""
    return Panel("lens", obj["id"], width, height, obj)


def listing(search_id: str, width: int = GRID_COLUMNS, height: int = 14) -> Panel:
    """A panel showing a saved search's documents."""
    return Panel("search", search_id, width, height)


@dataclass(frozen=True, slots=True)
class Dashboard:
    """A dashboard's id, title, description and rows of panels (each row fills the grid left to right)."""

    dashboard_id: str
    title: str
    description: str
    rows: tuple[tuple[Panel, ...], ...]


def timeseries(
    lens_id: str,
    title: str,
    data_view: str,
    ys: dict[str, Column],
    *,
    split: tuple[str, Column] | None = None,
    series: str = "line",
    query: str = "",
    time_field: str = "@timestamp",
) -> dict[str, Any]:
    """An XY chart over time (Kibana's automatic interval)."""
    return xy(lens_id, title, data_view, x=("time", over_time(time_field)), ys=ys, split=split, series=series,
              query=query)


def by(field: str, label: str, size: int = 10) -> tuple[str, Column]:
    """Split into one series per top value of `field`, ranked by the chart's `value` column."""
    return "split", top(field, label, order_by="value", size=size)


def _service_overview() -> Dashboard:
    view = dataviews.METRICS
    service = by("service.name", "Service")
    requests = timeseries("logtrace-lens-requests-per-service", "Requests per second by service", view,
                          {"value": per_second(total("metrics.count", "Requests/s"))}, split=service,
                          query=REQUESTS)
    errors = timeseries("logtrace-lens-errors-per-service", "Errors per second by service", view,
                        {"value": per_second(total("metrics.errors", "Errors/s"))}, split=service,
                        query=REQUESTS)
    p95, p99 = (
        timeseries(f"logtrace-lens-p{p}-per-service", f"p{p} latency by service (slowest operation)", view,
                   {"value": maximum(f"metrics.duration.p{p}", f"p{p}")}, split=service, query=SPAN_RED)
        for p in (95, 99)
    )
    outcomes = timeseries("logtrace-lens-request-outcomes", "Share of requests by outcome", view,
                          {"value": total("metrics.count", "Requests")},
                          split=by("event.outcome", "Outcome", 3), series="bar_percentage_stacked",
                          query=REQUESTS)
    services = table("logtrace-lens-service-table", "Services", view, columns={
        "service": top("service.name", "Service", order_by="requests", size=50),
        "requests": total("metrics.count", "Requests"),
        "errors": total("metrics.errors", "Errors"),
        "p95": maximum("metrics.duration.p95", "p95 (slowest operation)"),
        "p99": maximum("metrics.duration.p99", "p99 (slowest operation)"),
    }, sort_by="requests", query=REQUESTS)
    return Dashboard(
        "logtrace-dashboard-service-overview",
        "logtrace: Service overview",
        "Request rate, errors and p95/p99 latency per service, from the span_red metric documents.",
        ((chart(requests), chart(errors)), (chart(p95), chart(p99)),
         (chart(outcomes, width=16), chart(services, width=32))),
    )


def _errors() -> Dashboard:
    trace, spans = dataviews.TRACE, dataviews.SPANS
    over_time_ = timeseries("logtrace-lens-errors-over-time", "Error logs and failed spans", trace,
                            {"value": count("Errors")}, split=by("data_stream.type", "Document kind", 2),
                            series="bar_stacked", query=searches.ERROR_QUERY)
    types = xy("logtrace-lens-top-error-types", "Top error types", trace,
               x=("type", top("error.type", "Error type", order_by="value")), ys={"value": count("Errors")},
               series="bar_horizontal", query=searches.ERROR_QUERY)
    messages = table("logtrace-lens-top-error-messages", "Top error messages (span status)", spans, columns={
        "type": top("error.type", "Error type", order_by="value"),
        "message": top("span.status.message", "Message", order_by="value"),
        "value": count("Spans"),
    }, sort_by="value", query=FAILED_SPANS)
    operations = table("logtrace-lens-top-failing-operations", "Top failing operations", spans, columns={
        "service": top("service.name", "Service", order_by="value"),
        "operation": top("span.name", "Operation", order_by="value"),
        "value": count("Failed spans"),
    }, sort_by="value", query=FAILED_SPANS)
    return Dashboard(
        "logtrace-dashboard-errors",
        "logtrace: Errors",
        "Error logs and failed spans over time, the most frequent error types and messages, "
        "the operations that fail most.",
        ((chart(over_time_, width=GRID_COLUMNS),),
         (chart(types, width=16), chart(messages, width=16), chart(operations, width=16)),
         (listing(searches.ERRORS),)),
    )


def _latency() -> Dashboard:
    p95, p99 = (
        timeseries(f"logtrace-lens-p{p}-per-operation", f"p{p} span duration by operation", dataviews.SPANS,
                   {"value": percentile("event.duration", p, f"p{p}")}, split=by("span.name", "Operation"))
        for p in (95, 99)
    )
    slowest = table("logtrace-lens-slowest-traces", "Slowest traces", dataviews.SUMMARIES, columns={
        "trace": top("trace.id", "Trace", order_by="duration", size=20),
        "root": top("trace.summary.root.name", "Root span", order_by="duration", size=1),
        "duration": maximum("event.duration", "Duration"),
        "spans": maximum("trace.summary.span_count", "Spans"),
        "errors": maximum("trace.summary.error_span_count", "Error spans"),
    }, sort_by="duration")
    return Dashboard(
        "logtrace-dashboard-latency",
        "logtrace: Latency",
        "Span duration percentiles per operation over time, and the slowest traces "
        "(a trace.id opens the trace search).",
        ((chart(p95, width=GRID_COLUMNS),), (chart(p99, width=GRID_COLUMNS),),
         (chart(slowest, width=GRID_COLUMNS, height=14),), (listing(searches.SLOW_TRACES),)),
    )


def _log_volume() -> Dashboard:
    view = dataviews.LOGS
    service, level, fmt = (
        timeseries(f"logtrace-lens-logs-by-{slug}", f"Log lines by {what}", view,
                   {"value": count("Log lines")}, split=by(field, label), series="bar_stacked")
        for slug, what, field, label in (
            ("service", "service", "service.name", "Service"),
            ("level", "level", "log.level", "Level"),
            ("format", "detected format", "logtrace.format", "Format"),
        )
    )
    per_service_level = table("logtrace-lens-logs-per-service-level", "Log lines per service and level", view,
                              columns={
                                  "service": top("service.name", "Service", order_by="value", size=50),
                                  "level": top("log.level", "Level", order_by="value", size=6),
                                  "value": count("Log lines"),
                              }, sort_by="value")
    return Dashboard(
        "logtrace-dashboard-log-volume",
        "logtrace: Log volume",
        "Log lines over time by service, by level and by the input format logtrace detected.",
        ((chart(service), chart(level)), (chart(fmt), chart(per_service_level))),
    )


def _log_patterns() -> Dashboard:
    view = dataviews.LOGS
    over_time_ = timeseries("logtrace-lens-log-patterns-over-time", "Log lines by pattern", view,
                            {"value": count("Log lines")}, split=by("log.pattern.template", "Pattern"),
                            series="bar_stacked", query=PATTERNED_LOGS)
    top_patterns = table("logtrace-lens-top-log-patterns", "Top patterns", view, columns={
        "pattern": top("log.pattern.template", "Pattern", order_by="value", size=25),
        "value": count("Log lines"),
    }, sort_by="value", query=PATTERNED_LOGS)
    by_level = table("logtrace-lens-log-patterns-by-level", "Patterns by level", view, columns={
        "level": top("log.level", "Level", order_by="value", size=6),
        "pattern": top("log.pattern.template", "Pattern", order_by="value", size=10),
        "value": count("Log lines"),
    }, sort_by="value", query=PATTERNED_LOGS)
    new = timeseries("logtrace-lens-new-log-patterns", "New warn/error patterns by service", view,
                     {"value": count("New patterns")}, split=by("service.name", "Service"),
                     series="bar_stacked", query=NEW_PATTERNS)
    return Dashboard(
        "logtrace-dashboard-log-patterns",
        "logtrace: Log patterns",
        "Message templates mined online (Drain): the most frequent patterns, patterns by level, and the "
        "warn/error patterns each service showed for the first time.",
        ((chart(over_time_, width=GRID_COLUMNS),), (chart(top_patterns), chart(by_level)),
         (chart(new, width=GRID_COLUMNS),)),
    )


def _pipeline_health() -> Dashboard:
    trace = dataviews.TRACE
    lag = timeseries("logtrace-lens-ingest-lag", "Ingest lag (event time to indexing)", trace,
                     {f"p{p}": percentile("logtrace.lag_ms", p, f"p{p}") for p in (50, 95, 99)})
    throughput = timeseries("logtrace-lens-throughput", "Documents ingested per second", trace,
                            {"value": per_second(count("Documents/s"))},
                            split=by("data_stream.type", "Document kind", 2), series="area_stacked",
                            time_field="event.ingested")
    worker = timeseries("logtrace-lens-worker-time", "Time inside the worker (p95)", trace,
                        {"value": percentile("logtrace.pipeline_ms", 95, "p95")})
    dead = timeseries("logtrace-lens-deadletters-by-reason", "Dead letters by reason", dataviews.DEADLETTERS,
                      {"value": count("Dead letters")}, split=by("logtrace.deadletter.reason", "Reason"),
                      series="bar_stacked")
    problems = timeseries("logtrace-lens-parse-problems", "Parse problems", dataviews.LOGS,
                          {"value": count("Log lines")}, split=by("logtrace.parse.problems", "Problem"),
                          series="bar_stacked", query="_exists_:logtrace.parse.problems")
    return Dashboard(
        "logtrace-dashboard-pipeline-health",
        "logtrace: Pipeline health",
        "Ingest lag, throughput, time inside the worker, dead letters by reason and parse problems.",
        ((chart(lag), chart(throughput)),
         (chart(worker, width=16), chart(dead, width=16), chart(problems, width=16)),
         (listing(searches.DEADLETTERS),)),
    )


DASHBOARDS = (_service_overview(), _errors(), _latency(), _log_volume(), _log_patterns(), _pipeline_health())


def _navigation(current: str) -> str:
    """Markdown linking every dashboard (the current one in bold) and the trace search."""
    links = [
        f"**{board.title.removeprefix('logtrace: ')}**" if board.dashboard_id == current
        else f"[{board.title.removeprefix('logtrace: ')}](#/view/{board.dashboard_id})"
        for board in DASHBOARDS
    ]
    return " · ".join([*links, f"[Trace search](discover#/view/{TRACE_SEARCH_ID})"])


def _navigation_panel(current: str) -> dict[str, Any]:
    """A by-value Markdown visualization panel (the shape Elastic's integration dashboards use)."""
    saved_vis = {
        "data": {"aggs": [], "searchSource": {}},
        "description": "",
        "params": {"fontSize": 12, "markdown": _navigation(current), "openLinksInNewTab": False},
        "title": "",
        "type": "markdown",
        "uiState": {},
    }
    return {
        "embeddableConfig": {"enhancements": {}, "hidePanelTitles": True, "savedVis": saved_vis},
        "gridData": {"h": 3, "i": "navigation", "w": GRID_COLUMNS, "x": 0, "y": 0},
        "panelIndex": "navigation",
        "title": "logtrace dashboards",
        "type": "visualization",
    }


def _panel_index(panel: Panel) -> str:
    return panel.target.removeprefix("logtrace-lens-").removeprefix("logtrace-search-")


def dashboard_object(board: Dashboard) -> dict[str, Any]:
    """The `dashboard` saved object: panels laid out row by row under the navigation panel."""
    panels, references, y = [_navigation_panel(board.dashboard_id)], [], 3
    for row in board.rows:
        x = 0
        for panel in row:
            index = _panel_index(panel)
            panels.append({
                "embeddableConfig": {"enhancements": {}},
                "gridData": {"h": panel.height, "i": index, "w": panel.width, "x": x, "y": y},
                "panelIndex": index,
                "panelRefName": f"panel_{index}",
                "type": panel.kind,
            })
            references.append(reference(panel.kind, panel.target, f"{index}:panel_{index}"))
            x += panel.width
        if x > GRID_COLUMNS:
            raise ValueError(f"{board.dashboard_id}: a row is {x} columns wide (max {GRID_COLUMNS})")
        y += max(panel.height for panel in row)
    attributes = {
        "description": board.description,
        "kibanaSavedObjectMeta": {"searchSourceJSON": _NO_QUERY},
        "optionsJSON": _OPTIONS,
        "panelsJSON": panels,
        "refreshInterval": {"pause": False, "value": 60_000},
        "timeFrom": "now-1h",
        "timeRestore": True,
        "timeTo": "now",
        "title": board.title,
        "version": 1,
    }
    return saved_object("dashboard", board.dashboard_id, attributes, references)


def dashboard_objects() -> list[dict[str, Any]]:
    """Every dashboard and every Lens object on them."""
    lenses = [panel.lens_object for board in DASHBOARDS for row in board.rows for panel in row
              if panel.lens_object is not None]
    return [*lenses, *(dashboard_object(board) for board in DASHBOARDS)]

