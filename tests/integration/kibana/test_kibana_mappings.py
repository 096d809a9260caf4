"""Every field a data view, saved search or visualization uses exists, with a type that fits the use, in
the mappings `logtrace setup` installs on the real Elasticsearch; every query is valid there."""

import pytest
from elasticsearch import AsyncElasticsearch

from pipeline.kibana.bundle import BUNDLE_FILE, decode, from_ndjson
from pipeline.kibana.dataviews import DATA_VIEWS
from pipeline.kibana.links import trace_query
from pipeline.kibana.refs import FieldUse, field_uses, query_fields
from pipeline.sink.routing import data_stream, deadletter_stream, metrics_stream, span_stream, summary_stream
from tests.integration.kibana.conftest import Seeded

pytestmark = pytest.mark.timeout(60)
OBJECTS = [decode(obj) for obj in from_ndjson(BUNDLE_FILE.read_text("utf-8"))]
NUMBERS = frozenset({"long", "integer", "short", "byte", "double", "float", "half_float", "scaled_float",
                     "unsigned_long"})
DATES = frozenset({"date", "date_nanos"})


def _problem(use: FieldUse, caps: dict[str, dict], format_id: str | None) -> str | None:
    """Why the mapped field does not fit the use, or None when it does."""
    if not caps:
        return "not mapped"
    types = set(caps)
    if use.usage in ("time", "date_histogram") and not types <= DATES:
        return f"needs a date, is {types}"
    if (use.usage == "metric" or format_id in ("duration", "percent", "bytes")) and not types <= NUMBERS:
        return f"needs a number, is {types}"
    if use.usage in ("terms", "sort") and not all(info["aggregatable"] for info in caps.values()):
        return f"needs an aggregatable field, is {types}"
    if use.usage == "query" and not all(info["searchable"] for info in caps.values()):
        return f"needs a searchable field, is {types}"
    return None


async def test_every_used_field_is_mapped_with_a_fitting_type(
    seeded: Seeded, kibana_es: AsyncElasticsearch
) -> None:
    formats = {(view["id"], name): spec["id"] for view in OBJECTS if view["type"] == "index-pattern"
               for name, spec in view["attributes"]["fieldFormatMap"].items()}
    mapped: dict[str, dict[str, dict]] = {}
    for view in DATA_VIEWS:
        response = await kibana_es.field_caps(index=seeded.view_pattern(view.view_id), fields="*")
        mapped[view.view_id] = response.body["fields"]
    uses = field_uses(OBJECTS)
    assert len(uses) > 100
    problems = []
    for use in uses:
        caps = mapped[use.data_view].get(use.field, {})
        format_id = formats.get((use.data_view, use.field)) if use.usage == "format" else None
        problem = _problem(use, caps, format_id)
        if problem:
            problems.append(f"{use.object_id}: {use.field} ({use.usage} via {use.data_view}): {problem}")
    assert problems == []


async def test_each_data_view_matches_exactly_its_kind_of_stream(
    seeded: Seeded, kibana_es: AsyncElasticsearch
) -> None:
    ns = seeded.namespace
    logs, spans = data_stream("logs", "app", ns), span_stream(ns)
    expected = {
        "logtrace-logs": {logs},
        "logtrace-spans": {spans},
        "logtrace-trace-summaries": {summary_stream(ns)},
        "logtrace-metrics": {metrics_stream("span_red", ns)},
        "logtrace-deadletters": {deadletter_stream(ns)},
        "logtrace-trace": {logs, spans},
    }
    for view in DATA_VIEWS:
        resolved = await kibana_es.indices.resolve_index(name=seeded.view_pattern(view.view_id))
        streams = {stream["name"] for stream in resolved.body["data_streams"]}
        assert streams == expected[view.view_id], view.view_id


def _queries() -> list[tuple[str, str, str]]:
    """(object id, data view id, Lucene query) of every non-empty query in the bundle."""
    found = []
    for obj in OBJECTS:
        refs = {ref["name"]: ref["id"] for ref in obj["references"]}
        if obj["type"] == "search":
            source = obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
            found.append((obj["id"], refs[source["indexRefName"]], source["query"]["query"]))
        elif obj["type"] == "lens":
            state = obj["attributes"]["state"]
            view = next(iter(refs.values()))
            found.append((obj["id"], view, state["query"]["query"]))
            for layer in state["datasourceStates"]["formBased"]["layers"].values():
                found += [(obj["id"], view, column["filter"]["query"]) for column in layer["columns"].values()
                          if "filter" in column]
    return [(obj_id, view, query) for obj_id, view, query in found if query]


async def test_every_query_is_valid_lucene_on_the_real_mappings(
    seeded: Seeded, kibana_es: AsyncElasticsearch
) -> None:
    queries = [*_queries(), ("trace.id link", "logtrace-trace", trace_query(seeded.trace.trace_id))]
    assert len(queries) >= 10
    for obj_id, view, query in queries:
        assert query_fields(query), f"{obj_id}: {query!r} names no field"
        response = await kibana_es.indices.validate_query(
            index=seeded.view_pattern(view), query={"query_string": {"query": query}}, explain=True)
        assert response.body["valid"], f"{obj_id}: {query!r}: {response.body}"
