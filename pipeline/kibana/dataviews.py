"""The data views: one per kind of document, plus logs + spans together for the trace search.

Each has `@timestamp` as its time field and field formats that make numbers read as what they are:
nanosecond and microsecond durations as durations, `trace.id` as a link that opens the trace search.
"""

from dataclasses import dataclass
from typing import Any

from pipeline.kibana import patterns
from pipeline.kibana.links import trace_url_template
from pipeline.kibana.saved import saved_object

LOGS = "logtrace-logs"
SPANS = "logtrace-spans"
SUMMARIES = "logtrace-trace-summaries"
METRICS = "logtrace-metrics"
DEADLETTERS = "logtrace-deadletters"
TRACE = "logtrace-trace"


def _duration(unit: str) -> dict[str, Any]:
    # humanizePrecise: "412.5 ms", "2.3 s"; the unit follows the value instead of one fixed unit.
    return {
        "id": "duration",
        "params": {
            "includeSpaceWithSuffix": True,
            "inputFormat": unit,
            "outputFormat": "humanizePrecise",
            "outputPrecision": 1,
            "useShortSuffix": True,
        },
    }


_TRACE_LINK = {
    "id": "url",
    "params": {"labelTemplate": "{{value}}", "openLinkInCurrentTab": False, "type": "a",
               "urlTemplate": trace_url_template()},
}
FIELD_FORMATS: dict[str, dict[str, Any]] = {
    "trace.id": _TRACE_LINK,
    "event.duration": _duration("nanoseconds"),
    "span.duration.us": _duration("microseconds"),
    "trace.summary.top_spans.self_time": _duration("nanoseconds"),
    "logtrace.lag_ms": _duration("milliseconds"),
    "logtrace.pipeline_ms": _duration("milliseconds"),
    "metricset.period": _duration("milliseconds"),
    **{f"metrics.duration.{stat}": _duration("nanoseconds")
       for stat in ("min", "max", "sum", "p50", "p90", "p95", "p99")},
    "metrics.error_rate": {"id": "percent", "params": {}},
    "logtrace.deadletter.size": {"id": "bytes", "params": {}},
}
_EVENT_FORMATS = ("trace.id", "event.duration", "logtrace.lag_ms", "logtrace.pipeline_ms")


@dataclass(frozen=True, slots=True)
class DataView:
    """What differs between the data views."""

    view_id: str
    name: str
    pattern: str
    formatted: tuple[str, ...]


DATA_VIEWS = (
    DataView(LOGS, "logtrace: logs", patterns.LOGS, _EVENT_FORMATS),
    DataView(SPANS, "logtrace: spans", patterns.SPANS, (*_EVENT_FORMATS, "span.duration.us")),
    DataView(SUMMARIES, "logtrace: trace summaries", patterns.SUMMARIES,
             ("trace.id", "event.duration", "trace.summary.top_spans.self_time")),
    DataView(METRICS, "logtrace: metrics", patterns.METRICS,
             tuple(name for name in FIELD_FORMATS if name.startswith("metric"))),
    DataView(DEADLETTERS, "logtrace: dead letters", patterns.DEADLETTERS, ("logtrace.deadletter.size",)),
    DataView(TRACE, "logtrace: trace (logs + spans)", patterns.TRACE, (*_EVENT_FORMATS, "span.duration.us")),
)


def data_view_object(view: DataView) -> dict[str, Any]:
    """The `index-pattern` saved object of one data view (field list left to Kibana, as in exports)."""
    attributes = {
        "fieldAttrs": {},
        "fieldFormatMap": {name: FIELD_FORMATS[name] for name in view.formatted},
        "fields": [],
        "name": view.name,
        "runtimeFieldMap": {},
        "sourceFilters": [],
        "timeFieldName": "@timestamp",
        "title": view.pattern,
    }
    return saved_object("index-pattern", view.view_id, attributes, [])


def data_view_objects() -> list[dict[str, Any]]:
    """Every data view of the bundle."""
    return [data_view_object(view) for view in DATA_VIEWS]
