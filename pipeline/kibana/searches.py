"""The saved searches (Discover): a trace's logs and spans, errors, slow traces, dead letters.

Queries are Lucene, which Kibana runs as a `query_string` query: the integration tests run the very
same strings against Elasticsearch. The trace search's own query only keeps documents that have a
trace id; the links of `pipeline.kibana.links` replace it with `trace.id:<id>`.
"""

from dataclasses import dataclass
from typing import Any

from pipeline.kibana import dataviews
from pipeline.kibana.links import TRACE_SEARCH_ID
from pipeline.kibana.saved import reference, saved_object

ERRORS = "logtrace-search-errors"
SLOW_TRACES = "logtrace-search-slow-traces"
DEADLETTERS = "logtrace-search-deadletters"

# An error is a log at level error/fatal or a span that failed (ECS outcome or OTLP status).
ERROR_QUERY = "log.level:(error OR fatal) OR event.outcome:failure OR span.status.code:error"
# Traces slower than this are "slow" (edit the saved search in Kibana to move the line).
SLOW_TRACE_NS = 1_000_000_000
SLOW_TRACE_QUERY = f"event.duration:>={SLOW_TRACE_NS}"
_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


@dataclass(frozen=True, slots=True)
class SavedSearch:
    """What differs between the saved searches."""

    search_id: str
    title: str
    description: str
    data_view: str
    query: str
    columns: tuple[str, ...]
    sort: tuple[str, str]


SAVED_SEARCHES = (
    SavedSearch(
        TRACE_SEARCH_ID,
        "Trace: all logs and spans for a trace id",
        "Every span and log line of one trace in time order. Open it from a trace.id link, "
        "`logtrace link <id>`, or replace the query with trace.id:<id>.",
        dataviews.TRACE,
        "_exists_:trace.id",
        ("service.name", "span.name", "log.level", "message", "log.pattern.template", "event.duration",
         "event.outcome", "span.id"),
        ("@timestamp", "asc"),
    ),
    SavedSearch(
        ERRORS,
        "Errors",
        "Error and fatal log lines and failed spans, newest first.",
        dataviews.TRACE,
        ERROR_QUERY,
        ("service.name", "log.level", "span.name", "error.type", "error.message", "message",
         "log.pattern.template", "trace.id"),
        ("@timestamp", "desc"),
    ),
    SavedSearch(
        SLOW_TRACES,
        "Slow traces",
        "Trace summaries of traces that took 1 s or longer, slowest first; trace.id opens the trace.",
        dataviews.SUMMARIES,
        SLOW_TRACE_QUERY,
        ("trace.id", "service.name", "trace.summary.root.name", "event.duration", "trace.summary.span_count",
         "trace.summary.error_span_count", "trace.summary.services"),
        ("event.duration", "desc"),
    ),
    SavedSearch(
        DEADLETTERS,
        "Dead letters",
        "Records and documents logtrace could not index, with the reason; replay with `logtrace dlq replay`.",
        dataviews.DEADLETTERS,
        "_exists_:logtrace.deadletter.reason",
        ("logtrace.deadletter.reason", "error.type", "error.message", "logtrace.deadletter.data_stream",
         "logtrace.kafka.topic", "logtrace.kafka.partition", "logtrace.kafka.offset"),
        ("@timestamp", "desc"),
    ),
)


def search_object(search: SavedSearch) -> dict[str, Any]:
    """The `search` saved object of one saved search."""
    search_source = {
        "filter": [],
        "highlightAll": True,
        "indexRefName": _INDEX_REF,
        "query": {"language": "lucene", "query": search.query},
        "version": True,
    }
    attributes = {
        "columns": list(search.columns),
        "description": search.description,
        "hits": 0,
        "kibanaSavedObjectMeta": {"searchSourceJSON": search_source},
        "sort": [list(search.sort)],
        "title": search.title,
        "version": 1,
    }
    return saved_object("search", search.search_id, attributes,
                        [reference("index-pattern", search.data_view, _INDEX_REF)])


def search_objects() -> list[dict[str, Any]]:
    """Every saved search of the bundle."""
    return [search_object(search) for search in SAVED_SEARCHES]
