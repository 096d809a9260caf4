"""Test inputs for the OTLP parsers: requests made by the real OpenTelemetry SDK, and OTLP/JSON renderings.

The SDK side mirrors what a service exports through the collector: TracerProvider/LoggerProvider with an
in-memory exporter, then the OTLP proto encoder the SDK's own exporters use.
"""

import base64
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk._logs import LoggerProvider, ReadableLogRecord
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from parsers.result import Doc, Outcome, ParseError

# Ids in OTLP/JSON are hex; the generic protobuf JSON mapping (MessageToDict) writes them as base64.
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})

CHECKOUT = {
    "service.name": "checkout",
    "service.version": "2.4.1",
    "deployment.environment": "staging",
    "k8s.namespace.name": "shop",
    "k8s.pod.name": "checkout-7d9f",
    "host.name": "node-3",
    "container.id": "c0ffee",
}
PAYMENTS = {
    "service.name": "payments",
    "service.namespace": "shop",
    "deployment.environment.name": "prod",
    "cloud.provider": "aws",
    "cloud.region": "eu-west-1",
}


def _ids_to_hex(obj: Any) -> None:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in _ID_KEYS and isinstance(value, str):
                obj[key] = base64.b64decode(value).hex()
            else:
                _ids_to_hex(value)
    elif isinstance(obj, list):
        for item in obj:
            _ids_to_hex(item)


def to_otlp_json(request: Message) -> bytes:
    """`request` as OTLP/JSON on one line: camelCase, integer enums, hex ids (as the collector writes)."""
    obj = json_format.MessageToDict(request, use_integers_for_enums=True)
    _ids_to_hex(obj)
    return orjson.dumps(obj)


def docs(outcome: Outcome) -> list[Doc]:
    """The documents of an outcome, asserting it holds no errors."""
    errors = [item for item in outcome if isinstance(item, ParseError)]
    assert not errors, errors
    return [item for item in outcome if not isinstance(item, ParseError)]


def hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x")


@dataclass(frozen=True)
class SdkTraces:
    spans: tuple[ReadableSpan, ...]
    request: ExportTraceServiceRequest


def sdk_traces() -> SdkTraces:
    """Two services' spans in one request: HTTP server/client, DB (older and current names), an
    exception, a remote parent, events, a link, messaging and RPC."""
    exporter = InMemorySpanExporter()
    providers = []
    for attributes in (CHECKOUT, PAYMENTS):
        provider = TracerProvider(resource=Resource.create(attributes))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        providers.append(provider)
    web = providers[0].get_tracer("app.web", "1.0.0")
    pay = providers[1].get_tracer("app.pay", "3.1.0")

    server_attrs = {
        "http.method": "get",
        "http.target": "/orders/42?expand=items",
        "http.scheme": "https",
        "http.status_code": 500,
        "http.route": "/orders/{id}",
        "http.user_agent": "curl/8.5",
        "net.host.name": "shop.example",
        "net.host.port": 443,
        "net.peer.name": "203.0.113.9",
        "http.flavor": "1.1",
        "tenant": "acme",
    }
    with web.start_as_current_span("GET /orders/{id}", kind=SpanKind.SERVER, attributes=server_attrs) as root:
        root.set_status(Status(StatusCode.ERROR, "HTTP 500"))
        client_attrs = {
            "http.request.method": "POST",
            "url.full": "https://payments.internal/charge?id=42",
            "server.address": "payments.internal",
            "server.port": 443,
            "http.response.status_code": 402,
        }
        with web.start_as_current_span("POST", kind=SpanKind.CLIENT, attributes=client_attrs) as client:
            charge = pay.start_span(
                "POST /charge",
                context=trace.set_span_in_context(trace.NonRecordingSpan(client.get_span_context())),
                kind=SpanKind.SERVER,
                attributes={
                    "http.request.method": "POST",
                    "url.path": "/charge",
                    "url.query": "id=42",
                    "url.scheme": "https",
                    "client.address": "10.1.2.3",
                    "client.port": 51234,
                    "http.route": "/charge",
                    "http.response.status_code": 402,
                },
                links=[Link(root.get_span_context(), {"link.reason": "audit"})],
            )
            charge.add_event("charge.declined", {"card.brand": "visa", "retry": False})
            charge.end()
        old_db = {
            "db.system": "postgresql",
            "db.name": "orders",
            "db.statement": "SELECT * FROM orders WHERE id = $1",
            "db.operation": "SELECT",
            "db.user": "app",
            "net.peer.name": "pg.internal",
            "net.peer.port": 5432,
        }
        with web.start_as_current_span("SELECT orders", kind=SpanKind.CLIENT, attributes=old_db):
            pass
        new_db = {
            "db.system.name": "postgresql",
            "db.namespace": "orders",
            "db.query.text": "INSERT INTO audit VALUES ($1)",
            "db.operation.name": "INSERT",
            "server.address": "pg.internal",
        }
        with web.start_as_current_span("INSERT audit", kind=SpanKind.CLIENT, attributes=new_db) as insert:
            try:
                raise TimeoutError("statement timeout")
            except TimeoutError as exc:
                insert.record_exception(exc)
                insert.set_status(Status(StatusCode.ERROR, "statement timeout"))
    messaging = {
        "messaging.system": "kafka",
        "messaging.destination.name": "charges",
        "messaging.operation": "process",
    }
    with pay.start_as_current_span("charges process", kind=SpanKind.CONSUMER, attributes=messaging):
        rpc = {"rpc.system": "grpc", "rpc.service": "Ledger", "rpc.method": "Post", "rpc.grpc.status_code": 0}
        with pay.start_as_current_span("Ledger/Post", kind=SpanKind.CLIENT, attributes=rpc):
            pass
    spans = exporter.get_finished_spans()
    return SdkTraces(spans, encode_spans(spans))


@dataclass(frozen=True)
class SdkLogs:
    records: tuple[ReadableLogRecord, ...]
    request: ExportLogsServiceRequest
    # The span the trace-correlated records were emitted in.
    span_context: trace.SpanContext


def sdk_logs() -> SdkLogs:
    """Log records with and without trace context: levels, an exception, structured body, an event."""
    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create(CHECKOUT))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("app.orders", "1.0.0")
    tracer = TracerProvider(resource=Resource.create(CHECKOUT)).get_tracer("app.web")
    with tracer.start_as_current_span("GET /orders/{id}") as span:
        context = trace.set_span_in_context(span)
        logger.emit(
            context=context,
            severity_number=SeverityNumber.INFO,
            severity_text="INFO",
            body="order 42 placed",
            attributes={"order.id": 42, "code.function": "place_order", "code.lineno": 88},
        )
        try:
            raise KeyError("card")
        except KeyError as exc:
            logger.emit(
                context=context,
                severity_number=SeverityNumber.ERROR,
                severity_text="ERROR",
                body="charge failed",
                exception=exc,
            )
    logger.emit(severity_text="WARNING", body="cache cold")
    logger.emit(
        severity_number=SeverityNumber.DEBUG2, body={"event": "checkout", "items": [1, 2], "ok": True}
    )
    logger.emit(severity_number=SeverityNumber.INFO, event_name="session.start", body=7)
    records = exporter.get_finished_logs()
    return SdkLogs(records, encode_logs(records), span.get_span_context())
