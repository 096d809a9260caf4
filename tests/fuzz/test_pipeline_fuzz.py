"""Fuzz: arbitrary record bytes through the whole pure path — decode (raw formats, OTLP), enrich (default
redaction, timing, rules), routing and bulk encoding — never raise; every record ends as documents or
dead letters with a specific reason; everything encodes to valid bulk NDJSON inside logtrace's streams.

CI: 5 000 derandomized cases (LOGTRACE_FUZZ_EXAMPLES overrides, e.g. 100000 for a long local run).
"""

import json
import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config.worker import Rule
from pipeline.enrich.batch import BatchOptions, prepare
from pipeline.enrich.rules import TopicRules
from pipeline.records import Decoded, RawSpec, Record, decode_otlp_logs, decode_otlp_spans, decode_raw, zone
from pipeline.sink import actions
from pipeline.sink.routing import is_ours

EXAMPLES = int(os.environ.get("LOGTRACE_FUZZ_EXAMPLES", "5000"))
FORMATS = ("auto", "json", "logfmt", "syslog", "access", "text")
RULES = {
    "t": TopicRules(
        [
            Rule(name="cards", action="redact", pattern=r"[0-9]{13,16}"),
            Rule(name="route", action="set", dataset="x.y", when={"log.level": "error"}),
            Rule(name="tidy", action="rename", fields={"attributes.user": "user.name"}),
        ]
    )
}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40))
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=20), inner, max_size=6)
    ),
    max_leaves=25,
)
KEYS = st.sampled_from(
    [
        "message",
        "@timestamp",
        "level",
        "log.level",
        "trace.id",
        "span.id",
        "http.response.status_code",
        "client.ip",
        "service.name",
        "password",
        "authorization",
        "url.original",
        "event.duration",
        "data_stream.dataset",
        "attributes",
        "user",
        "time",
        "ts",
        "msg",
    ]
)
json_objects = st.dictionaries(st.one_of(KEYS, st.text(max_size=15)), json_values, max_size=10)
secrets_text = st.sampled_from(
    [
        "password=hunter2",
        "Authorization: Bearer abc.def",
        "4111 1111 1111 1111",
        "AKIAIOSFODNN7EXAMPLE",
        "postgres://u:p@h/db",
        "<134>1 2026-01-01T00:00:00Z h app - - - m",
        '127.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1',
        "level=info msg=x",
        "\x00\xff",
        "{",
        "[" * 50,
    ]
)
payloads = st.one_of(
    st.binary(max_size=300),
    json_objects.map(lambda obj: json.dumps(obj).encode()),
    st.lists(st.one_of(secrets_text, st.text(max_size=30)), max_size=6).map(lambda p: " ".join(p).encode()),
    st.tuples(json_objects, st.integers(0, 60)).map(lambda t: json.dumps(t[0]).encode()[: t[1]]),
)


def _check(decoded: Decoded) -> None:
    now = time.time_ns()
    prepared = prepare(decoded, now_ns=now, started_ns=now, options=BatchOptions(), rules=RULES)
    for letter in prepared.dead:
        assert letter.reason and letter.reason not in ("error", "exception", "unknown"), letter
    for pending in prepared.pending:
        assert is_ours(pending.data_stream), pending.data_stream
        try:
            encoded = actions.encode(pending)
        except actions.EncodeError:
            continue  # dead-lettered as document_serialization by the sink
        action, doc, tail = encoded.body.split(b"\n")
        assert tail == b""
        json.loads(action)
        assert isinstance(json.loads(doc), dict)


@pytest.mark.timeout(max(120, EXAMPLES // 20))
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    value=st.one_of(st.none(), payloads),
    key=st.one_of(st.none(), st.binary(max_size=16)),
    fmt=st.sampled_from(FORMATS),
    timestamp_ms=st.one_of(st.none(), st.integers(-(2**40), 2**45)),
    otlp=st.sampled_from(("none", "spans_proto", "spans_json", "logs_proto", "logs_json")),
)
def test_pure_path_never_raises(value, key, fmt, timestamp_ms, otlp) -> None:
    record = Record("t", 0, 7, timestamp_ms, key, value)
    now = time.time_ns()
    if otlp == "none":
        decoded = decode_raw(record, RawSpec(fmt, "app", "default", None, zone("UTC")), now_ns=now)
    elif otlp.startswith("spans"):
        encoding = "otlp_proto" if otlp.endswith("proto") else "otlp_json"
        decoded = decode_otlp_spans(record, encoding=encoding, namespace="default", now_ns=now)
    else:
        encoding = "otlp_proto" if otlp.endswith("proto") else "otlp_json"
        decoded = decode_otlp_logs(record, encoding=encoding, dataset="otlp", namespace="default", now_ns=now)
    assert decoded.items or decoded.dead or (otlp != "none" and value)
    _check(decoded)
