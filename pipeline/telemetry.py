"""The worker's own metrics: the one module that owns the Prometheus registry and every family in it.

Pure code returns outcomes; the edges (worker, sink) count them here. Names follow Prometheus
conventions: units in the name, `_total` for counters, bounded label values only.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

# Buckets in seconds for request/commit latencies (bulk requests take 1 ms .. tens of seconds).
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
    """A counter registered on the logtrace registry."""
    return Counter(name, doc, labels, registry=REGISTRY)


def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
    """A gauge registered on the logtrace registry."""
    return Gauge(name, doc, labels, registry=REGISTRY)


def histogram(
    name: str, doc: str, labels: tuple[str, ...] = (), buckets: tuple[float, ...] = LATENCY_BUCKETS_S
) -> Histogram:
    """A histogram registered on the logtrace registry."""
    return Histogram(name, doc, labels, registry=REGISTRY, buckets=buckets)


# --- sink ---
# Bulk sizes: documents per request and body bytes per request.
BULK_DOCS_BUCKETS = (1, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10000)
BULK_BYTES_BUCKETS = (1024, 16384, 131072, 524288, 1048576, 2097152, 5242880, 10485760, 52428800)

SINK_CONSUMED = counter(
    "logtrace_sink_documents_consumed_total",
    "Documents and records handed to the sink (= indexed + duplicate + dead-lettered).",
)
SINK_INDEXED = counter(
    "logtrace_sink_documents_indexed_total", "Documents newly indexed, by data stream.", ("data_stream",)
)
SINK_DUPLICATES = counter(
    "logtrace_sink_documents_duplicate_total",
    "Documents already present (409 on create), counted as delivered.",
)
SINK_DEAD_LETTERED = counter(
    "logtrace_sink_dead_lettered_total", "Documents and records dead-lettered, by reason.", ("reason",)
)
SINK_BULK_SECONDS = histogram("logtrace_sink_bulk_request_seconds", "Latency of one bulk request.")
SINK_BULK_DOCS = histogram(
    "logtrace_sink_bulk_request_docs", "Documents per bulk request.", buckets=BULK_DOCS_BUCKETS
)
SINK_BULK_BYTES = histogram(
    "logtrace_sink_bulk_request_bytes", "Body bytes per bulk request.", buckets=BULK_BYTES_BUCKETS
)
SINK_RETRIES = counter(
    "logtrace_sink_retries_total",
    "Documents sent again, by the status that caused it (`connection` for no answer).",
    ("status",),
)
SINK_REJECTIONS = counter(
    "logtrace_sink_rejections_total",
    "Bulk items or requests refused and not retried at once, by status.",
    ("status",),
)
SINK_IN_FLIGHT = gauge("logtrace_sink_bulk_requests_in_flight", "Bulk requests awaiting an answer.")
SINK_ES_UP = gauge("logtrace_sink_elasticsearch_up", "1 when the last request reached Elasticsearch, else 0.")
SINK_READY = gauge("logtrace_sink_ready", "1 when the sink accepts documents, 0 while paused.")

# --- worker ---
# Process CPU, memory, file descriptors (process_*), GC (python_gc_*) and interpreter info.
from prometheus_client.gc_collector import GCCollector  # noqa: E402
from prometheus_client.platform_collector import PlatformCollector  # noqa: E402
from prometheus_client.process_collector import ProcessCollector  # noqa: E402

ProcessCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

# Event-time lag spans milliseconds (live traffic) to hours (a replay of a backlog).
LAG_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)
# Span and HTTP durations of the services (derived RED metrics).
DURATION_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

W_RECORDS = counter(
    "logtrace_worker_records_consumed_total",
    "Kafka records taken into a batch, by topic and partition.",
    ("topic", "partition"),
)
W_BYTES = counter(
    "logtrace_worker_consumed_bytes_total", "Kafka record value bytes consumed, by topic.", ("topic",)
)
W_PARSED = counter(
    "logtrace_worker_documents_parsed_total",
    "Documents produced by the parsers, by format (logtrace.format).",
    ("format",),
)
W_PARSE_PROBLEMS = counter(
    "logtrace_worker_parse_problems_total",
    "Parse problems by reason: records refused (dead-lettered) and documents only "
    "partly understood (logtrace.parse.problems).",
    ("reason",),
)
W_RULE_EVENTS = counter(
    "logtrace_worker_rule_events_total",
    "Effects of the per-topic processing rules.",
    ("topic", "rule", "effect"),
)
W_SERVICE_BACKFILLED = counter(
    "logtrace_worker_service_backfilled_total", "Logs whose service.name came from their trace's root span."
)
W_BATCHES = counter("logtrace_worker_batches_total", "Batches made durable, by agent.", ("agent",))
W_BATCH_RECORDS = histogram(
    "logtrace_worker_batch_records",
    "Records per batch.",
    ("agent",),
    buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000),
)
W_PIPELINE_SECONDS = histogram(
    "logtrace_worker_pipeline_seconds",
    "Time from a batch leaving the Kafka client to every document of it being durable (parse, enrich, sink).",
    ("agent",),
)
W_EVENT_LAG_SECONDS = histogram(
    "logtrace_worker_event_lag_seconds",
    "Event time to ingest time of the documents (logtrace.lag_ms).",
    buckets=LAG_BUCKETS_S,
)
W_COMMIT_SECONDS = histogram(
    "logtrace_worker_commit_seconds",
    "Latency of one offset commit (acknowledged offsets to the group coordinator).",
)
W_BATCH_COMMIT_SECONDS = histogram(
    "logtrace_worker_batch_commit_seconds", "Time from a batch being durable to its offsets being committed."
)
W_OFFSET_COMMITS = counter(
    "logtrace_worker_offsets_committed_total", "Partitions whose committed offset moved, summed over commits."
)
W_COMMITTED_OFFSET = gauge(
    "logtrace_worker_committed_offset",
    "Last offset committed by this worker, by topic and partition.",
    ("topic", "partition"),
)
W_CONSUMER_LAG = gauge(
    "logtrace_worker_consumer_lag_records",
    "Records between the partition's end and the next offset this worker takes.",
    ("topic", "partition"),
)
W_OPEN_TRACES = gauge("logtrace_worker_open_traces", "Traces open in this worker's trace table.")
W_SPANS_TRACKED = counter(
    "logtrace_worker_trace_spans_tracked_total", "Span projections added to open traces."
)
W_PROJECTIONS_RECEIVED = counter(
    "logtrace_worker_trace_projections_received_total",
    "Trace projections (span and log refs) read from the internal trace-projections topic.",
)
W_TRACE_SUMMARIES = counter("logtrace_worker_trace_summaries_total", "Trace summaries emitted.")
W_TRACE_EVICTIONS = counter(
    "logtrace_worker_trace_evictions_total", "Traces summarized early because the open-trace cap was reached."
)
W_TRACE_LATE_REFS = counter(
    "logtrace_worker_trace_late_refs_total",
    "Span and log projections dropped because their trace was already closed and summarized.",
)
W_METRIC_KEYS = gauge(
    "logtrace_worker_metric_window_keys",
    "Distinct keys in the last closed metric window, by metricset.",
    ("metricset",),
)
W_METRIC_WINDOWS = counter(
    "logtrace_worker_metric_windows_closed_total",
    "Metric windows closed and written, by metricset.",
    ("metricset",),
)
W_METRIC_OVERFLOW = counter(
    "logtrace_worker_metric_overflow_total",
    "Contributions folded into the overflow key by the cardinality cap.",
    ("metricset",),
)
W_METRIC_LATE = counter(
    "logtrace_worker_metric_late_events_total",
    "Events past their window's allowed lateness (counted in the late bucket).",
    ("metricset",),
)
W_REDACTIONS = counter(
    "logtrace_worker_redactions_total", "Values redacted from documents, by rule.", ("rule",)
)
W_READY = gauge("logtrace_worker_ready", "1 when /ready answers 200 (Kafka, Elasticsearch, templates, sink).")
W_KAFKA_UP = gauge("logtrace_worker_kafka_up", "1 when the last Kafka probe succeeded.")
W_ES_UP = gauge("logtrace_worker_elasticsearch_up", "1 when the last Elasticsearch probe succeeded.")

# Derived RED metrics of the services (bounded labels: the metric key cap applies).
RED_REQUESTS = counter(
    "logtrace_span_requests_total", "Spans (requests), by service and operation.", ("service", "operation")
)
RED_ERRORS = counter(
    "logtrace_span_errors_total", "Failed spans, by service and operation.", ("service", "operation")
)
RED_DURATION = histogram(
    "logtrace_span_duration_seconds",
    "Span duration, by service and operation.",
    ("service", "operation"),
    buckets=DURATION_BUCKETS_S,
)
RED_LOGS = counter("logtrace_log_events_total", "Log events, by service and level.", ("service", "level"))
RED_HTTP = counter(
    "logtrace_http_responses_total",
    "Access-log responses, by service and status class.",
    ("service", "status_class"),
)
RED_HTTP_SECONDS = histogram(
    "logtrace_http_response_time_seconds",
    "Access-log response time, by service.",
    ("service",),
    buckets=DURATION_BUCKETS_S,
)
W_ACKS_REFUSED = counter(
    "logtrace_worker_acks_refused_total",
    "Acknowledgements faust gave on its own for events no agent processed "
    "(skipped during a rebalance or shutdown); refused so they are not committed.",
)
W_OFFSET_HOLES = counter(
    "logtrace_worker_offset_hole_seeks_total",
    "Seeks back to a record faust skipped or delivered out of order (re-read).",
    ("topic",),
)
W_FETCH_STALLS = counter(
    "logtrace_worker_fetch_stalls_total",
    "Re-seeks of a partition whose records waited while none reached the worker (pipeline/stall.py).",
    ("topic",),
)

# --- patterns ---
P_LINES = counter(
    "logtrace_patterns_lines_total",
    "Log lines by service, pattern id (log.pattern.id) and level; keys past the "
    "cardinality cap count under service and pattern __overflow__.",
    ("service", "pattern", "level"),
)
P_NEW = counter(
    "logtrace_patterns_new_total",
    "New-pattern events: a template seen at warn level or above for the first time for its "
    "dataset and service, by level.",
    ("level",),
)
P_EVICTED = counter(
    "logtrace_patterns_evicted_total",
    "Templates dropped from the miner: least recently seen past the per-key cap, or with "
    "a least recently seen key past the key cap.",
)
P_TEMPLATES = gauge("logtrace_patterns_templates", "Templates held by the pattern miner, all keys.")
