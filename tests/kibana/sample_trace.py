"""One realistic trace as the pipeline writes it: spans, logs, a summary, a metric and a dead letter.

Shared by the pure waterfall tests and the integration tests that seed it into Elasticsearch, so both
check the same expectations (`expected_rows`). Six spans over four services, one failing database
call, logs under four spans and one log line with the trace id but no span id. The trace takes longer
than a second, so it counts as a slow trace.

    POST /checkout (frontend)              0 ms  1412.5 ms
    ├─ · checkout started                  1 ms
    ├─ auth.check (frontend, client)       3 ms   12 ms
    │  └─ GET /token (auth)                4 ms   10 ms
    │     └─ · token issued                8 ms
    ├─ GET /inventory (inventory)         20 ms  180 ms
    │  ├─ SELECT stock (inventory, db)    25 ms  150 ms  TimeoutError
    │  │  └─ · query cancelled (error)   175 ms
    │  └─ · falling back to cache (warn) 200 ms
    └─ POST /charge (payments)           210 ms  1190 ms
       └─ · charge accepted             1390 ms
    · checkout done (no span id)        1413 ms
"""

from dataclasses import dataclass
from typing import Any

from parsers.timefmt import ns_to_iso

Doc = dict[str, Any]
MS = 1_000_000
# 2026-12-03T08:00:00Z
DEFAULT_START_NS = 1_796_284_800 * 1_000_000_000


@dataclass(frozen=True)
class SampleTrace:
    """The documents of the sample trace, and the waterfall rows they must give."""

    trace_id: str
    start_ns: int
    spans: list[Doc]
    logs: list[Doc]
    summary: Doc
    metric: Doc
    deadletter: Doc
    # (span id or log message, depth) in display order.
    expected_rows: list[tuple[str, int]]

    def span_id(self, name: str) -> str:
        """The span id of the span called `name`."""
        return next(span["span.id"] for span in self.spans if span["span.name"] == name)


# (key, parent key, name, service, kind, start ms, duration ms, error type)
_SPANS = (
    ("checkout", None, "POST /checkout", "frontend", "server", 0, 1412.5, None),
    ("auth", "checkout", "auth.check", "frontend", "client", 3, 12, None),
    ("token", "auth", "GET /token", "auth", "server", 4, 10, None),
    ("inventory", "checkout", "GET /inventory", "inventory", "server", 20, 180, None),
    ("select", "inventory", "SELECT stock", "inventory", "client", 25, 150, "TimeoutError"),
    ("charge", "checkout", "POST /charge", "payments", "server", 210, 1190, None),
)
# (span key or None, service, at ms, level, message)
_LOGS = (
    ("checkout", "frontend", 1, "info", "checkout started"),
    ("token", "auth", 8, "info", "token issued"),
    ("select", "inventory", 175, "error", "query cancelled after 150 ms"),
    ("inventory", "inventory", 200, "warn", "falling back to cache"),
    ("charge", "payments", 1390, "info", "charge accepted"),
    (None, "frontend", 1413, "info", "checkout done"),
)
_EXPECTED = (
    ("checkout", 0), ("checkout started", 1), ("auth", 1), ("token", 2), ("token issued", 3),
    ("inventory", 1), ("select", 2), ("query cancelled after 150 ms", 3), ("falling back to cache", 2),
    ("charge", 1), ("charge accepted", 2), ("checkout done", 0),
)


def _span_id(trace_id: str, index: int) -> str:
    # Unique per trace, so traces seeded by concurrent test runs never share span ids.
    return f"{trace_id[:12]}{index + 1:04x}"


def _spans(trace_id: str, ids: dict[str, str], start_ns: int, ingested: str) -> list[Doc]:
    spans = []
    for key, parent, name, service, kind, at_ms, duration_ms, error in _SPANS:
        start, duration = start_ns + int(at_ms * MS), int(duration_ms * MS)
        span: Doc = {
            "@timestamp": ns_to_iso(start), "event.start": ns_to_iso(start),
            "event.end": ns_to_iso(start + duration), "event.duration": duration,
            "span.duration.us": duration // 1_000, "trace.id": trace_id, "span.id": ids[key],
            "span.name": name, "span.kind": kind, "service.name": service, "event.kind": "event",
            "event.outcome": "failure" if error else "success",
            "span.status.code": "error" if error else "unset", "logtrace.format": "otlp_proto",
            "event.ingested": ingested, "logtrace.lag_ms": 2_000 - at_ms, "logtrace.pipeline_ms": 1.5,
        }
        if parent:
            span["parent.id"] = ids[parent]
        if error:
            span |= {"error.type": error, "error.message": "statement timeout",
                     "span.status.message": "statement timeout"}
        spans.append(span)
    return spans


