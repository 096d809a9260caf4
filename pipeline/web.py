"""/metrics, /health and /ready on faust's web server, the readiness probe, and the RED Prometheus families.

- `/health`: 200 while the process (its event loop) answers.
- `/ready`: 200 when Kafka answers a metadata request, Elasticsearch answers `/_cluster/health` (green
  or yellow), logtrace's index templates are installed and the sink is not paused; else 503 with
  `{"ready": false, "reason": ...}`.
  The probe runs every `readiness_interval_s` (a request never waits on a cluster). Before the first
  assignment (faust starts timers only then) `watch_group_join` names a consumer group Kafka refuses.
- `/metrics`: the logtrace registry in Prometheus text format.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import faust
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from parsers.result import Doc
from pipeline import telemetry
from pipeline.correlate.projection import integer, is_error_span, is_span, text
from pipeline.metrics.keys import OVERFLOW, UNKNOWN

if TYPE_CHECKING:
    from pipeline.worker import Runtime

log = logging.getLogger("logtrace.web")
PROBE_TIMEOUT_S = 5.0
# The index templates `logtrace setup` installs (pipeline/mappings.py DATA_TYPES).
TEMPLATES = ("logtrace-logs", "logtrace-traces", "logtrace-metrics", "logtrace-deadletter")


class RedMetrics:
    """Feeds the derived RED Prometheus families from documents, with at most `max_series` label sets
    per family; further label sets are counted under `__overflow__` (bounded memory and cardinality)."""

    def __init__(self, max_series: int = 2_000) -> None:
        self._max = max_series
        self._seen: dict[str, set[tuple[str, ...]]] = {}

    def _labels(self, family: str, labels: tuple[str, ...]) -> tuple[str, ...]:
        seen = self._seen.setdefault(family, set())
        if labels in seen:
            return labels
        if len(seen) < self._max:
            seen.add(labels)
            return labels
        return (OVERFLOW,) * len(labels)

    def observe(self, docs: Iterable[Doc]) -> None:
        """Count spans (requests, errors, duration), logs per level, and access-log responses."""
        spans: dict[tuple[str, ...], list[int]] = {}
        errors: dict[tuple[str, ...], int] = {}
        levels: dict[tuple[str, ...], int] = {}
        statuses: dict[tuple[str, ...], int] = {}
        response_times: dict[tuple[str, ...], list[int]] = {}
        for doc in docs:
            service = text(doc, "service.name") or UNKNOWN
            duration = integer(doc, "event.duration")
            if is_span(doc):
                key = (service, text(doc, "http.route") or text(doc, "span.name") or UNKNOWN)
                spans.setdefault(key, []).append(duration if duration is not None else -1)
                if is_error_span(doc):
                    errors[key] = errors.get(key, 0) + 1
                continue
            level_key = (service, text(doc, "log.level") or UNKNOWN)
            levels[level_key] = levels.get(level_key, 0) + 1
            status = integer(doc, "http.response.status_code")
            if status is not None:
                status_class = f"{status // 100}xx" if 100 <= status <= 599 else "other"
                status_key = (service, status_class)
                statuses[status_key] = statuses.get(status_key, 0) + 1
                if duration is not None and duration >= 0:
                    response_times.setdefault((service,), []).append(duration)
        for key, durations in spans.items():
            labels = self._labels("span", key)
            telemetry.RED_REQUESTS.labels(*labels).inc(len(durations))
            histogram = telemetry.RED_DURATION.labels(*labels)
            for duration in durations:
                if duration >= 0:
                    histogram.observe(duration / 1e9)
        for key, count in errors.items():
            telemetry.RED_ERRORS.labels(*self._labels("span", key)).inc(count)
        for key, count in levels.items():
            telemetry.RED_LOGS.labels(*self._labels("log", key)).inc(count)
        for key, count in statuses.items():
            telemetry.RED_HTTP.labels(*self._labels("http", key)).inc(count)
        for key, durations in response_times.items():
            histogram = telemetry.RED_HTTP_SECONDS.labels(*self._labels("http_time", key))
            for duration in durations:
                histogram.observe(duration / 1e9)


async def _kafka_ok(rt: "Runtime") -> str | None:
    if rt.producer is None:
        return "kafka: client not started"
    try:
        await asyncio.wait_for(rt.producer.client.fetch_all_metadata(), PROBE_TIMEOUT_S)
    except Exception as exc:
        return f"kafka_unreachable: {type(exc).__name__}: {exc}"[:500]
    return None


async def watch_group_join(rt: "Runtime", interval_s: float) -> None:
    """Until the first assignment: every `interval_s`, ask whether Kafka refuses our consumer group.

    aiokafka keeps a GroupAuthorizationFailed of the consumer to itself and faust starts its timers (the
    readiness probe among them) only after the first assignment, so a worker without Read on its group
    would stay "starting" forever without a word. This task runs from the sink's start instead.
    """
    while not rt.app.consumer.assignment():
        reason = await group_denied(rt)
        if reason is not None and rt.readiness_reason != reason:
            log.error("cannot join the consumer group: %s", reason)
            rt.readiness_reason = reason
        await asyncio.sleep(interval_s)


async def group_denied(rt: "Runtime") -> str | None:
    """Is the consumer group refused to us (no Read ACL on it)? The producer client has the same
    principal, and a FindCoordinator request of it gets the broker's verdict."""
    from aiokafka.client import CoordinationType
    from aiokafka.errors import GroupAuthorizationFailedError

    if rt.producer is None:
        return None
    group = rt.kafka.group_id
    try:
        await asyncio.wait_for(
            rt.producer.client.coordinator_lookup(CoordinationType.GROUP, group), PROBE_TIMEOUT_S
        )
    except GroupAuthorizationFailedError:
        return f"kafka_group_denied: Kafka refuses consumer group {group!r} (grant Read on the group)"
    except Exception:  # any other answer: the group join is just slow, or the metadata probe says why
        return None
    return None


