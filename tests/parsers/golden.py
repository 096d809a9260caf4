"""Shared by the golden-file tests: the fixed context, the cases on disk and how one case is run."""

from datetime import UTC
from pathlib import Path

import orjson

from parsers.context import ParseContext
from parsers.multiline import group
from parsers.raw import RAW_FORMATS
from parsers.result import Outcome, ParseError

TESTDATA = Path(__file__).parent / "testdata"
# 2026-12-03T08:00:00Z: the Kafka record time every golden case is parsed with.
RECEIVED_NS = 1_796_284_800_000_000_000
CTX = ParseContext(received_ns=RECEIVED_NS, default_tz=UTC)


def cases() -> list[Path]:
    """Every `<format>/<case>.log` file; the folder names the format it is parsed with."""
    return sorted(TESTDATA.glob("*/*.log"))


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def records(path: Path) -> list[bytes]:
    """One record per line; cases named `*multiline*` group continuation lines like `--multiline`."""
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return list(group(lines)) if "multiline" in path.stem else lines


def as_json(outcome: Outcome) -> list[dict]:
    """Documents as written, parse errors as `{"error": {...}}` (what the dead-letter topic gets)."""
    return [
        {"error": {"reason": item.reason, "detail": item.detail}} if isinstance(item, ParseError) else item
        for item in outcome
    ]


def run(path: Path, fmt: str | None = None) -> list[dict]:
    """Parse every record of a case with its folder's format (or `fmt`)."""
    parser = RAW_FORMATS[fmt or path.parent.name]
    out: list[dict] = []
    for record in records(path):
        out.extend(as_json(parser(record, CTX)))
    return out


def render(docs: list[dict]) -> bytes:
    return b"".join(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS) + b"\n" for doc in docs)


def expected_path(path: Path) -> Path:
    return path.with_suffix(".expected.ndjson")
