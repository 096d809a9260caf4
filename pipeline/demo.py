"""Demo traffic: a small shop of services calling each other, as OTLP spans and raw logs in Kafka.

Each trace is one request: `frontend` (server span, route `/checkout` or `/cart`) calls `checkout`,
which calls `inventory` and `payment`; `payment` calls an external `bank` client span. Some payments
fail (error spans, error logs) and some inventory lookups are slow. Every service logs what it does, in
its own raw format, carrying the trace and span ids: `checkout` JSON, `payment` logfmt, `inventory`
plain text with `trace_id=`; `frontend` writes an nginx-style access log line (no ids, like nginx).
Spans go to the OTLP span topic as `otlp_proto` ExportTraceServiceRequests, one request per service per
trace, as the collector's Kafka exporter writes them.

`generate()` is pure (seeded), so tests know exactly what was sent; `run_demo()` produces it.
"""

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, Status

MS = 1_000_000
SERVER, CLIENT, INTERNAL = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """Where the demo writes."""

    bootstrap: str = "127.0.0.1:9092"
    # Raw logs of every format (the worker's `auto` format tells them apart).
    raw_topic: str = "app-logs"
    spans_topic: str = "otlp_spans"

    @classmethod
    def from_env(cls, bootstrap: str | None = None) -> "DemoSettings":
        """Bootstrap from --bootstrap or LOGTRACE_KAFKA_BOOTSTRAP_SERVERS; topics from the worker's env."""
        raw = os.environ.get("LOGTRACE_DEMO_RAW_TOPIC", "app-logs")
        spans = os.environ.get("LOGTRACE_OTLP_SPANS_TOPIC", "otlp_spans") or "otlp_spans"
        servers = bootstrap or os.environ.get("LOGTRACE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
        return cls(servers, raw, spans)


@dataclass(slots=True)
class SpanSpec:
    """One span of a generated trace (what tests check summaries and metrics against)."""

    service: str
    name: str
    span_id: str
    parent_id: str | None
    start_ns: int
    end_ns: int
    kind: int
    error: bool
    route: str | None = None


@dataclass(slots=True)
class TraceSpec:
    trace_id: str
    spans: list[SpanSpec] = field(default_factory=list)
    logs: int = 0
    error_logs: int = 0

    @property
    def start_ns(self) -> int:
        return min(span.start_ns for span in self.spans)

    @property
    def end_ns(self) -> int:
        return max(span.end_ns for span in self.spans)

    @property
    def error_spans(self) -> int:
        return sum(span.error for span in self.spans)


@dataclass(slots=True)
class DemoBatch:
    """Everything one demo run produces: Kafka values per topic, and what they describe."""

    traces: list[TraceSpec] = field(default_factory=list)
    # Raw log lines, and (key = trace id, value = ExportTraceServiceRequest) span records.
    raw: list[bytes] = field(default_factory=list)
    spans: list[tuple[bytes, bytes]] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        spans = sum(len(trace.spans) for trace in self.traces)
        errors = sum(trace.error_spans for trace in self.traces)
        formats = ", ".join(f"{name} {count}" for name, count in sorted(self.formats.items()))
        example = self.traces[0].trace_id if self.traces else "-"
        return (
            f"demo: {len(self.traces)} traces, {spans} spans ({errors} errors), {len(self.raw)} log lines "
            f"({formats}); look one up: trace.id:{example}"
        )


def _kv(key: str, value: str | int | bool) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=value))


