"""Trace / span ids from fields and text: every propagation format, normalization and rejection."""

import pytest

from parsers import correlation
from parsers.result import Doc

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


def written(found: correlation.Ids) -> tuple[Doc, list[str]]:
    doc: Doc = {}
    problems: list[str] = []
    correlation.write(found, doc, problems)
    return doc, problems


@pytest.mark.parametrize(
    ("text", "trace", "span"),
    [
        (f"trace_id={TRACE} span_id={SPAN}", TRACE, SPAN),
        (f'"traceId":"{TRACE.upper()}","spanId":"{SPAN}"', TRACE, SPAN),
        (f"trace.id: {TRACE}", TRACE, None),
        (f"traceparent=00-{TRACE}-{SPAN}-01", TRACE, SPAN),
        (f"X-B3-TraceId: 80f198ee56343ba8 X-B3-SpanId: {SPAN}", "000000000000000080f198ee56343ba8", SPAN),
        (f"b3={TRACE}-{SPAN}-1", TRACE, SPAN),
        ("uber-trace-id=7b34da6a3ce92:1a2b3c:0:1", "00000000000000000007b34da6a3ce92", "00000000001a2b3c"),
        (
            "dd.trace_id=1234567890123456789 dd.span_id=987654321",
            "0000000000000000112210f47de98115",
            "000000003ade68b1",
        ),
    ],
)
def test_ids_in_text(text: str, trace: str, span: str | None) -> None:
    doc, problems = written(correlation.from_text(f"request done {text} in 12ms"))
    assert doc.get("trace.id") == trace
    assert doc.get("span.id") == span
    assert problems == []


def test_parent_span_id_is_not_the_span_id() -> None:
    doc, _ = written(correlation.from_text(f"parent_span_id={SPAN} trace_id={TRACE}"))
    assert "span.id" not in doc


@pytest.mark.parametrize("value", ["0" * 32, "xyz", TRACE + "00", "g" * 32, "0x" + "0" * 32])
def test_rejected_trace_ids_are_kept_aside(value: str) -> None:
    doc, problems = written(correlation.Ids(trace=value))
    assert "trace.id" not in doc
    assert doc["logtrace.raw_trace_id"] == value
    assert problems == ["trace_id_invalid"]


def test_rejected_span_id_keeps_valid_trace() -> None:
    doc, problems = written(correlation.Ids(trace=TRACE, span="0000000000000000"))
    assert doc == {"trace.id": TRACE, "logtrace.raw_span_id": "0000000000000000"}
    assert problems == ["span_id_invalid"]


def test_explicit_id_wins_over_header() -> None:
    other = "0af7651916cd43dd8448eb211c80319c"
    doc, _ = written(correlation.Ids(trace=other, traceparent=f"00-{TRACE}-{SPAN}-01"))
    assert doc == {"trace.id": other, "span.id": SPAN}


def test_invalid_traceparent_version_ff_is_rejected() -> None:
    doc, problems = written(correlation.Ids(traceparent=f"ff-{TRACE}-{SPAN}-01"))
    assert "trace.id" not in doc
    assert problems == ["trace_id_invalid"]


def test_text_without_hints_is_not_searched() -> None:
    assert correlation.from_text("GET /index.html 200").empty()


def test_non_string_ids_are_rejected_not_raised() -> None:
    doc, problems = written(correlation.Ids(trace=12345, span=["a"]))
    assert doc == {"logtrace.raw_trace_id": "12345", "logtrace.raw_span_id": "['a']"}
    assert problems == ["trace_id_invalid", "span_id_invalid"]
