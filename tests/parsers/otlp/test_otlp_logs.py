"""Log records exported by the real SDK → documents shaped like the raw-log parsers' documents."""

from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from otlp_testkit import SdkLogs, docs, hex_id

from parsers.context import ParseContext
from parsers.otlp import parse_logs
from parsers.result import Doc
from parsers.timefmt import ns_to_iso

T0 = 1_767_225_600_000_000_000
CTX = ParseContext(received_ns=T0 + 3_600_000_000_000)


def by_message(made: SdkLogs, ctx: ParseContext) -> dict[str, Doc]:
    return {doc["message"]: doc for doc in docs(parse_logs(made.request.SerializeToString(), ctx))}


def one(**fields: Any) -> Doc:
    request = ExportLogsServiceRequest()
    scope_logs = request.resource_logs.add().scope_logs.add()
    scope_logs.scope.name = "app.orders"
    scope_logs.log_records.append(LogRecord(**({"time_unix_nano": T0} | fields)))
    [doc] = docs(parse_logs(request.SerializeToString(), CTX))
    return doc


def test_every_sdk_record_maps_with_its_times(logs: SdkLogs, ctx: ParseContext) -> None:
    outcome = docs(parse_logs(logs.request.SerializeToString(), ctx))
    assert len(outcome) == len(logs.records)
    for record, doc in zip(logs.records, outcome, strict=True):
        sdk = record.log_record
        assert doc["@timestamp"] == ns_to_iso(sdk.timestamp or sdk.observed_timestamp)
        assert doc["event.created"] == ns_to_iso(sdk.observed_timestamp)
        assert doc["log.logger"] == doc["otel.scope.name"] == "app.orders"
        assert doc["service.name"] == "checkout"
        assert (doc["event.kind"], doc["logtrace.format"]) == ("event", "otlp_proto")


def test_records_with_and_without_trace_context(logs: SdkLogs, ctx: ParseContext) -> None:
    found = by_message(logs, ctx)
    for message in ("order 42 placed", "charge failed"):
        assert found[message]["trace.id"] == hex_id(logs.span_context.trace_id, 32)
        assert found[message]["span.id"] == hex_id(logs.span_context.span_id, 16)
        assert found[message]["otel.trace_flags"] == int(logs.span_context.trace_flags)
    assert not {"trace.id", "span.id", "logtrace.raw_trace_id"} & found["cache cold"].keys()
    assert "logtrace.parse.problems" not in found["cache cold"]


def test_levels_from_number_or_text(logs: SdkLogs, ctx: ParseContext) -> None:
    found = by_message(logs, ctx)
    info = found["order 42 placed"]
    assert (info["log.level"], info["otel.severity_number"], info["logtrace.level_original"]) == (
        "info",
        9,
        "INFO",
    )
    assert found["charge failed"]["log.level"] == "error"
    cold = found["cache cold"]  # severity text only
    assert (cold["log.level"], cold["logtrace.level_original"]) == ("warn", "WARNING")
    assert "otel.severity_number" not in cold


@pytest.mark.parametrize(
    ("number", "level"),
    [
        *[(1, "trace"), (4, "trace"), (5, "debug"), (8, "debug"), (9, "info"), (12, "info")],
        *[(13, "warn"), (16, "warn"), (17, "error"), (20, "error"), (21, "fatal"), (24, "fatal")],
    ],
)
def test_severity_number_ranges(number: int, level: str) -> None:
    assert one(severity_number=number, severity_text="IGNORED")["log.level"] == level


def test_exception_attributes_become_error_fields(logs: SdkLogs, ctx: ParseContext) -> None:
    failed = by_message(logs, ctx)["charge failed"]
    assert failed["error.type"] == "KeyError"
    assert failed["error.message"] == "'card'"
    assert "raise KeyError" in failed["error.stack_trace"]


def test_code_location_and_other_attributes(logs: SdkLogs, ctx: ParseContext) -> None:
    placed = by_message(logs, ctx)["order 42 placed"]
    assert (placed["log.origin.function"], placed["log.origin.file.line"]) == ("place_order", 88)
    assert placed["attributes"]["order.id"] == 42


def test_structured_body_is_kept_and_rendered(logs: SdkLogs, ctx: ParseContext) -> None:
    found = by_message(logs, ctx)
    structured = found['{"event":"checkout","items":[1,2],"ok":true}']
    assert structured["body.structured"] == {"event": "checkout", "items": [1, 2], "ok": True}
    assert structured["log.level"] == "debug"
    event = found["7"]
    assert event["otel.event_name"] == "session.start"
    assert "body.structured" not in event


def test_invalid_ids_on_a_log_are_kept_raw_and_flagged() -> None:
    doc = one(trace_id=bytes(16), span_id=b"\xab\xcd")
    assert not {"trace.id", "span.id"} & doc.keys()
    assert (doc["logtrace.raw_trace_id"], doc["logtrace.raw_span_id"]) == ("0" * 32, "abcd")
    assert doc["logtrace.parse.problems"] == ["trace_id_invalid", "span_id_invalid"]


@pytest.mark.parametrize(
    ("times", "timestamp", "problems"),
    [
        ({"time_unix_nano": T0 + 1, "observed_time_unix_nano": T0 + 2}, T0 + 1, None),
        ({"time_unix_nano": 0, "observed_time_unix_nano": T0 + 2}, T0 + 2, None),
        ({"time_unix_nano": 0}, CTX.received_ns, ["timestamp_missing"]),
        ({"time_unix_nano": T0 + 10 * 86_400 * 10**9}, CTX.received_ns, ["timestamp_out_of_range"]),
        ({"time_unix_nano": 2**64 - 1}, CTX.received_ns, ["timestamp_out_of_range"]),
    ],
)
def test_timestamp_fallbacks(times: dict[str, int], timestamp: int, problems: list[str] | None) -> None:
    doc = one(**times)
    assert doc["@timestamp"] == ns_to_iso(timestamp)
    assert doc.get("logtrace.parse.problems") == problems


def test_log_documents_carry_the_raw_log_core_fields(logs: SdkLogs, ctx: ParseContext) -> None:
    """One Kibana data view covers both: the fields raw-log documents always have are here too."""
    for doc in docs(parse_logs(logs.request.SerializeToString(), ctx)):
        assert {"@timestamp", "message", "log.level", "logtrace.format", "service.name"} <= doc.keys()
