"""`logtrace parse [--format F] [--signal S] [--delimited] [--multiline] [--tz Z] [--received-at T] [FILE|-]`.

Shows how logs will look.

Reads lines (one event per line, or grouped with --multiline), parses each like the pipeline does and
writes one ECS JSON document per line to stdout (NDJSON). Records the pipeline would dead-letter are
written to stdout too, in input order, as `{"error": {"reason": ..., "detail": ...}, "line": N}`.
Blank lines are skipped. The exit status is non-zero only for usage errors.
`--format otlp_json` reads one OTLP/JSON request per line; `--format otlp_proto` reads the file as one
serialized request, or with `--delimited` as a stream of varint-length-prefixed requests. `--signal`
says whether the requests hold traces or logs. `--patterns` adds `log.pattern.id`, `.template` and
`.params` to each log document, templates mined across the lines of the input (per service).
"""

import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Annotated, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import typer

from parsers.context import ParseContext
from parsers.multiline import group
from parsers.otlp import OTLP_FORMATS, SIGNALS, split_length_delimited
from parsers.raw import RAW_FORMATS, Parser
from parsers.result import ParseError
from parsers.timefmt import datetime_to_ns
from parsers.timestamps import zone_offset_s
from pipeline.cli._app import app
from pipeline.patterns import PatternMiner

# Raw formats are read line by line (or grouped by --multiline).
LINE_FORMATS: dict[str, Parser] = dict(RAW_FORMATS)
# OTLP formats, chosen with --signal: otlp_json is one request per line, otlp_proto whole records.
OTLP_LINE_FORMATS = frozenset({"otlp_json"})
OTLP_RECORD_FORMATS = frozenset({"otlp_proto"})
ALL_FORMATS = (*LINE_FORMATS, *OTLP_LINE_FORMATS, *OTLP_RECORD_FORMATS)
# How much of a dead-lettered input is echoed next to its error.
_ECHO_CHARS = 1000


def _zone(name: str) -> tzinfo:
    offset = zone_offset_s(name)
    if offset is not None:
        return timezone(timedelta(seconds=offset)) if offset else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise typer.BadParameter(f"unknown time zone {name!r}", param_hint="--tz") from err


def _received_ns(value: str | None) -> int:
    if value is None:
        return time.time_ns()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as err:
        raise typer.BadParameter(f"not an ISO 8601 time: {value!r}", param_hint="--received-at") from err
    return datetime_to_ns(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _records(stream: BinaryIO, multiline: bool) -> Iterator[bytes]:
    lines: Iterable[bytes] = stream
    if multiline:
        return group(lines)
    return (line.rstrip(b"\r\n") for line in lines)


def _write(outcome: list, number: int, record: bytes, out: BinaryIO, miner: PatternMiner | None) -> None:
    for item in outcome:
        if isinstance(item, ParseError):
            error = {"reason": item.reason, "detail": item.detail}
            echo = record[:_ECHO_CHARS].decode(errors="replace")
            out.write(orjson.dumps({"error": error, "line": number, "original": echo}) + b"\n")
        else:
            if miner is not None:
                miner.enrich(item)
            out.write(orjson.dumps(item) + b"\n")


@app.command("parse")
def parse_command(
    file: Annotated[str, typer.Argument(help="Log file to read, or - for standard input.")] = "-",
    fmt: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(ALL_FORMATS)}.")] = "auto",
    signal: Annotated[
        str, typer.Option("--signal", help=f"OTLP formats only: {' or '.join(SIGNALS)}.")
    ] = "traces",
    delimited: Annotated[
        bool, typer.Option("--delimited", help="otlp_proto only: varint-length-prefixed request stream.")
    ] = False,
    multiline: Annotated[
        bool, typer.Option("--multiline", help="Join continuation lines (stack traces) to the event above.")
    ] = False,
    tz: Annotated[
        str, typer.Option("--tz", help="Zone of timestamps written without one (name or +01:00).")
    ] = "UTC",
    received_at: Annotated[
        str | None,
        typer.Option("--received-at", help="Receive time (ISO 8601) used as fallback; default now."),
    ] = None,
    patterns: Annotated[
        bool, typer.Option("--patterns", help="Add log.pattern.* (templates mined across the input).")
    ] = False,
) -> None:
    """Parse log lines and print one ECS document per event as NDJSON."""
    if signal not in SIGNALS:
        raise typer.BadParameter(
            f"unknown signal {signal!r}; choose {' or '.join(SIGNALS)}", param_hint="--signal"
        )
    parser = LINE_FORMATS.get(fmt) or OTLP_FORMATS[signal].get(fmt)
    if parser is None:
        raise typer.BadParameter(
            f"unknown format {fmt!r}; choose one of {', '.join(ALL_FORMATS)}", param_hint="--format"
        )
    ctx = ParseContext(received_ns=_received_ns(received_at), default_tz=_zone(tz))
    source = sys.stdin.buffer if file == "-" else None
    if source is None and not Path(file).is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    out = sys.stdout.buffer
    miner = PatternMiner() if patterns else None
    with source or Path(file).open("rb") as stream:
        if fmt in OTLP_RECORD_FORMATS:
            data = stream.read()
            for number, record in enumerate(split_length_delimited(data) if delimited else [data], start=1):
                _write(parser(record, ctx), number, record, out, miner)
            out.flush()
            return
        for number, record in enumerate(_records(stream, multiline and fmt in LINE_FORMATS), start=1):
            if record.strip():
                _write(parser(record, ctx), number, record, out, miner)
    out.flush()
