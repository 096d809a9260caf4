"""Hostile input through one real worker: each record ends in exactly one expected place — the dead-letter
stream with a specific reason, or a document flagged with a specific parse problem — the rest of the
batch is indexed, the worker keeps running, and planted secrets appear nowhere.

The large record is 5 MB, not 50 MB: the broker's default `message.max.bytes` is ~1 MiB, so the raw topic
here is created with `max.message.bytes` = 6 MiB (and the worker fetches up to 8 MiB per partition);
50 MB would need broker-wide changes to the shared stack and cost CI time for no new code path (the parser
truncates anything over 1 MiB the same way).
"""

import asyncio
import json
from pathlib import Path

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs
from pydantic import ValidationError

from pipeline.config.worker import RawTopic, Rule
from pipeline.sink.routing import data_stream, is_ours
from tests.integration.reliability.oracle import Event, Oracle, SharedNames
from tests.integration.worker.harness import (
    WorkerProcess,
    es_request,
    run_setup,
    wait_until,
    worker_env,
)

HOSTILE_NAMES = ["../x", "*", ".security", "A-B", "a,b", "n" * 300]


def _rows(mark: str) -> list[tuple[str, Event]]:
    """(label, event) — every hostile record with its one expected outcome. `mark` prefixes secrets."""
    secret = f'"password": "{mark}h"'
    return [
        ("truncated_json", Event(f'{{"message": "abc", {secret}, "user": '.encode(), flag="json_invalid")),
        (
            "json_10000_deep",
            Event(
                f'{{{secret}, "a":'.encode() * 1 + b'{"a":' * 10_000 + b"1" + b"}" * 10_001,
                expect="json_too_deep",
            ),
        ),
        (
            "invalid_utf8",
            Event(f'{{"message": "bad \xff", {secret}}}'.encode("latin-1"), flag="invalid_utf8"),
        ),
        ("empty_record", Event(b"", expect="empty_record")),
        ("tombstone", Event(None, key=b"k", expect="empty_record")),
        ("large_50mb", Event(b'{"message": "' + b"x" * (50 * 1024 * 1024) + b'"}', flag="record_truncated")),
        (
            # Deeper than LOGTRACE_LIMIT_MAX_JSON_DEPTH=16 set below (the default, 32, would index it): the
            # configured limit reaches the worker's parsers.
            "json_20_deep_past_configured_limit",
            Event(f'{{{secret}, "a":'.encode() + b'{"a":' * 19 + b"1" + b"}" * 20, expect="json_too_deep"),
        ),
        (
            # No value reaches Elasticsearch with a conflicting type: the parser keeps a declared field only
            # when its value fits the mapping, else under `attributes` (and the index has ignore_malformed).
            "mapping_conflict_status_code_abc",
            Event(
                b'{"message": "m", "http.response.status_code": "abc"}',
                doc_check=lambda doc: (
                    "http.response.status_code" not in doc
                    and doc["attributes"]["http.response.status_code"] == "abc"
                ),
            ),
        ),
        (
            "keys_10000_checked",
            Event(
                json.dumps({f"q{i}": i for i in range(10_000)}).encode(),
                doc_check=lambda doc: doc["logtrace.attributes_dropped"] == 10_000 - 256,
            ),
        ),
        ("timestamp_missing", Event(b'{"message": "m"}', flag="timestamp_missing")),
        (
            "timestamp_year_99999",
            Event(b'{"message": "m", "@timestamp": "99999-01-01T00:00:00Z"}', flag="timestamp_unparsed"),
        ),
        (
            "timestamp_year_1",
            Event(b'{"message": "m", "@timestamp": "0001-01-01T00:00:00Z"}', flag="timestamp_out_of_range"),
        ),
        (
            "event_data_stream_fields",
            Event(
                json.dumps(
                    {
                        "message": "m",
                        "data_stream.dataset": "../x",
                        "data_stream.namespace": ".security",
                        "event.dataset": "*",
                        "data_stream": {"dataset": "a,b", "namespace": "A-B" + "n" * 300},
                    }
                ).encode()
            ),
        ),
        (
            "binary_key_and_header",
            Event(b'{"message": "m"}', key=b"\xff\x00\xfe\x80", headers=[("h\x00\x7f", b"\xff\x00\xc3\x28")]),
        ),
    ]


