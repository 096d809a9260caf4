"""Per-topic custom patterns: regex and grok forms, field mapping, fallback, and start-up errors."""

from datetime import UTC

import pytest

from parsers import custom
from parsers.context import ParseContext
from parsers.raw import TEXT_FORMATS
from parsers.timefmt import ns_to_iso

CTX = ParseContext(received_ns=1_796_284_800_000_000_000, default_tz=UTC)


def test_named_group_regex_maps_fields() -> None:
    patterns = custom.compile_patterns(
        {"pipes": r"(?P<timestamp>\S+ \S+) \| (?P<level>\w+) \| (?P<source__ip>[\d.]+) \| (?P<message>.*)"}
    )
    parse = custom.with_patterns(patterns, TEXT_FORMATS["auto"])
    [doc] = parse(
        b"2026-12-03 07:00:00 | WARNING | 10.0.0.1 | disk slow trace_id=4bf92f3577b34da6a3ce929d0e0e4736", CTX
    )
    assert doc == {
        "@timestamp": "2026-12-03T07:00:00.000000000Z",
        "message": "disk slow trace_id=4bf92f3577b34da6a3ce929d0e0e4736",
        "logtrace.format": "custom",
        "logtrace.pattern": "pipes",
        "log.level": "warn",
        "logtrace.level_original": "WARNING",
        "source.ip": "10.0.0.1",
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
    }


def test_grok_pattern_with_types_and_unknown_fields() -> None:
    patterns = custom.compile_patterns(
        [
            (
                "billing",
                "%{TIMESTAMP_ISO8601:time} %{LOGLEVEL:level} \\[%{DATA:thread}\\] "
                "order=%{INT:order_id:int} %{GREEDYDATA:message}",
            )
        ]
    )
    parse = custom.with_patterns(patterns, TEXT_FORMATS["auto"])
    [doc] = parse(b"2026-12-03T07:01:02.5Z ERROR [worker-2] order=1842 payment declined", CTX)
    assert doc["@timestamp"] == ns_to_iso(1_796_281_262_500_000_000)
    assert doc["process.thread.name"] == "worker-2"
    assert doc["attributes"] == {"order_id": 1842}
    assert doc["message"] == "payment declined"


def test_pcre_named_groups_are_accepted() -> None:
    [pattern] = custom.compile_patterns({"pcre": r"(?<level>[A-Z]+): (?<message>.*)"})
    assert pattern.regex.match("ERROR: x") is not None


def test_lines_no_pattern_matches_fall_back() -> None:
    patterns = custom.compile_patterns({"never": r"NEVER (?P<message>.*)"})
    parse = custom.with_patterns(patterns, TEXT_FORMATS["auto"])
    [doc] = parse(b'{"msg": "json still works", "level": "info"}', CTX)
    assert doc["logtrace.format"] == "json"
    assert "logtrace.pattern" not in doc


def test_first_matching_pattern_wins_and_no_message_group_keeps_line() -> None:
    patterns = custom.compile_patterns({"a": r"(?P<level>INFO) .*", "b": r"(?P<level>\w+) (?P<message>.*)"})
    [doc] = custom.with_patterns(patterns, TEXT_FORMATS["text"])(b"INFO hello\n  more", CTX)
    assert doc["logtrace.pattern"] == "a"
    assert doc["message"] == "INFO hello\n  more"


@pytest.mark.parametrize(
    ("patterns", "named"),
    [
        ({"broken": r"(?P<level>[A-Z+"}, "broken"),
        ({"ok": r"(?P<message>.*)", "unknown_grok": "%{NOPE:x}"}, "unknown_grok"),
        ({"nothing": r"\d+ .*"}, "nothing"),
        ({"dup": r"(?P<a>x)(?P<a>y)"}, "dup"),
    ],
)
def test_bad_pattern_is_a_start_up_error_naming_it(patterns: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=f"'{named}'"):
        custom.compile_patterns(patterns)


def test_recursive_grok_definitions_are_an_error() -> None:
    with pytest.raises(ValueError, match="'loop'"):
        custom.compile_patterns({"loop": "%{A:x}"}, {"A": "%{B}", "B": "%{A}"})


def test_bad_utf8_and_empty_records_still_flow() -> None:
    parse = custom.with_patterns(custom.compile_patterns({"p": r"(?P<message>.+)"}), TEXT_FORMATS["auto"])
    assert parse(b"  ", CTX)[0].reason == "empty_record"  # type: ignore[union-attr]
    [doc] = parse(b"\xff oops", CTX)
    assert doc["logtrace.parse.problems"] == ["invalid_utf8", "timestamp_missing"]  # type: ignore[index]
