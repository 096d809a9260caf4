"""Micro-benchmark of OTLP decode+map: spans/s and log records/s per core (`python -m bench.otlp_micro`).

Requests are built with the protobuf classes directly (deterministic, no SDK) and look like what an
instrumented HTTP service exports: a k8s resource, HTTP server spans with a DB child, one event in ten.
The bare `ParseFromString` rate is printed next to it, as the floor any mapping sits on. Not a test.
"""

import argparse
import time
from collections.abc import Callable
from functools import partial

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from parsers.context import ParseContext
from parsers.otlp import parse_logs, parse_traces
from tests.parsers.otlp.otlp_testkit import to_otlp_json

BASE_NS = 1_767_225_600_000_000_000  # 2026-01-01T00:00:00Z
RESOURCE = {
    "service.name": "checkout",
    "service.version": "2.4.1",
    "deployment.environment.name": "prod",
    "k8s.namespace.name": "shop",
    "k8s.pod.name": "checkout-7d9f-x2x9z",
    "host.name": "node-3",
    "telemetry.sdk.language": "python",
    "telemetry.sdk.name": "opentelemetry",
    "telemetry.sdk.version": "1.45.2",
}


def _attrs(pairs: dict[str, str | int]) -> list[KeyValue]:
    out = []
    for key, value in pairs.items():
        kv = KeyValue(key=key)
        if isinstance(value, int):
            kv.value.int_value = value
        else:
            kv.value.string_value = value
        out.append(kv)
    return out


def _span(i: int) -> Span:
    trace_id = (0x5B8EFFF798038103D269B633813FC60C + i // 4).to_bytes(16, "big")
    server = i % 2 == 0
    start = BASE_NS + i * 1_000_000
    span = Span(
        trace_id=trace_id,
        span_id=(0xEEE19B7EC3C1B174 + i).to_bytes(8, "big"),
        parent_span_id=b"" if server else (0xEEE19B7EC3C1B174 + i - 1).to_bytes(8, "big"),
        name="GET /orders/{id}" if server else "SELECT orders",
        kind=Span.SPAN_KIND_SERVER if server else Span.SPAN_KIND_CLIENT,
        start_time_unix_nano=start,
        end_time_unix_nano=start + 1_234_567,
        status=Status(code=Status.STATUS_CODE_ERROR if i % 20 == 0 else Status.STATUS_CODE_UNSET),
    )
    if server:
        attributes = {
            "http.request.method": "GET",
            "url.path": f"/orders/{i}",
            "url.scheme": "https",
            "http.route": "/orders/{id}",
            "http.response.status_code": 200,
            "server.address": "shop.example",
            "client.address": "10.1.2.3",
            "user_agent.original": "Mozilla/5.0",
            "tenant": "acme",
        }
    else:
        attributes = {
            "db.system": "postgresql",
            "db.name": "orders",
            "db.statement": "SELECT * FROM orders WHERE id = $1",
            "net.peer.name": "pg.internal",
            "net.peer.port": 5432,
            "rows": 1,
        }
    span.attributes.extend(_attrs(attributes))
    if i % 10 == 0:
        event = span.events.add(time_unix_nano=start + 1000, name="cache.miss")
        event.attributes.extend(_attrs({"cache.key": f"order:{i}"}))
    return span


def trace_request(spans: int) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    resource_spans.resource.attributes.extend(_attrs(RESOURCE))
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "opentelemetry.instrumentation.flask"
    scope_spans.scope.version = "0.48b0"
    scope_spans.spans.extend(_span(i) for i in range(spans))
    return request


def logs_request(records: int) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    resource_logs = request.resource_logs.add()
    resource_logs.resource.attributes.extend(_attrs(RESOURCE))
    scope_logs = resource_logs.scope_logs.add()
    scope_logs.scope.name = "app.orders"
    for i in range(records):
        record = scope_logs.log_records.add(
            time_unix_nano=BASE_NS + i * 1_000_000,
            observed_time_unix_nano=BASE_NS + i * 1_000_000 + 500,
            severity_number=9,
            severity_text="INFO",
            trace_id=(0x5B8EFFF798038103D269B633813FC60C + i).to_bytes(16, "big"),
            span_id=(0xEEE19B7EC3C1B174 + i).to_bytes(8, "big"),
            flags=1,
        )
        record.body.string_value = f"order {i} placed for customer 7"
        attributes = {"order.id": i, "code.function.name": "place_order", "tenant": "acme"}
        record.attributes.extend(_attrs(attributes))
    return request


def _rate(work: Callable[[], object], items: int, seconds: float) -> float:
    """Items per second of `work`, best of repeated runs filling about `seconds`."""
    best = float("inf")
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
        if time.perf_counter() > deadline:
            return items / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time spent per measurement")
    seconds = parser.parse_args().seconds
    ctx = ParseContext(received_ns=BASE_NS + 3_600 * 1_000_000_000)
    print("| signal | batch | ParseFromString /s | decode+map proto /s | decode+map json /s |")
    print("|---|---:|---:|---:|---:|")
    for name, build, message, parse in (
        ("spans", trace_request, ExportTraceServiceRequest, parse_traces),
        ("logs", logs_request, ExportLogsServiceRequest, parse_logs),
    ):
        for size in (100, 1000):
            request = build(size)
            raw, as_json = request.SerializeToString(), to_otlp_json(request)
            assert len(parse(raw, ctx)) == size == len(parse(as_json, ctx, encoding="otlp_json"))
            bare = _rate(partial(message().ParseFromString, raw), size, seconds)
            proto = _rate(partial(parse, raw, ctx), size, seconds)
            json = _rate(partial(parse, as_json, ctx, encoding="otlp_json"), size, seconds)
            print(f"| {name} | {size} | {bare:,.0f} | {proto:,.0f} | {json:,.0f} |")


if __name__ == "__main__":
    main()
