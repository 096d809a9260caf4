"""How the Elasticsearch sink batches, retries and protects the stream (`LOGTRACE_SINK_*`)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SinkSettings(BaseSettings):
    """Bulk sizing, concurrency, backoff and circuit-breaker settings of `ElasticsearchSink`."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_SINK_", extra="forbid")

    # Documents per bulk request; a batch is split before it gets larger. Must be >= 1.
    max_docs: int = Field(default=2000, ge=1)
    # Bytes of NDJSON body per bulk request (5 MiB); a single document larger than this is dead-lettered
    # as `document_too_large`. Must be >= 1 KiB.
    max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Seconds a partly filled batch may wait for more documents before it is flushed (used by the
    # caller that accumulates; deliver() itself sends at once). 0 = flush on every call.
    flush_interval_s: float = Field(default=1.0, ge=0)
    # Bulk requests in flight at once per sink. Must be >= 1.
    max_concurrent_requests: int = Field(default=2, ge=1)
    # Seconds before the first retry; doubles each time, with full jitter. Must be > 0.
    backoff_initial_s: float = Field(default=0.2, gt=0)
    # Upper bound in seconds of one backoff wait (retries go on forever while the cluster is down).
    backoff_max_s: float = Field(default=30.0, gt=0)
    # Retries of one document whose error persists while the cluster is otherwise healthy (e.g. a 429
    # that only that shard keeps returning); past it the document is dead-lettered as `retries_exhausted`.
    # 0 = dead-letter at the first such error.
    max_item_retries: int = Field(default=20, ge=0)
    # Share (0..1] of a batch that may be dead-lettered for mapping errors before the circuit breaker
    # pauses the sink instead (a broken template must not dead-letter the whole stream). 1 = never trip.
    breaker_deadletter_ratio: float = Field(default=0.5, gt=0, le=1)
    # Batches smaller than this are never judged by the breaker (one bad document in a batch of two is
    # not a broken template). Must be >= 1.
    breaker_min_docs: int = Field(default=10, ge=1)
    # Seconds between re-checks while paused (auth error, blocked index, open circuit). Must be > 0.
    pause_recheck_s: float = Field(default=5.0, gt=0)
    # Data stream namespace of the streams this sink writes when no per-topic namespace is configured,
    # and of the dead-letter stream.
    namespace: str = Field(default="default", pattern=r"^[a-z0-9_]{1,100}$")
    # Kafka topic dead letters are written to (created with >= 14 days retention).
    deadletter_topic: str = Field(default="logtrace.deadletter", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    # Optional access-restricted topic that also receives the unredacted record bytes; None = off.
    deadletter_raw_topic: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,249}$")
    # Retention of the dead-letter topics in days; at least 14.
    deadletter_retention_days: int = Field(default=14, ge=14)
