"""Spans exported by the real SDK → documents: ids, nanosecond times, parents, errors, semconv, resources."""

from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status
from otlp_testkit import CHECKOUT, PAYMENTS, SdkTraces, docs, hex_id, to_otlp_json

from parsers.context import ParseContext
from parsers.limits import Limits
from parsers.otlp import SIGNALS, parse_traces
from parsers.otlp.spans import MAX_EVENTS, MAX_SPAN_ERRORS
from parsers.result import Doc, ParseError
from parsers.timefmt import ns_to_iso

TRACE = bytes.fromhex("4bf92f3577b34da6a3ce929d0e0e4736")
START = 1_767_225_600_000_000_000


def by_name(traces: SdkTraces, ctx: ParseContext) -> dict[str, Doc]:
    return {doc["span.name"]: doc for doc in docs(parse_traces(traces.request.SerializeToString(), ctx))}


def request_of(*spans: Span) -> bytes:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().spans.extend(spans)
    return request.SerializeToString()


def good_span(n: int = 1, **fields: Any) -> Span:
    defaults = {"trace_id": TRACE, "span_id": n.to_bytes(8, "big"), "name": f"span {n}"}
    defaults |= {"start_time_unix_nano": START, "end_time_unix_nano": START + 1_500}
    return Span(**(defaults | fields))


def test_every_sdk_span_maps_with_exact_ids_and_times(traces: SdkTraces, ctx: ParseContext) -> None:
    outcome = docs(parse_traces(traces.request.SerializeToString(), ctx))
    assert len(outcome) == len(traces.spans)
    by_id = {doc["span.id"]: doc for doc in outcome}
    for span in traces.spans:
        doc = by_id[hex_id(span.context.span_id, 16)]
        assert doc["trace.id"] == hex_id(span.context.trace_id, 32)
        assert doc["span.name"] == span.name
        assert doc["span.kind"] == span.kind.name.lower()
        assert doc["event.duration"] == span.end_time - span.start_time
        assert doc["span.duration.us"] == (span.end_time - span.start_time) // 1000
        assert doc["@timestamp"] == doc["event.start"] == ns_to_iso(span.start_time)
        assert doc["event.end"] == ns_to_iso(span.end_time)
        assert doc.get("parent.id") == (span.parent and hex_id(span.parent.span_id, 16))
        assert doc["event.kind"] == "event"
        assert doc["logtrace.format"] == "otlp_proto"


def test_parent_links_form_the_trace_tree(traces: SdkTraces, ctx: ParseContext) -> None:
    spans = by_name(traces, ctx)
    root, client, charge = spans["GET /orders/{id}"], spans["POST"], spans["POST /charge"]
    assert "parent.id" not in root
    assert client["parent.id"] == root["span.id"]
    # The payments service continued the trace from the client span's (remote) context.
    assert charge["parent.id"] == client["span.id"]
    assert charge["trace.id"] == root["trace.id"]


def test_several_resources_in_one_request(traces: SdkTraces, ctx: ParseContext) -> None:
    spans = by_name(traces, ctx)
    checkout, payments = spans["SELECT orders"], spans["Ledger/Post"]
    assert checkout["service.name"] == CHECKOUT["service.name"]
    assert checkout["service.version"] == "2.4.1"
    assert checkout["service.environment"] == "staging"  # older deployment.environment
    assert checkout["kubernetes.namespace"] == "shop"
    assert checkout["kubernetes.pod.name"] == "checkout-7d9f"
    assert checkout["host.name"] == "node-3"
    assert checkout["container.id"] == "c0ffee"
    assert checkout["otel.scope.name"] == "app.web"
    assert checkout["otel.scope.version"] == "1.0.0"
    assert payments["service.name"] == PAYMENTS["service.name"]
    assert payments["service.namespace"] == "shop"
    assert payments["service.environment"] == "prod"  # current deployment.environment.name
    assert payments["cloud.provider"] == "aws"
    assert payments["cloud.region"] == "eu-west-1"
    assert payments["otel.scope.name"] == "app.pay"
    assert payments["attributes"]["telemetry.sdk.language"] == "python"
    assert "kubernetes.namespace" not in payments


def test_http_server_span_with_older_semconv(traces: SdkTraces, ctx: ParseContext) -> None:
    root = by_name(traces, ctx)["GET /orders/{id}"]
    assert root["span.kind"] == "server"
    assert root["http.request.method"] == "GET"
    assert (root["url.path"], root["url.query"], root["url.scheme"]) == (
        "/orders/42",
        "expand=items",
        "https",
    )
    assert root["http.response.status_code"] == 500
    assert root["http.route"] == "/orders/{id}"
    assert root["http.version"] == "1.1"
    assert root["user_agent.original"] == "curl/8.5"
    # On a SERVER span the older net.host.* is the server itself and net.peer.* the client.
    assert (root["server.address"], root["server.port"]) == ("shop.example", 443)
    assert root["client.address"] == root["client.ip"] == "203.0.113.9"
    assert root["attributes"]["tenant"] == "acme"
    assert "http.method" not in root["attributes"]
    assert (root["span.status.code"], root["span.status.message"], root["event.outcome"]) == (
        "error",
        "HTTP 500",
        "failure",
    )