def _logs(trace_id: str, ids: dict[str, str], start_ns: int, ingested: str) -> list[Doc]:
    logs = []
    for key, service, at_ms, level, message in _LOGS:
        log: Doc = {
            "@timestamp": ns_to_iso(start_ns + at_ms * MS), "message": message, "log.level": level,
            "service.name": service, "trace.id": trace_id, "logtrace.format": "json", "event.kind": "event",
            "event.ingested": ingested, "logtrace.lag_ms": 2_000 - at_ms,
        }
        if key:
            log["span.id"] = ids[key]
        logs.append(log)
    return logs


def _summary(trace_id: str, root_id: str, start_ns: int, end_ns: int) -> Doc:
    return {
        "@timestamp": ns_to_iso(start_ns), "trace.id": trace_id, "event.kind": "event",
        "event.start": ns_to_iso(start_ns), "event.end": ns_to_iso(end_ns),
        "event.duration": end_ns - start_ns, "event.outcome": "failure", "service.name": "frontend",
        "trace.summary.root.id": root_id, "trace.summary.root.name": "POST /checkout",
        "trace.summary.root.missing": False, "trace.summary.span_count": len(_SPANS),
        "trace.summary.error_span_count": 1,
        "trace.summary.services": ["auth", "frontend", "inventory", "payments"],
        "trace.summary.log_count": len(_LOGS), "trace.summary.error_log_count": 1,
        "trace.summary.truncated": False,
    }


def _metric(start_ns: int, duration_ns: int) -> Doc:
    stats = ("min", "max", "sum", "p50", "p90", "p95", "p99")
    durations = {f"metrics.duration.{stat}": duration_ns for stat in stats}
    return {
        "@timestamp": ns_to_iso(start_ns), "event.start": ns_to_iso(start_ns),
        "event.end": ns_to_iso(start_ns + 60_000 * MS), "event.kind": "metric", "metricset.name": "span_red",
        "metricset.period": 60_000, "service.name": "frontend", "span.operation": "POST /checkout",
        "span.kind": "server", "event.outcome": "success", "metrics.count": 1, "metrics.late": False,
        "metrics.errors": 0, "metrics.error_rate": 0.0, "metrics.duration.count": 1, **durations,
    }


def _deadletter(trace_id: str, ingested: str) -> Doc:
    detail = "failed to parse field [http.response.status_code]"
    return {
        "@timestamp": ingested, "message": f"mapper_parsing_exception: {detail}",
        "event.kind": "pipeline_error", "error.type": "mapper_parsing_exception", "error.message": detail,
        "logtrace.deadletter.reason": "mapper_parsing_exception",
        "logtrace.deadletter.doc_id": f"dl-{trace_id}",
        "logtrace.deadletter.data_stream": "logs-logtrace.app-default", "logtrace.deadletter.size": 120,
        "logtrace.deadletter.sha256": "0" * 64, "logtrace.deadletter.truncated": False,
        "logtrace.deadletter.payload": f'{{"trace_id":"{trace_id}","status":"teapot"}}',
        "logtrace.kafka.topic": "app-logs", "logtrace.kafka.partition": 0, "logtrace.kafka.offset": 42,
    }


def sample_trace(trace_id: str = "4bf92f3577b34da6a3ce929d0e0e4736",
                 start_ns: int = DEFAULT_START_NS) -> SampleTrace:
    """The sample trace with this id, starting at `start_ns`."""
    ids = {key: _span_id(trace_id, i) for i, (key, *_rest) in enumerate(_SPANS)}
    ingested = ns_to_iso(start_ns + 2_000 * MS)[:23] + "Z"
    end_ns = start_ns + int(_SPANS[0][6] * MS)
    return SampleTrace(
        trace_id=trace_id,
        start_ns=start_ns,
        spans=_spans(trace_id, ids, start_ns, ingested),
        logs=_logs(trace_id, ids, start_ns, ingested),
        summary=_summary(trace_id, ids["checkout"], start_ns, end_ns),
        metric=_metric(start_ns, end_ns - start_ns),
        deadletter=_deadletter(trace_id, ingested),
        expected_rows=[(ids.get(item, item), depth) for item, depth in _EXPECTED],
    )
