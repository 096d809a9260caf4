"""The pure waterfall: nesting, ordering, logs under their spans, rendering and JSON (pipeline.trace_view)."""

import io
import random

import pytest
from rich.console import Console

from parsers.timefmt import ns_to_iso
from pipeline.trace_view import LogLine, SpanNode, build, format_duration, parse_time_ns, render, to_json
from tests.kibana.sample_trace import MS, sample_trace

pytestmark = pytest.mark.timeout(10)
SAMPLE = sample_trace()


def _row_keys(waterfall) -> list[tuple[str, int]]:
    return [(row.item.span_id if isinstance(row.item, SpanNode) else row.item.message, row.depth)
            for row in waterfall.rows]


def _text(waterfall, width: int = 120, url: str | None = None) -> str:
    out = io.StringIO()
    render(waterfall, Console(file=out, width=width, color_system=None, highlight=False), url)
    return out.getvalue()


def test_spans_nest_by_parent_and_logs_sit_under_their_span_in_time_order() -> None:
    waterfall = build(SAMPLE.trace_id, SAMPLE.spans, SAMPLE.logs, SAMPLE.summary)
    assert _row_keys(waterfall) == SAMPLE.expected_rows
    assert waterfall.start_ns == SAMPLE.start_ns
    # The trace ends with its last event: the unattached log 0.5 ms after the root span ended.
    assert waterfall.end_ns == SAMPLE.start_ns + 1413 * MS


def test_input_order_does_not_matter() -> None:
    spans, logs = list(SAMPLE.spans), list(SAMPLE.logs)
    random.Random(7).shuffle(spans)
    random.Random(8).shuffle(logs)
    assert _row_keys(build(SAMPLE.trace_id, spans, logs)) == SAMPLE.expected_rows


def test_a_span_whose_parent_is_missing_is_a_root_and_reported() -> None:
    orphan = dict(SAMPLE.spans[4], **{"parent.id": "ffffffffffffffff"})  # SELECT stock loses its parent
    waterfall = build(SAMPLE.trace_id, [*SAMPLE.spans[:4], orphan, SAMPLE.spans[5]], [])
    roots = [row.item.name for row in waterfall.rows if row.depth == 0]
    assert roots == ["POST /checkout", "SELECT stock"]
    assert waterfall.missing_parents == ["ffffffffffffffff"]
    assert "parent spans not in the trace: ffffffffffffffff" in _text(waterfall)


def test_a_parent_cycle_does_not_loop_and_keeps_every_span() -> None:
    start = ns_to_iso(SAMPLE.start_ns)
    a = {"span.id": "a" * 16, "parent.id": "b" * 16, "span.name": "a", "@timestamp": start}
    b = {"span.id": "b" * 16, "parent.id": "a" * 16, "span.name": "b", "@timestamp": start}
    waterfall = build(SAMPLE.trace_id, [a, b], [])
    assert sorted(span.name for span in waterfall.spans) == ["a", "b"]
    assert len(waterfall.rows) == 2


def test_repeated_span_ids_count_once_and_duration_falls_back_to_end_minus_start() -> None:
    span = {k: v for k, v in SAMPLE.spans[0].items() if k != "event.duration"}
    waterfall = build(SAMPLE.trace_id, [span, span], [])
    assert len(waterfall.spans) == 1
    assert waterfall.spans[0].duration_ns == int(1412.5 * MS)


def test_failed_spans_and_error_logs_are_errors() -> None:
    waterfall = build(SAMPLE.trace_id, SAMPLE.spans, SAMPLE.logs)
    failed = [span.name for span in waterfall.spans if span.error]
    assert failed == ["SELECT stock"]
    assert waterfall.spans[4].error_text == "TimeoutError: statement timeout"
    assert waterfall.error_count == 2  # the failed span and the error log


