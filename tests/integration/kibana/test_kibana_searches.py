"""Each saved search's own query, run by the real Elasticsearch over its data view, finds the seeded
trace's documents (and only the ones it should); so does the query a trace link puts into Discover."""

from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch

from pipeline.kibana import searches
from pipeline.kibana.bundle import BUNDLE_FILE, decode, from_ndjson
from pipeline.kibana.links import TRACE_SEARCH_ID, trace_query
from tests.integration.kibana.conftest import Seeded

pytestmark = pytest.mark.timeout(60)
SEARCHES = {obj["id"]: obj for obj in map(decode, from_ndjson(BUNDLE_FILE.read_text("utf-8")))
            if obj["type"] == "search"}


async def _run(es: AsyncElasticsearch, seeded: Seeded, search_id: str, query: str | None = None,
               narrow: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The documents Discover would list for the saved search (its query, data view and sort), narrowed
    to this run's trace so documents of other runs and of real traffic do not count."""
    obj = SEARCHES[search_id]
    source = obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
    view = {ref["name"]: ref["id"] for ref in obj["references"]}[source["indexRefName"]]
    narrow = narrow or {"term": {"trace.id": seeded.trace.trace_id}}
    response = await es.search(
        index=seeded.view_pattern(view),
        query={"bool": {"must": [{"query_string": {"query": query or source["query"]["query"]}}],
                        "filter": [narrow]}},
        sort=[{field: {"order": order}} for field, order in obj["attributes"]["sort"]],
        size=100,
    )
    return [hit["_source"] for hit in response.body["hits"]["hits"]]


def _keys(docs: list[dict[str, Any]]) -> list[str]:
    return [doc.get("span.name") or doc["message"] for doc in docs]


async def test_the_trace_search_lists_every_span_and_log_of_the_trace_in_time_order(
    seeded: Seeded, kibana_es: AsyncElasticsearch
) -> None:
    trace = seeded.trace
    everything = sorted([*trace.spans, *trace.logs], key=lambda doc: doc["@timestamp"])
    found = await _run(kibana_es, seeded, TRACE_SEARCH_ID)
    assert _keys(found) == _keys(everything)
    assert {doc["data_stream.type"] for doc in found} == {"logs", "traces"}
    # The link replaces the saved query with trace.id:<id>; Elasticsearch runs it the same way.
    linked = await _run(kibana_es, seeded, TRACE_SEARCH_ID, query=trace_query(trace.trace_id),
                        narrow={"match_all": {}})
    assert _keys(linked) == _keys(everything)


async def test_errors_finds_the_failed_span_and_the_error_log(seeded: Seeded,
                                                               kibana_es: AsyncElasticsearch) -> None:
    found = await _run(kibana_es, seeded, searches.ERRORS)
    assert _keys(found) == ["query cancelled after 150 ms", "SELECT stock"]  # newest first


async def test_slow_traces_finds_the_summary_of_the_slow_trace(seeded: Seeded,
                                                                kibana_es: AsyncElasticsearch) -> None:
    (summary,) = await _run(kibana_es, seeded, searches.SLOW_TRACES)
    assert summary["trace.id"] == seeded.trace.trace_id
    assert summary["event.duration"] >= searches.SLOW_TRACE_NS


async def test_dead_letters_finds_the_dead_letter(seeded: Seeded, kibana_es: AsyncElasticsearch) -> None:
    letter = seeded.trace.deadletter
    narrow = {"term": {"logtrace.deadletter.doc_id": letter["logtrace.deadletter.doc_id"]}}
    (found,) = await _run(kibana_es, seeded, searches.DEADLETTERS, narrow=narrow)
    assert found["logtrace.deadletter.reason"] == "mapper_parsing_exception"
    assert seeded.trace.trace_id in found["logtrace.deadletter.payload"]


async def test_another_trace_id_finds_nothing(seeded: Seeded, kibana_es: AsyncElasticsearch) -> None:
    other = {"term": {"trace.id": "0" * 31 + "1"}}
    for search_id in (TRACE_SEARCH_ID, searches.ERRORS, searches.SLOW_TRACES):
        assert await _run(kibana_es, seeded, search_id, narrow=other) == []