async def _create(stack, topics: dict[str, dict[str, str]]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=stack.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs=conf) for name, conf in topics.items()])
    finally:
        await admin.close()


def test_hostile_names_never_leave_our_prefixes() -> None:
    for value in HOSTILE_NAMES:
        for kind in ("logs", "traces", "metrics"):
            name = data_stream(kind, value, value)  # type: ignore[arg-type]
            assert is_ours(name) and name.startswith(f"{kind}-logtrace.") and len(name) < 255, name
        # Configuration refuses them outright (rules `set` and topic namespaces).
        with pytest.raises(ValidationError):
            RawTopic(topic="t", namespace=value)
        with pytest.raises(ValidationError):
            Rule(name="r", action="set", namespace=value)


@pytest.mark.timeout(180)
def test_hostile_records_through_a_real_worker(devstack, tmp_path: Path) -> None:
    run_setup(devstack)
    names = SharedNames.new()
    asyncio.run(
        _create(
            devstack,
            {names.raw: {"max.message.bytes": str(60 * 1024 * 1024)}, names.spans: {}, names.dlq: {}},
        )
    )
    raw = Oracle(devstack, names, "hostile_raw")
    spans = Oracle(devstack, names, "hostile_otlp", topic=names.spans)
    spans.secret_mark = raw.secret_mark
    rows = _rows(raw.secret_mark)
    for label, event in rows:
        event.label = label
    good_before, good_after = raw.planted(20), raw.planted(20, start=20)
    raw.produce([*good_before, *(event for _, event in rows), *good_after])
    # A realistic log record (with its time, field 1 fixed64): a span's field 1 is bytes, so the type is
    # detectable. A record with only severity_text is wire-identical to a span with only trace_state.
    wrong_type = ExportLogsServiceRequest(
        resource_logs=[
            ResourceLogs(
                scope_logs=[
                    ScopeLogs(
                        log_records=[
                            LogRecord(time_unix_nano=1_700_000_000_000_000_000, severity_text="INFO")
                        ]
                    )
                ]
            )
        ]
    ).SerializeToString()
    spans.produce([Event(wrong_type, expect="otlp_wrong_message_type", label="otlp_wrong_message_type")])

    env = worker_env(
        devstack,
        names,
        LOGTRACE_OTLP_LOGS_TOPIC="",
        LOGTRACE_BATCH_MAX_RECORDS="100",
        LOGTRACE_MAX_PARTITION_FETCH_BYTES=str(64 * 1024 * 1024),
        LOGTRACE_LIMIT_MAX_JSON_DEPTH="16",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    expected = len(raw.events) + len(spans.events)
    try:
        wait_until(
            lambda: len(raw.indexed_docs()) + len(raw.dead_docs()) + len(spans.dead_docs()) >= expected,
            120,
            what="every hostile record accounted",
        )
        assert worker.proc is not None and worker.proc.poll() is None, "the worker died"
        raw.check_commits()
        spans.check_commits()
        indices = es_request(
            devstack, "GET", f"/_cat/indices/*{names.namespace}*?format=json&expand_wildcards=all&h=index"
        )
    finally:
        worker.stop()
    raw.check([worker.log_path])
    spans.check([worker.log_path])
    # Nothing was routed anywhere but our own streams (event-supplied data_stream.* values are ignored).
    allowed = (
        f".ds-logs-logtrace.app-{names.namespace}-",
        f".ds-logs-logtrace.deadletter-{names.namespace}-",
        ".ds-metrics-logtrace.",
    )
    found = sorted(index["index"] for index in indices or [])
    assert found and all(name.startswith(allowed) for name in found), found
    print("indices:", found)
    for label, event in rows:
        outcome = event.expect if event.expect != "indexed" else f"indexed, flagged {event.flag}"
        print(f"hostile {label}: {outcome}")
