"""Hostile and mistaken inputs: the decoder answers with one specific ParseError and never raises."""

import base64
import time

import orjson
import pytest
from google.protobuf.internal.encoder import _VarintBytes
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otlp_testkit import SdkLogs, SdkTraces, docs, to_otlp_json

from parsers.context import ParseContext
from parsers.limits import Limits
from parsers.otlp import ENCODINGS, SIGNALS, parse_logs, parse_traces, split_length_delimited
from parsers.result import ParseError

CTX = ParseContext(received_ns=time.time_ns())
SPAN = {"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": "00f067aa0ba902b7", "name": "x"}
SPAN |= {"startTimeUnixNano": "1767225600000000000", "endTimeUnixNano": "1767225600000001000"}


def json_traces(*spans: dict) -> bytes:
    return orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]})


def only_error(outcome: list) -> ParseError:
    assert len(outcome) == 1, outcome
    assert isinstance(outcome[0], ParseError), outcome
    return outcome[0]


def well_formed(outcome: list) -> bool:
    return all(isinstance(item, ParseError | dict) for item in outcome)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.binary(max_size=512), signal=st.sampled_from(sorted(SIGNALS)), encoding=st.sampled_from(ENCODINGS)
)
def test_random_bytes_never_raise(raw: bytes, signal: str, encoding: str) -> None:
    assert well_formed(SIGNALS[signal](raw, CTX, encoding=encoding))


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["resourceSpans", "scopeSpans", "spans", "traceId", "spanId", "links", "attributes"]
            )
            | st.sampled_from(
                ["resourceLogs", "scopeLogs", "logRecords", "body", "kind", "value", "key", "x"]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(obj=_JSON_VALUES, signal=st.sampled_from(sorted(SIGNALS)))
def test_malformed_json_never_raises(obj: object, signal: str) -> None:
    assert well_formed(SIGNALS[signal](orjson.dumps(obj), CTX, encoding="otlp_json"))


def test_every_truncation_of_a_real_request_is_handled(traces: SdkTraces) -> None:
    raw = traces.request.SerializeToString()
    for cut in range(1, len(raw)):
        outcome = parse_traces(raw[:cut], CTX)
        assert well_formed(outcome)
        if any(isinstance(item, ParseError) for item in outcome):
            assert {item.reason for item in outcome if isinstance(item, ParseError)} <= {
                "otlp_proto_decode",
                "otlp_empty_request",
                "otlp_wrong_message_type",
                "invalid_trace_id",
                "invalid_span_id",
            }


def test_truncated_request_is_a_decode_error(traces: SdkTraces) -> None:
    raw = traces.request.SerializeToString()
    error = only_error(parse_traces(raw[: len(raw) // 2], CTX))
    assert error.reason == "otlp_proto_decode"


@pytest.mark.parametrize(
    ("parse", "request_attr", "found"),
    [(parse_traces, "logs", "logs"), (parse_logs, "traces", "traces")],
)
def test_the_other_signal_is_named(
    parse, request_attr: str, found: str, request: pytest.FixtureRequest
) -> None:
    made = request.getfixturevalue(request_attr).request
    for raw, encoding in ((made.SerializeToString(), "otlp_proto"), (to_otlp_json(made), "otlp_json")):
        error = only_error(parse(raw, CTX, encoding=encoding))
        assert error.reason == "otlp_wrong_message_type"
        assert f"an OTLP {found} request" in error.detail


def test_a_metrics_request_is_named() -> None:
    request = ExportMetricsServiceRequest()
    metric = (
        request.resource_metrics.add().scope_metrics.add().metrics.add(name="http.server.duration", unit="ms")
    )
    metric.gauge.data_points.add(as_int=3, time_unix_nano=1)
    for parse in (parse_traces, parse_logs):
        error = only_error(parse(request.SerializeToString(), CTX))
        assert (error.reason, "an OTLP metrics request" in error.detail) == ("otlp_wrong_message_type", True)


def test_the_other_encoding_gets_a_hint(traces: SdkTraces) -> None:
    as_json = to_otlp_json(traces.request)
    error = only_error(parse_traces(as_json, CTX, encoding="otlp_proto"))
    assert error.reason == "otlp_proto_decode"
    assert "otlp_json" in error.detail
    error = only_error(parse_traces(traces.request.SerializeToString(), CTX, encoding="otlp_json"))
    assert error.reason == "otlp_json_decode"
    assert "otlp_proto" in error.detail


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "not list"),
        (b'{"resourceSpans": "nope"}', "not an OTLP/JSON traces request"),
        (b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": {"a": 1}}]}]}]}', "not an OTLP/JSON"),
        (json_traces(SPAN | {"startTimeUnixNano": "soon"}), "not an OTLP/JSON"),
        (json_traces(SPAN | {"spanId": 12}), "not an OTLP/JSON"),
        (json_traces(SPAN).replace(b'"1767225600000000000"', b"1" * 30), "not"),
        (json_traces(SPAN).replace(b'"1767225600000000000"', b'"-5"'), "not an OTLP/JSON"),
    ],
)
def test_malformed_json_is_a_json_decode_error(raw: bytes, detail: str) -> None:
    error = only_error(parse_traces(raw, CTX, encoding="otlp_json"))
    assert error.reason == "otlp_json_decode"
    assert detail in error.detail


def test_base64_ids_in_json_are_named() -> None:
    b64 = base64.b64encode(bytes.fromhex(SPAN["traceId"])).decode()
    error = only_error(parse_traces(json_traces(SPAN, SPAN | {"traceId": b64}), CTX, encoding="otlp_json"))
    assert error.reason == "otlp_json_decode"
    assert f"resourceSpans[0].scopeSpans[0].spans[1].traceId {b64!r} is not a hex id" in error.detail
    assert "not base64" in error.detail


def test_json_link_ids_are_hex_too() -> None:
    link = {"traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}
    [doc] = docs(parse_traces(json_traces(SPAN | {"links": [link]}), CTX, encoding="otlp_json"))
    assert doc["span.links"] == [{"trace.id": link["traceId"], "span.id": link["spanId"]}]
    error = only_error(
        parse_traces(json_traces(SPAN | {"links": [link | {"spanId": "zz"}]}), CTX, encoding="otlp_json")
    )
    assert "spans[0].links[0].spanId 'zz'" in error.detail


def test_json_variants_the_mapping_allows() -> None:
    """Enum names or ints, 64-bit ints as strings or numbers, proto field names, unknown fields."""
    variants = [
        SPAN | {"kind": "SPAN_KIND_CLIENT", "status": {"code": "STATUS_CODE_ERROR"}},
        SPAN | {"kind": 3, "status": {"code": 2}, "startTimeUnixNano": 1767225600000000000},
        {
            "trace_id": SPAN["traceId"],
            "span_id": SPAN["spanId"],
            "name": "x",
            "kind": 3,
            "status": {"code": 2},
        }
        | {"start_time_unix_nano": SPAN["startTimeUnixNano"], "end_time_unix_nano": SPAN["endTimeUnixNano"]},
        SPAN | {"kind": 3, "status": {"code": 2}, "futureField": {"a": [1]}},
    ]
    found = [docs(parse_traces(json_traces(span), CTX, encoding="otlp_json"))[0] for span in variants]
    for doc in found:
        assert (doc["span.kind"], doc["event.outcome"], doc["trace.id"]) == (
            "client",
            "failure",
            SPAN["traceId"],
        )
        assert doc["event.duration"] == 1000


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_request_without_records_is_an_error(encoding: str) -> None:
    request = ExportTraceServiceRequest()
    request.resource_spans.add().scope_spans.add().scope.name = "lonely"
    raw = request.SerializeToString() if encoding == "otlp_proto" else to_otlp_json(request)
    assert only_error(parse_traces(raw, CTX, encoding=encoding)).reason == "otlp_empty_request"
    assert only_error(parse_logs(b"{}", CTX, encoding="otlp_json")).reason == "otlp_empty_request"


def test_an_empty_record_is_nothing() -> None:
    assert parse_traces(b"", CTX) == parse_logs(b"", CTX, encoding="otlp_json") == []


def test_too_large_request(traces: SdkTraces) -> None:
    raw = traces.request.SerializeToString()
    ctx = ParseContext(received_ns=CTX.received_ns, limits=Limits(max_request_bytes=len(raw) - 1))
    error = only_error(parse_traces(raw, ctx))
    assert error.reason == "otlp_too_large"


def test_unknown_encoding_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="otlp_proto, otlp_json"):
        parse_traces(b"x", CTX, encoding="otlp_yaml")


def test_huge_repeated_fields_stay_bounded_and_fast() -> None:
    request = ExportTraceServiceRequest()
    span = (
        request.resource_spans.add()
        .scope_spans.add()
        .spans.add(
            trace_id=bytes.fromhex(SPAN["traceId"]), span_id=bytes.fromhex(SPAN["spanId"]), name="huge"
        )
    )
    for n in range(100_000):
        span.attributes.add(key=f"k{n}").value.int_value = n
    array = span.attributes.add(key="big").value.array_value
    for n in range(100_000):
        array.values.add(int_value=n)
    body = ExportLogsServiceRequest()
    record = body.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=1)
    for n in range(100_000):
        record.body.kvlist_value.values.add(key=f"k{n}").value.string_value = "v"
    started = time.perf_counter()
    [doc] = docs(parse_traces(request.SerializeToString(), CTX))
    [log] = docs(parse_logs(body.SerializeToString(), CTX))
    assert time.perf_counter() - started < 2
    assert len(doc["attributes"]) == 256
    assert doc["logtrace.attributes_dropped"] == 100_001 - 256
    assert len(log["body.structured"]) == 256


def test_many_empty_spans_give_capped_errors() -> None:
    raw = b"".join(
        [b"\x0a\x06\x12\x04\x12\x02\x0a\x00"] * 5_000
    )  # resource_spans{scope_spans{spans{trace_id: ""}}}
    outcome = parse_traces(raw, CTX)
    assert len(outcome) == 11
    assert outcome[-1].reason == "otlp_too_many_errors"


def test_split_length_delimited_stream(traces: SdkTraces, logs: SdkLogs) -> None:
    messages = [traces.request.SerializeToString(), b"", logs.request.SerializeToString()]
    stream = b"".join(_VarintBytes(len(message)) + message for message in messages)
    assert split_length_delimited(stream) == messages
    # A cut last message comes back as the remaining bytes, so decoding it reports it.
    assert split_length_delimited(stream[:-5])[-1] == (_VarintBytes(len(messages[2])) + messages[2])[:-5]
    assert split_length_delimited(b"\xff" * 12) == [b"\xff" * 12]
    assert split_length_delimited(b"") == []
