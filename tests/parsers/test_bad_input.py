"""Hostile and broken records: limits, encodings and shapes never raise and are never silently lost."""

import time
from datetime import UTC

import pytest

from parsers.context import ParseContext
from parsers.limits import Limits
from parsers.raw import RAW_FORMATS
from parsers.result import ParseError

CTX = ParseContext(received_ns=1_796_284_800_000_000_000, default_tz=UTC)
SMALL = ParseContext(
    received_ns=CTX.received_ns, limits=Limits(max_record_bytes=64, max_message_chars=40, max_attributes=3)
)


@pytest.mark.parametrize("fmt", sorted(RAW_FORMATS))
def test_oversized_record_is_truncated_and_flagged(fmt: str) -> None:
    [doc] = RAW_FORMATS[fmt](b"2026-12-03 07:00:00 INFO " + b"x" * 200, SMALL)
    assert isinstance(doc, dict)
    assert "record_truncated" in doc["logtrace.parse.problems"]
    assert len(doc["message"]) <= 40


def test_truncation_does_not_split_a_character() -> None:
    [doc] = RAW_FORMATS["text"]("é".encode() * 100, SMALL)
    assert isinstance(doc, dict)
    assert doc["logtrace.parse.problems"][:1] == ["record_truncated"]
    assert "invalid_utf8" not in doc["logtrace.parse.problems"]


def test_truncated_json_is_kept_whole() -> None:
    [doc] = RAW_FORMATS["auto"](b'{"msg": "' + b"y" * 100 + b'"}', SMALL)
    assert isinstance(doc, dict)
    assert doc["logtrace.parse.problems"][:2] == ["record_truncated", "json_invalid"]


@pytest.mark.parametrize("fmt", sorted(RAW_FORMATS))
@pytest.mark.parametrize("raw", [b"", b" \t \r\n", b"\n"])
def test_empty_records_are_errors(fmt: str, raw: bytes) -> None:
    assert RAW_FORMATS[fmt](raw, CTX) == [
        ParseError("empty_record", "the record is empty or only whitespace")
    ]


def test_attribute_count_is_bounded() -> None:
    [doc] = RAW_FORMATS["json"](b'{"msg": "m", "a": 1, "b": 2, "c": 3, "d": 4, "e": 5}', SMALL)
    assert isinstance(doc, dict)
    assert len(doc["attributes"]) == 3
    assert doc["logtrace.attributes_dropped"] == 2


def test_input_cannot_set_pipeline_fields() -> None:
    [doc] = RAW_FORMATS["json"](
        b'{"msg": "m", "logtrace.format": "otlp", "logtrace.parse.problems": ["x"]}', CTX
    )
    assert isinstance(doc, dict)
    assert doc["logtrace.format"] == "json"
    assert doc["attributes"] == {"logtrace.format": "otlp", "logtrace.parse.problems": ["x"]}


def test_deep_json_is_an_error_result() -> None:
    raw = b'{"a":' * 33 + b"1" + b"}" * 33
    [error] = RAW_FORMATS["auto"](raw, CTX)
    assert isinstance(error, ParseError)
    assert error.reason == "json_too_deep"


@pytest.mark.parametrize("fmt", ["syslog", "access"])
def test_fixed_format_mismatch_becomes_a_flagged_text_document(fmt: str) -> None:
    [doc] = RAW_FORMATS[fmt](b"2026-12-03 07:00:00 INFO hello", CTX)
    assert isinstance(doc, dict)
    assert doc["logtrace.format"] == "text"
    assert doc["logtrace.parse.problems"] == [f"{fmt}_unparsed"]
    assert doc["message"] == "hello"


# Shapes that make a backtracking regex quadratic; at this size a quadratic parser takes seconds.
HOSTILE = {
    "brackets": b"[" * 30_000,
    "key_without_value": b"a" * 30_000,
    "escaped_quotes": b'1.1.1.1 - - [03/Dec/2026:07:00:00 +0000] "' + b'\\"' * 15_000,
    "open_structured_data": b'<13>1 2026-12-03T07:00:00Z h a - - [x a="' + b"\\" * 30_000,
    "many_anchors": b"trace_id=" * 3_000 + b"b3" * 10_000,
    "long_header": b"2026-12-03 07:00:00 INFO " + b"a" * 30_000 + b" : x",
}


@pytest.mark.parametrize("fmt", sorted(RAW_FORMATS))
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_lines_parse_in_linear_time(fmt: str, name: str) -> None:
    start = time.perf_counter()
    RAW_FORMATS[fmt](HOSTILE[name], CTX)
    assert time.perf_counter() - start < 1.0