def test_http_client_and_server_spans_with_current_semconv(traces: SdkTraces, ctx: ParseContext) -> None:
    spans = by_name(traces, ctx)
    client, charge = spans["POST"], spans["POST /charge"]
    assert client["url.full"] == "https://payments.internal/charge?id=42"
    assert (client["server.address"], client["server.port"]) == ("payments.internal", 443)
    assert client["http.response.status_code"] == 402
    assert (client["span.status.code"], client["event.outcome"]) == ("unset", "success")
    assert charge["url.path"] == "/charge"
    assert charge["url.query"] == "id=42"
    assert (charge["client.address"], charge["client.ip"], charge["client.port"]) == (
        "10.1.2.3",
        "10.1.2.3",
        51234,
    )
    assert charge["http.route"] == "/charge"


def test_db_spans_with_older_and_current_names(traces: SdkTraces, ctx: ParseContext) -> None:
    spans = by_name(traces, ctx)
    for name, statement, operation in (
        ("SELECT orders", "SELECT * FROM orders WHERE id = $1", "SELECT"),
        ("INSERT audit", "INSERT INTO audit VALUES ($1)", "INSERT"),
    ):
        doc = spans[name]
        assert doc["db.system"] == "postgresql"
        assert doc["db.name"] == "orders"
        assert doc["db.statement"] == statement
        assert doc["db.operation"] == operation
        assert doc["server.address"] == "pg.internal"
    assert spans["SELECT orders"]["server.port"] == 5432
    assert spans["SELECT orders"]["db.user"] == "app"


def test_exception_event_becomes_error_fields(traces: SdkTraces, ctx: ParseContext) -> None:
    insert = by_name(traces, ctx)["INSERT audit"]
    assert insert["error.type"] == "TimeoutError"
    assert insert["error.message"] == "statement timeout"
    assert insert["error.stack_trace"].startswith("Traceback (most recent call last):")
    assert "raise TimeoutError" in insert["error.stack_trace"]
    assert (insert["span.status.code"], insert["event.outcome"]) == ("error", "failure")
    assert "span.events" not in insert


def test_other_events_and_links_are_kept_compactly(traces: SdkTraces, ctx: ParseContext) -> None:
    spans = by_name(traces, ctx)
    charge, root = spans["POST /charge"], spans["GET /orders/{id}"]
    [sdk_charge] = [span for span in traces.spans if span.name == "POST /charge"]
    assert charge["span.events"] == [
        {
            "name": "charge.declined",
            "time": ns_to_iso(sdk_charge.events[0].timestamp),
            "attributes": {"card.brand": "visa", "retry": False},
        }
    ]
    assert charge["span.links"] == [
        {"trace.id": root["trace.id"], "span.id": root["span.id"], "attributes": {"link.reason": "audit"}}
    ]


def test_messaging_and_rpc_spans(traces: SdkTraces, ctx: ParseContext) -> None:
    spans = by_name(traces, ctx)
    consumer, rpc = spans["charges process"], spans["Ledger/Post"]
    assert consumer["span.kind"] == "consumer"
    assert (consumer["messaging.system"], consumer["messaging.destination.name"]) == ("kafka", "charges")
    assert consumer["messaging.operation"] == "process"
    assert (rpc["rpc.system"], rpc["rpc.service"], rpc["rpc.method"]) == ("grpc", "Ledger", "Post")
    assert rpc["rpc.grpc.status_code"] == 0
    assert rpc["parent.id"] == consumer["span.id"]


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_proto_and_json_give_the_same_documents(signal: str, request: pytest.FixtureRequest, ctx) -> None:
    made = request.getfixturevalue(signal)
    parse = SIGNALS[signal]
    from_proto = docs(parse(made.request.SerializeToString(), ctx))
    from_json = docs(parse(to_otlp_json(made.request), ctx, encoding="otlp_json"))
    assert [doc.pop("logtrace.format") for doc in from_proto] == ["otlp_proto"] * len(from_proto)
    assert [doc.pop("logtrace.format") for doc in from_json] == ["otlp_json"] * len(from_json)
    assert from_proto == from_json


@pytest.mark.parametrize(
    ("fields", "reason", "shown"),
    [
        ({"trace_id": bytes(16)}, "invalid_trace_id", "00000000000000000000000000000000"),
        ({"trace_id": TRACE[:8]}, "invalid_trace_id", TRACE[:8].hex()),
        ({"trace_id": b""}, "invalid_trace_id", "''"),
        ({"span_id": bytes(8)}, "invalid_span_id", "0000000000000000"),
        ({"span_id": b"\x01\x02\x03"}, "invalid_span_id", "010203"),
    ],
)
def test_a_bad_id_fails_only_its_span(fields: dict[str, Any], reason: str, shown: str, ctx) -> None:
    outcome = parse_traces(request_of(good_span(1), good_span(2, name="broken", **fields), good_span(3)), ctx)
    assert [type(item) for item in outcome] == [dict, ParseError, dict]
    error = outcome[1]
    assert error.reason == reason
    assert "resource_spans[0].scope_spans[0].spans[1] 'broken'" in error.detail
    assert shown in error.detail


