"""Fetch one trace from Elasticsearch: its summary, its spans and its log lines, all by `trace.id`.

The index patterns are the Kibana data views' (pipeline.kibana.patterns), so `logtrace trace` and the
trace search in Discover look at the same documents. Missing data streams are not an error: a cluster
without summaries yet simply has none.
"""

import asyncio
from dataclasses import dataclass
from typing import Any

from elasticsearch import AsyncElasticsearch

from parsers import ids
from pipeline.kibana import patterns

Doc = dict[str, Any]
# Elasticsearch's default index.max_result_window: the most documents one search returns.
MAX_DOCS = 10_000


def normalize_trace_id(value: str) -> str | None:
    """The 32-hex trace id in `value`: a bare id (any case, `0x`, 64-bit padded), a W3C traceparent,
    a single B3 header or a Jaeger uber-trace-id. None when it is none of these."""
    text = value.strip()
    found = ids.trace_id(text)
    if found is None and "-" in text:
        found = ids.from_traceparent(text).trace_id or ids.from_b3(text).trace_id
    if found is None and ":" in text:
        found = ids.from_uber_trace_id(text).trace_id
    return found


@dataclass(frozen=True, slots=True)
class TraceDocuments:
    """What Elasticsearch holds of one trace; `*_total` count matches beyond the `max_docs` fetched."""

    trace_id: str
    summary: Doc | None
    spans: list[Doc]
    logs: list[Doc]
    spans_total: int
    logs_total: int

    @property
    def found(self) -> bool:
        return self.summary is not None or bool(self.spans) or bool(self.logs)

    @property
    def truncated(self) -> bool:
        return self.spans_total > len(self.spans) or self.logs_total > len(self.logs)


async def _search(
    es: AsyncElasticsearch, index: str, trace_id: str, size: int, sort: list[Any]
) -> tuple[list[Doc], int]:
    """The `_source` of up to `size` documents of the trace in `index`, and how many match in all."""
    response = await es.search(
        index=index,
        query={"term": {"trace.id": trace_id}},
        size=size,
        sort=sort,
        track_total_hits=True,
        ignore_unavailable=True,
        allow_no_indices=True,
    )
    hits = response.body["hits"]
    return [hit["_source"] for hit in hits["hits"]], hits["total"]["value"]


async def fetch_trace(es: AsyncElasticsearch, trace_id: str, max_docs: int = MAX_DOCS) -> TraceDocuments:
    """Summary (the latest, should the trace have closed twice), spans and logs, each oldest first."""
    by_time = [{"@timestamp": {"order": "asc"}}]
    (summaries, _), (spans, spans_total), (logs, logs_total) = await asyncio.gather(
        _search(es, patterns.SUMMARIES, trace_id, 1, [{"event.end": {"order": "desc"}}]),
        _search(es, patterns.SPANS, trace_id, max_docs, by_time),
        _search(es, patterns.LOGS, trace_id, max_docs, by_time),
    )
    return TraceDocuments(trace_id, summaries[0] if summaries else None, spans, logs, spans_total, logs_total)
