"""Property tests: arbitrary bytes and arbitrary JSON never make a parser raise, and what comes out is
serializable and uses declared fields only."""

from datetime import UTC

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers.context import ParseContext
from parsers.fields import is_declared
from parsers.limits import Limits
from parsers.raw import RAW_FORMATS
from parsers.result import Outcome, ParseError

CTX = ParseContext(
    received_ns=1_796_284_800_000_000_000,
    default_tz=UTC,
    limits=Limits(max_record_bytes=4096, max_attributes=32),
)
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
# Keys the parsers look for, so generated objects reach the interesting code paths.
known_keys = st.sampled_from(
    [
        "time",
        "ts",
        "@timestamp",
        "level",
        "msg",
        "message",
        "trace_id",
        "span_id",
        "traceparent",
        "b3",
        "uber-trace-id",
        "err",
        "error",
        "stack",
        "caller",
        "pid",
        "host",
        "log",
        "stream",
        "kubernetes",
        "source_type",
        "@metadata",
        "status",
        "request",
        "dd.trace_id",
        "labels",
        "attributes",
        "service",
        "@mt",
        "",
        ".",
        "a..b",
    ]
)
json_objects = st.dictionaries(known_keys | st.text(max_size=10), json_values, max_size=10)
# Lines shaped like the formats, with arbitrary parts.
shaped_lines = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(
        [
            "<34>",
            "<165>1 ",
            "Dec  3 ",
            "10.0.0.1 - - [",
            "level=",
            "2026-12-03 07:00:00 ",
            "2026-12-03T07:00:00Z stdout F ",
            "I1203 ",
            "03-17 ",
            "[",
            "{",
            "\x1b[31m",
            "",
        ]
    ),
    st.text(max_size=120),
)


def check(outcome: Outcome) -> None:
    assert isinstance(outcome, list) and outcome
    for item in outcome:
        if isinstance(item, ParseError):
            assert item.reason and item.reason != "error"
            continue
        orjson.dumps(item)
        for key in ("@timestamp", "message", "logtrace.format"):
            assert key in item
        undeclared = [key for key in item if not is_declared(key)]
        assert not undeclared


@SETTINGS
@given(st.binary(max_size=600))
def test_arbitrary_bytes(raw: bytes) -> None:
    for parse in RAW_FORMATS.values():
        check(parse(raw, CTX))


@SETTINGS
@given(json_objects)
def test_arbitrary_json_objects(obj: dict) -> None:
    raw = orjson.dumps(obj)
    for parse in RAW_FORMATS.values():
        check(parse(raw, CTX))


@SETTINGS
@given(json_values)
def test_arbitrary_json_values(value: object) -> None:
    check(RAW_FORMATS["json"](orjson.dumps(value), CTX))


@SETTINGS
@given(shaped_lines)
def test_lines_shaped_like_formats(line: str) -> None:
    raw = line.encode("utf-8", "surrogatepass")
    for parse in RAW_FORMATS.values():
        check(parse(raw, CTX))
