"""`logtrace parse`: NDJSON out, formats by name, multiline grouping, zones, errors and usage errors."""

import importlib
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

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


OTLP_TESTDATA = Path(__file__).resolve().parents[2] / "parsers" / "otlp" / "testdata"


def _golden(case: str) -> tuple[bytes, list[dict]]:
    request = orjson.loads((OTLP_TESTDATA / f"{case}.json").read_bytes())
    expected = [
        orjson.loads(line) for line in (OTLP_TESTDATA / f"{case}.expected.ndjson").read_bytes().splitlines()
    ]
    return orjson.dumps(request), expected


def _as_format(docs: list[dict], fmt: str) -> list[dict]:
    return [{**doc, "logtrace.format": fmt} if "logtrace.format" in doc else doc for doc in docs]


@pytest.mark.parametrize(("case", "signal"), [("traces_shop", "traces"), ("logs_shop", "logs")])
def test_otlp_json_reads_one_request_per_line(case: str, signal: str) -> None:
    """Two OTLP/JSON requests on two lines give the golden documents twice, in order."""
    line, expected = _golden(case)
    code, docs = run([*RECEIVED, "--format", "otlp_json", "--signal", signal], line + b"\n" + line + b"\n")
    assert code == 0
    assert docs == expected + expected


def test_otlp_proto_reads_a_whole_request_or_a_delimited_stream() -> None:
    """otlp_proto maps one serialized request, or each of a varint-length-delimited stream."""
    from google.protobuf.internal.encoder import _VarintBytes

    from parsers.limits import DEFAULT_LIMITS
    from parsers.otlp.decode import TRACES, decode

    line, expected = _golden("traces_shop")
    proto = decode(line, TRACES, "otlp_json", DEFAULT_LIMITS).SerializeToString()
    code, docs = run([*RECEIVED, "--format", "otlp_proto"], proto)
    assert code == 0 and docs == _as_format(expected, "otlp_proto")
    stream = _VarintBytes(len(proto)) + proto + _VarintBytes(len(proto)) + proto
    code, docs = run([*RECEIVED, "--format", "otlp_proto", "--delimited"], stream)
    assert code == 0 and docs == _as_format(expected, "otlp_proto") * 2


def test_otlp_of_the_wrong_signal_is_an_error_line() -> None:
    """Logs parsed as traces give one error line with a specific reason, not a crash."""
    line, _ = _golden("logs_shop")
    code, [doc] = run([*RECEIVED, "--format", "otlp_json", "--signal", "traces"], line)
    assert code == 0
    assert doc["error"]["reason"].startswith("otlp_")


def test_unknown_signal_is_a_usage_error() -> None:
    """--signal takes traces or logs only."""
    code, _ = run(["--format", "otlp_json", "--signal", "metrics"])
    assert code == 2