def test_errors_per_request_are_capped(ctx: ParseContext) -> None:
    outcome = parse_traces(
        request_of(*(good_span(n, trace_id=bytes(16)) for n in range(1, 51)), good_span(99)), ctx
    )
    errors = [item for item in outcome if isinstance(item, ParseError)]
    assert len(errors) == MAX_SPAN_ERRORS + 1
    assert errors[-1] == ParseError(
        "otlp_too_many_errors", f"{50 - MAX_SPAN_ERRORS} more spans with invalid ids"
    )
    assert [doc["span.name"] for doc in outcome if isinstance(doc, dict)] == ["span 99"]


def test_negative_duration_is_zero_and_flagged(ctx: ParseContext) -> None:
    [doc] = docs(parse_traces(request_of(good_span(end_time_unix_nano=START - 5)), ctx))
    assert (doc["event.duration"], doc["span.duration.us"]) == (0, 0)
    assert doc["logtrace.parse.problems"] == ["span_negative_duration"]
    assert doc["event.end"] == ns_to_iso(START - 5)


def test_duration_is_kept_to_the_nanosecond(ctx: ParseContext) -> None:
    end = START + 1_234_567_891
    [doc] = docs(
        parse_traces(request_of(good_span(start_time_unix_nano=START + 7, end_time_unix_nano=end)), ctx)
    )
    assert doc["event.duration"] == 1_234_567_884
    assert doc["span.duration.us"] == 1_234_567
    assert doc["@timestamp"] == "2026-01-01T00:00:00.000000007Z"


def test_missing_start_falls_back_to_receive_time(ctx: ParseContext) -> None:
    [doc] = docs(parse_traces(request_of(good_span(start_time_unix_nano=0)), ctx))
    assert doc["@timestamp"] == ns_to_iso(ctx.received_ns)
    assert doc["logtrace.parse.problems"] == ["timestamp_missing"]
    assert "event.duration" not in doc
    assert "event.start" not in doc


def test_unknown_enum_values_read_as_unspecified(ctx: ParseContext) -> None:
    span = good_span(kind=42, status=Status(code=7))
    [doc] = docs(parse_traces(request_of(span), ctx))
    assert (doc["span.kind"], doc["span.status.code"], doc["event.outcome"]) == (
        "unspecified",
        "unset",
        "success",
    )


def test_dropped_counts_and_trace_flags_only_when_set(ctx: ParseContext) -> None:
    [plain, counted] = docs(
        parse_traces(
            request_of(
                good_span(1, flags=0x100),
                good_span(
                    2, dropped_attributes_count=3, dropped_events_count=2, dropped_links_count=1, flags=0x301
                ),
            ),
            ctx,
        )
    )
    assert not [key for key in plain if key.startswith("otel.dropped") or key == "otel.trace_flags"]
    assert (counted["otel.dropped_attributes_count"], counted["otel.dropped_events_count"]) == (3, 2)
    assert (counted["otel.dropped_links_count"], counted["otel.trace_flags"]) == (1, 1)


def test_attributes_are_bounded_with_shared_resource_budget() -> None:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for n in range(3):
        resource_spans.resource.attributes.add(key=f"res.{n}").value.string_value = "r"
    span = resource_spans.scope_spans.add().spans.add()
    span.MergeFrom(good_span())
    for n in range(10):
        span.attributes.add(key=f"own.{n}").value.string_value = "x" * 50
    ctx = ParseContext(received_ns=START, limits=Limits(max_attributes=8, max_value_chars=10))
    [doc] = docs(parse_traces(request.SerializeToString(), ctx))
    assert len(doc["attributes"]) == 8
    assert {f"res.{n}" for n in range(3)} <= doc["attributes"].keys()
    assert doc["attributes"]["own.0"] == "x" * 10
    # 10 own attributes: 8 read (the per-span cap), 5 kept next to the 3 shared, 5 dropped in all.
    assert doc["logtrace.attributes_dropped"] == 5


def test_hostile_event_and_link_counts_are_cut(ctx: ParseContext) -> None:
    span = good_span()
    for n in range(MAX_EVENTS + 50):
        span.events.add(name=f"e{n}", time_unix_nano=START + n)
    for _ in range(500):
        span.links.add(trace_id=TRACE, span_id=b"\x01" * 8)
    [doc] = docs(parse_traces(request_of(span), ctx))
    assert len(doc["span.events"]) == MAX_EVENTS
    assert len(doc["span.links"]) == 128
    assert doc["logtrace.parse.problems"] == ["span_events_truncated", "span_links_truncated"]
