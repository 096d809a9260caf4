"""records: Kafka record -> documents and dead letters, with coordinates and deterministic ids."""

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

from pipeline.demo import generate
from pipeline.records import (
    RawSpec,
    Record,
    decode_otlp_logs,
    decode_otlp_spans,
    decode_raw,
    problems_of,
    received_ns,
    zone,
)
from pipeline.sink.doc_ids import record_doc_id, span_id_doc

NOW = 1_796_000_000_000_000_000
SPEC = RawSpec("auto", "app", "default", "checkout", zone("UTC"))


def _record(
    value: bytes | None, topic: str = "app-logs", offset: int = 5, ts: int | None = 1_796_000_000_000
) -> Record:
    return Record(topic, 1, offset, ts, None, value)


def test_raw_record_becomes_one_item_with_coordinates_and_id() -> None:
    decoded = decode_raw(_record(b"level=warn msg=slow"), SPEC, now_ns=NOW)
    (item,) = decoded.items
    assert item.doc["log.level"] == "warn" and item.kind == "logs"
    assert item.doc_id == record_doc_id("app-logs", 1, 5, 0)
    assert (item.source.topic, item.source.partition, item.source.offset) == ("app-logs", 1, 5)
    assert item.source.timestamp_ms == 1_796_000_000_000 and item.raw == b"level=warn msg=slow"
    assert item.default_service == "checkout" and "service.name" not in item.doc
    assert decoded.formats == {"logfmt": 1} and decoded.dead == []


def test_the_same_record_gives_the_same_ids() -> None:
    first = decode_raw(_record(b'{"message": "a"}'), SPEC, now_ns=NOW)
    again = decode_raw(_record(b'{"message": "a"}'), SPEC, now_ns=NOW + 10**12)
    assert [i.doc_id for i in first.items] == [i.doc_id for i in again.items]


def test_empty_and_tombstone_records_are_dead_letters() -> None:
    for value in (None, b""):
        decoded = decode_raw(_record(value), SPEC, now_ns=NOW)
        assert decoded.items == [] and decoded.dead[0].reason == "empty_record"
        assert decoded.dead[0].doc_id == record_doc_id("app-logs", 1, 5, 0)


def test_parse_errors_are_dead_letters_with_the_record() -> None:
    spec = RawSpec("json", "app", "default", None, zone("UTC"))
    decoded = decode_raw(_record(b"  \n\t "), spec, now_ns=NOW)
    assert decoded.items == [] and len(decoded.dead) == 1
    letter = decoded.dead[0]
    assert letter.reason == "empty_record" and letter.error_type == "parse_error" and letter.raw == b"  \n\t "
    assert letter.source is not None and letter.source.offset == 5


def test_received_ns_falls_back_to_now() -> None:
    assert received_ns(_record(b"x", ts=None), NOW) == NOW
    assert received_ns(_record(b"x", ts=1_000), NOW) == 1_000_000_000


def test_otlp_spans_get_span_ids() -> None:
    batch = generate(1, seed=3)
    trace = batch.traces[0]
    items = []
    for _, value in batch.spans:
        decoded = decode_otlp_spans(
            _record(value, "otlp_spans"), encoding="otlp_proto", namespace="ns", now_ns=NOW
        )
        assert decoded.dead == []
        items += decoded.items
    assert {item.doc["span.id"] for item in items} == {span.span_id for span in trace.spans}
    for item in items:
        assert item.kind == "traces" and item.namespace == "ns"
        assert item.doc_id == span_id_doc(trace.trace_id, item.doc["span.id"])


def test_otlp_garbage_is_a_dead_letter() -> None:
    decoded = decode_otlp_spans(
        _record(b"\xff\x00garbage", "otlp_spans"), encoding="otlp_proto", namespace="ns", now_ns=NOW
    )
    assert decoded.items == [] and decoded.dead and decoded.dead[0].reason.startswith("otlp")


def test_otlp_logs_get_record_ids() -> None:
    request = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                scope_logs=[
                    ScopeLogs(
                        log_records=[
                            LogRecord(
                                time_unix_nano=NOW, severity_text="ERROR", trace_id=bytes.fromhex("ab" * 16)
                            ),
                            LogRecord(time_unix_nano=NOW, severity_text="INFO"),
                        ]
                    )
                ]
            )
        ]
    )
    decoded = decode_otlp_logs(
        _record(request.SerializeToString(), "otlp_logs"),
        encoding="otlp_proto",
        dataset="otlp",
        namespace="ns",
        now_ns=NOW,
    )
    assert [item.doc_id for item in decoded.items] == [record_doc_id("otlp_logs", 1, 5, i) for i in range(2)]
    assert decoded.items[0].doc["trace.id"] == "ab" * 16 and decoded.items[0].dataset == "otlp"


def test_problems_are_counted_by_reason() -> None:
    decoded = decode_raw(_record(b"just some text without a time"), SPEC, now_ns=NOW)
    assert problems_of(decoded.items).get("timestamp_missing") == 1