def test_rendering_draws_the_tree_bars_on_one_axis_and_error_marks() -> None:
    url = "http://kibana.example:5601/app/discover#/view/logtrace-search-trace"
    text = _text(build(SAMPLE.trace_id, SAMPLE.spans, SAMPLE.logs, SAMPLE.summary), url=url)
    lines = text.splitlines()
    assert lines[0] == f"trace {SAMPLE.trace_id}"
    assert "POST /checkout (frontend)" in lines[1]
    assert "6 spans · 6 logs · 4 services · 2 errors" in lines[1]
    assert lines[-1] == f"Kibana: {url}"
    body = lines[3:-1]
    names = ["POST /checkout", "├─ · INFO  checkout started", "├─ auth.check", "│  └─ GET /token",
             "│     └─ · INFO  token issued", "├─ GET /inventory", "│  ├─ SELECT stock",
             "│  │    ✖ TimeoutError: statement timeout", "│  │  └─ · ERROR query cancelled after 150 ms",
             "│  └─ · WARN  falling back to cache", "└─ POST /charge", "   └─ · INFO  charge accepted",
             "· INFO  checkout done"]
    assert [line[: len(name)] for line, name in zip(body, names, strict=True)] == names
    bars = [line.count("█") for line in body]
    assert bars[0] == max(bars) > 40  # the root spans the whole axis
    assert bars[2] == 1  # a 12 ms span still gets one cell
    select, inventory = body[6], body[5]
    assert select.rstrip().endswith("█ ✖")
    assert select.index("█") >= inventory.index("█")  # a child starts no earlier than its parent
    assert all(len(line) <= 120 for line in body)


def test_log_dots_sit_at_their_time_on_the_axis() -> None:
    text = _text(build(SAMPLE.trace_id, SAMPLE.spans, SAMPLE.logs))
    lines = text.splitlines()[3:]
    started, done = lines[1], lines[-1]
    assert started.index("•") < done.index("•")
    assert done.rstrip().endswith("•")


def test_json_model_has_spans_in_display_order_with_their_logs() -> None:
    waterfall = build(SAMPLE.trace_id, SAMPLE.spans, SAMPLE.logs, SAMPLE.summary)
    model = to_json(waterfall, "http://kibana/x")
    span_ids = {span["span.id"] for span in SAMPLE.spans}
    assert [(span["span_id"], span["depth"]) for span in model["spans"]] == [
        row for row in SAMPLE.expected_rows if row[0] in span_ids
    ]
    select = model["spans"][4]
    assert select["name"] == "SELECT stock" and select["error"] is True
    assert select["offset_ns"] == 25 * MS and select["duration_ns"] == 150 * MS
    assert [log["message"] for log in select["logs"]] == ["query cancelled after 150 ms"]
    assert [log["message"] for log in model["unattached_logs"]] == ["checkout done"]
    assert model["summary"]["trace.summary.span_count"] == 6
    assert model["discover_url"] == "http://kibana/x"
    assert model["start"] == ns_to_iso(SAMPLE.start_ns)


def test_a_summary_that_counted_more_than_was_found_is_pointed_out() -> None:
    complete = _text(build(SAMPLE.trace_id, SAMPLE.spans, SAMPLE.logs, SAMPLE.summary))
    assert "trace summary counted" not in complete
    text = _text(build(SAMPLE.trace_id, SAMPLE.spans[:4], SAMPLE.logs, SAMPLE.summary))
    assert "the trace summary counted 6 spans and 6 logs when the trace closed" in text


def test_a_trace_of_logs_only_still_renders() -> None:
    waterfall = build(SAMPLE.trace_id, [], SAMPLE.logs)
    assert all(row.depth == 0 and isinstance(row.item, LogLine) for row in waterfall.rows)
    assert "no spans" in _text(waterfall)


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-12-03T08:00:00.123456789Z", 1_796_284_800_123_456_789),
    ("2026-12-03T08:00:00.123Z", 1_796_284_800_123_000_000),
    ("2026-12-03T08:00:00Z", 1_796_284_800_000_000_000),
    ("2026-12-03T10:00:00.5+02:00", 1_796_284_800_500_000_000),
    (1_796_284_800_123, 1_796_284_800_123_000_000),
    ("yesterday", None),
    (None, None),
    (True, None),
])
def test_times_parse_to_epoch_nanoseconds(value: object, expected: int | None) -> None:
    assert parse_time_ns(value) == expected


@pytest.mark.parametrize(("ns", "text"), [
    (850, "850 ns"), (12_300, "12.3 µs"), (412_500_000, "412.5 ms"), (2_040_000_000, "2.04 s"),
    (185_000_000_000, "3m 05s"),
])
def test_durations_read_as_durations(ns: int, text: str) -> None:
    assert format_duration(ns) == text
