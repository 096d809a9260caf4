"""Level normalization: every runtime's spelling to trace, debug, info, warn, error, fatal."""

import pytest

from parsers import levels


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("WARNING", "warn"),
        ("Warning", "warn"),
        ("W", "warn"),
        ("WRN", "warn"),
        ("SEVERE", "error"),
        ("ERRO", "error"),
        ("fail", "error"),
        ("E", "error"),
        ("err", "error"),
        ("Information", "info"),
        ("notice", "info"),
        ("INF", "info"),
        ("I", "info"),
        ("CRIT", "fatal"),
        ("critical", "fatal"),
        ("emerg", "fatal"),
        ("panic", "fatal"),
        ("dpanic", "fatal"),
        ("FINEST", "trace"),
        ("Verbose", "trace"),
        ("trace3", "trace"),
        ("FINE", "debug"),
        ("dbug", "debug"),
        (10, "trace"),
        (20, "debug"),
        (30, "info"),
        (40, "warn"),
        (50, "error"),
        (60, "fatal"),
        ("30", "info"),
        (35, "warn"),
    ],
)
def test_normalize(value: object, level: str) -> None:
    assert levels.normalize(value) == level


@pytest.mark.parametrize("value", ["LOUD", "", 5, 0, True, None, 1.5, ["info"]])
def test_unknown_levels(value: object) -> None:
    assert levels.normalize(value) is None


def test_syslog_severities() -> None:
    assert [levels.from_syslog_severity(s) for s in range(8)] == [
        "fatal",
        "fatal",
        "fatal",
        "error",
        "warn",
        "info",
        "info",
        "debug",
    ]


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("12:00 INFO  started", "INFO"),
        ("[Sun Dec 04 04:47:44 2005] [notice] ok", "notice"),
        ("[core:error] [pid 1] x", "error"),
        ("2026-12-03, Info   CBS  loaded", "Info"),
        ("see more info about the error in the docs", None),
        ("INFORMATIONAL text", None),
        ("/var/log/ERROR.log rotated", None),
    ],
)
def test_level_words_in_text(line: str, found: str | None) -> None:
    match = levels.LEVEL_IN_TEXT.search(line)
    assert (match and (match.group("b") or match.group("w"))) == found