async def _es_ok(rt: "Runtime") -> str | None:
    if rt.es is None:
        return "elasticsearch: client not started"
    client = rt.es.options(request_timeout=PROBE_TIMEOUT_S)
    try:
        # `/_cluster/health`, not `HEAD /`: the minimal dev distribution has no root endpoint.
        health = await client.cluster.health()
        if health.body.get("status") not in ("green", "yellow"):
            return f"elasticsearch_unhealthy: cluster status {health.body.get('status')}"
    except Exception as exc:
        return f"elasticsearch_unreachable: {type(exc).__name__}: {exc}"[:500]
    if not rt.templates_ok:
        try:
            found = await client.indices.get_index_template(name="logtrace-*")
            names = {entry["name"] for entry in found.body.get("index_templates", [])}
        except Exception as exc:
            return f"templates_unknown: {type(exc).__name__}: {exc}"[:500]
        missing = [name for name in TEMPLATES if name not in names]
        if missing:
            return f"templates_missing: {', '.join(missing)} (run `logtrace setup`)"
        rt.templates_ok = True
    return None


async def probe_readiness(rt: "Runtime") -> None:
    """Probe Kafka, Elasticsearch, templates and the sink; store the verdict for /ready."""
    kafka_reason, es_reason = await asyncio.gather(_kafka_ok(rt), _es_ok(rt))
    rt.kafka_ok = kafka_reason is None
    rt.es_ok = es_reason is None or es_reason.startswith("templates_")
    telemetry.W_KAFKA_UP.set(1 if rt.kafka_ok else 0)
    telemetry.W_ES_UP.set(1 if rt.es_ok else 0)
    reason = kafka_reason or es_reason
    if reason is None and rt.sink is not None:
        ready, sink_reason = rt.sink.readiness()
        if not ready:
            reason = f"sink: {sink_reason}"
    previous = rt.readiness_reason
    rt.readiness_reason = reason
    telemetry.W_READY.set(1 if reason is None else 0)
    if reason != previous:
        log.info("readiness changed", extra={"fields": {"ready": reason is None, "reason": reason}})


def install_pages(app: faust.App, rt: "Runtime") -> None:
    """Add /metrics, /health and /ready to the app's web server."""

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(telemetry.REGISTRY), content_type=CONTENT_TYPE_LATEST.split(";")[0])

    @app.page("/health")
    async def health(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/ready")
    async def ready(web: Any, request: Any) -> Any:
        reason = rt.readiness_reason
        if reason is None:
            return web.json({"ready": True})
        return web.json({"ready": False, "reason": reason}, status=503)