def _iso(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest // 1000:06d}Z"


def _access_time(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def _trace(rng: random.Random, start_ns: int) -> TraceSpec:
    """One request through the shop, with ids, times, errors and slowness drawn from `rng`."""
    trace = TraceSpec(f"{rng.getrandbits(128):032x}")
    ids = iter(f"{rng.getrandbits(64) | 1:016x}" for _ in range(16))
    route = rng.choice(["/checkout", "/checkout", "/cart"])
    payment_fails = route == "/checkout" and rng.random() < 0.15
    slow_inventory = rng.random() < 0.1
    root = SpanSpec("frontend", f"GET {route}", next(ids), None, start_ns, 0, SERVER, False, route)
    t = start_ns + rng.randint(1, 3) * MS
    checkout = SpanSpec(
        "checkout",
        "checkout.place_order" if route == "/checkout" else "checkout.view_cart",
        next(ids),
        root.span_id,
        t,
        0,
        SERVER,
        False,
    )
    t += rng.randint(1, 2) * MS
    inventory_ms = rng.randint(200, 600) if slow_inventory else rng.randint(3, 15)
    inventory = SpanSpec(
        "inventory", "inventory.reserve", next(ids), checkout.span_id, t, t + inventory_ms * MS, SERVER, False
    )
    trace.spans += [root, checkout, inventory]
    end = inventory.end_ns
    if route == "/checkout":
        t = end + MS
        payment = SpanSpec(
            "payment", "payment.charge", next(ids), checkout.span_id, t, 0, SERVER, payment_fails
        )
        bank_ms = rng.randint(20, 80)
        bank = SpanSpec(
            "payment",
            "POST /v1/charges",
            next(ids),
            payment.span_id,
            t + MS,
            t + MS + bank_ms * MS,
            CLIENT,
            payment_fails,
        )
        payment.end_ns = bank.end_ns + rng.randint(1, 3) * MS
        trace.spans += [payment, bank]
        end = payment.end_ns
    checkout.end_ns = end + rng.randint(1, 2) * MS
    root.end_ns = checkout.end_ns + rng.randint(1, 3) * MS
    root.error = checkout.error = payment_fails
    return trace


def _requests(trace: TraceSpec) -> list[bytes]:
    """The trace as OTLP protobuf requests, one per service (as each service's SDK would export)."""
    by_service: dict[str, list[SpanSpec]] = {}
    for span in trace.spans:
        by_service.setdefault(span.service, []).append(span)
    out = []
    for service, spans in by_service.items():
        proto_spans = []
        for span in spans:
            attributes = [_kv("http.route", span.route)] if span.route else []
            if span.kind == CLIENT:
                attributes.append(_kv("http.request.method", "POST"))
                attributes.append(_kv("http.response.status_code", 502 if span.error else 200))
            proto_spans.append(
                Span(
                    trace_id=bytes.fromhex(trace.trace_id),
                    span_id=bytes.fromhex(span.span_id),
                    parent_span_id=bytes.fromhex(span.parent_id) if span.parent_id else b"",
                    name=span.name,
                    kind=span.kind,
                    start_time_unix_nano=span.start_ns,
                    end_time_unix_nano=span.end_ns,
                    attributes=attributes,
                    status=Status(
                        code=Status.STATUS_CODE_ERROR if span.error else Status.STATUS_CODE_OK,
                        message="card declined" if span.error else "",
                    ),
                )
            )
        resource = ResourceSpans(scope_spans=[ScopeSpans(spans=proto_spans)])
        resource.resource.attributes.extend(
            [_kv("service.name", service), _kv("deployment.environment", "demo")]
        )
        out.append(ExportTraceServiceRequest(resource_spans=[resource]).SerializeToString())
    return out


def _logs(trace: TraceSpec, batch: DemoBatch, rng: random.Random) -> None:
    """The services' log lines for one trace, each in its service's format."""

    def add(fmt: str, line: str, *, error: bool = False, with_ids: bool = True) -> None:
        batch.raw.append(line.encode())
        batch.formats[fmt] = batch.formats.get(fmt, 0) + 1
        if with_ids:
            trace.logs += 1
            trace.error_logs += error

    for span in trace.spans:
        if span.service == "frontend":
            status = 502 if span.error else 200
            add(
                "access",
                f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)} - - [{_access_time(span.start_ns)}] "
                f'"GET {span.route} HTTP/1.1" {status} {rng.randint(200, 5000)} "-" "demo-client/1.0" '
                f"{(span.end_ns - span.start_ns) / 1e9:.3f}",
                with_ids=False,
            )
        elif span.service == "checkout":
            level = "error" if span.error else "info"
            add(
                "json",
                orjson.dumps(
                    {
                        "@timestamp": _iso(span.end_ns),
                        "log.level": level,
                        "service.name": "checkout",
                        "message": "order failed: payment declined" if span.error else f"{span.name} done",
                        "trace.id": trace.trace_id,
                        "span.id": span.span_id,
                        "order_id": f"o-{rng.randint(1000, 9999)}",
                    }
                ).decode(),
                error=span.error,
            )
        elif span.service == "payment" and span.kind == SERVER:
            level = "error" if span.error else "info"
            message = "charge declined by bank" if span.error else "charge accepted"
            add(
                "logfmt",
                f'time={_iso(span.end_ns)} level={level} service=payment msg="{message}" '
                f"trace_id={trace.trace_id} span_id={span.span_id} amount={rng.randint(5, 500)}",
                error=span.error,
            )
        elif span.service == "inventory":
            slow = span.end_ns - span.start_ns > 100 * MS
            level = "WARN" if slow else "INFO"
            add(
                "text",
                f"{_iso(span.end_ns)} {level} inventory reserve "
                f"{'slow lookup' if slow else 'ok'} trace_id={trace.trace_id} span_id={span.span_id}",
            )


def generate(traces: int, *, seed: int = 7, start_ns: int | None = None, spacing_ms: int = 50) -> DemoBatch:
    """`traces` requests starting at `start_ns` (now), `spacing_ms` apart: their spans and log lines."""
    rng = random.Random(seed)
    start = time.time_ns() if start_ns is None else start_ns
    batch = DemoBatch()
    for index in range(traces):
        trace = _trace(rng, start + index * spacing_ms * MS)
        batch.traces.append(trace)
        batch.spans.extend((trace.trace_id.encode(), value) for value in _requests(trace))
        _logs(trace, batch, rng)
    return batch


async def run_demo(
    settings: DemoSettings,
    *,
    traces: int = 50,
    rate: float = 10.0,
    seed: int | None = None,
    compression: str | None = "gzip",
) -> DemoBatch:
    """Produce `traces` traces at about `rate` traces per second (0 = at once); returns what was sent."""
    from aiokafka import AIOKafkaProducer

    from pipeline.config.kafka import KafkaSettings

    kafka = KafkaSettings(bootstrap_servers=settings.bootstrap)
    producer = AIOKafkaProducer(
        **kafka.aiokafka_kwargs(), acks="all", compression_type=compression, linger_ms=5
    )
    await producer.start()
    everything = DemoBatch()
    rng = random.Random(seed)
    try:
        chunk = max(1, int(rate)) if rate > 0 else traces
        sent = 0
        while sent < traces:
            count = min(chunk, traces - sent)
            batch = generate(count, seed=rng.getrandbits(32))
            # Keyed by trace id, as the collector's exporter does with partition_traces_by_id.
            futures = [
                await producer.send(settings.spans_topic, value, key=key) for key, value in batch.spans
            ]
            futures += [await producer.send(settings.raw_topic, line) for line in batch.raw]
            await asyncio.gather(*futures)
            everything.traces += batch.traces
            everything.raw += batch.raw
            everything.spans += batch.spans
            for name, number in batch.formats.items():
                everything.formats[name] = everything.formats.get(name, 0) + number
            sent += count
            if rate > 0 and sent < traces:
                await asyncio.sleep(count / rate)
    finally:
        await producer.stop()
    return everything
