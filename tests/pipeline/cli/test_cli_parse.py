"""`logtrace parse`: NDJSON out, formats by name, multiline grouping, zones, errors and usage errors."""

import importlib
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

import pipeline.cli.parse as parse_cli
from parsers.result import ParseError
from pipeline.cli import COMMAND_MODULES, app

# The console script imports every command module; with one alone Typer would drop the `parse` word.
for _module in COMMAND_MODULES:
    importlib.import_module(_module)
RECEIVED = ["--received-at", "2026-12-03T08:00:00Z"]
runner = CliRunner()


def run(args: list[str], stdin: bytes = b"") -> tuple[int, list[dict]]:
    result = runner.invoke(app, ["parse", *args], input=stdin)
    lines = [orjson.loads(line) for line in result.stdout_bytes.splitlines()] if result.exit_code == 0 else []
    return result.exit_code, lines


def test_parse_is_a_registered_command() -> None:
    assert "pipeline.cli.parse" in COMMAND_MODULES


def test_auto_detects_each_line_from_stdin() -> None:
    stdin = (
        b'{"level":"info","msg":"json","time":"2026-12-03T07:00:00Z"}\n'
        b"<13>Dec  3 07:00:01 web-1 app[1]: syslog\n"
        b"\n"
        b"2026-12-03 07:00:02,000 WARN [main] a.B - text\n"
    )
    code, docs = run([*RECEIVED, "-"], stdin)
    assert code == 0
    assert [d["logtrace.format"] for d in docs] == ["json", "syslog3164", "text"]
    assert [d["message"] for d in docs] == ["json", "syslog", "text"]


def test_file_argument_fixed_format_and_zone(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"2026-12-03 09:00:00 INFO started\n")
    code, [doc] = run(["--format", "text", "--tz", "Europe/Berlin", *RECEIVED, str(log)])
    assert code == 0
    assert doc["@timestamp"] == "2026-12-03T08:00:00.000000000Z"
    code, [doc] = run(["--format", "text", "--tz", "+02:00", *RECEIVED, str(log)])
    assert doc["@timestamp"] == "2026-12-03T07:00:00.000000000Z"


def test_multiline_groups_stack_traces() -> None:
    stdin = (
        b"2026-12-03 07:00:00 ERROR boom\njava.lang.IllegalStateException: y\n\tat a.B.c(B.java:1)\n"
        b"2026-12-03 07:00:01 INFO ok\n"
    )
    code, docs = run(["--multiline", *RECEIVED], stdin)
    assert code == 0
    assert len(docs) == 2
    assert docs[0]["error.type"] == "java.lang.IllegalStateException"
    code, docs = run([*RECEIVED], stdin)
    assert len(docs) == 4


def test_parse_errors_are_printed_in_order() -> None:
    code, docs = run([*RECEIVED], b'{"a":' * 40 + b"1" + b"}" * 40 + b"\nplain\n")
    assert code == 0
    assert docs[0]["error"]["reason"] == "json_too_deep"
    assert docs[0]["line"] == 1
    assert docs[1]["message"] == "plain"


def test_received_at_is_the_fallback_time() -> None:
    _, [doc] = run(["--received-at", "2026-12-03T09:30:00+01:00"], b"no time here\n")
    assert doc["@timestamp"] == "2026-12-03T08:30:00.000000000Z"
    assert doc["logtrace.parse.problems"] == ["timestamp_missing"]


@pytest.mark.parametrize(
    "args",
    [["--format", "yaml"], ["--tz", "Mars/Olympus"], ["--received-at", "tomorrow"], ["/no/such/file.log"]],
)
def test_usage_errors_exit_non_zero(args: list[str]) -> None:
    code, _ = run(args)
    assert code == 2


def test_record_formats_read_the_whole_input(monkeypatch: pytest.MonkeyPatch) -> None:
    def whole(raw: bytes, ctx: object) -> list:
        return [ParseError("seen", str(len(raw)))]

    monkeypatch.setitem(parse_cli.RECORD_FORMATS, "whole", whole)
    code, [doc] = run(["--format", "whole"], b"a\nb\n")
    assert code == 0
    assert doc["error"] == {"reason": "seen", "detail": "4"}
