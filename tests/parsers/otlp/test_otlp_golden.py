"""Golden files: `testdata/<case>.json` (one OTLP/JSON request) → `<case>.expected.ndjson`.

`LOGTRACE_UPDATE_GOLDEN=1 pytest tests/parsers/otlp` rewrites the expected files (and fails, so a rewrite
is never mistaken for a pass); review the diff before committing it.
"""

import os
from pathlib import Path

import orjson
import pytest

from parsers.context import ParseContext
from parsers.fields import is_declared
from parsers.otlp import SIGNALS, parse_logs, parse_traces
from parsers.otlp.decode import LOGS, TRACES, decode
from parsers.result import Outcome, ParseError

TESTDATA = Path(__file__).parent / "testdata"
CASES = sorted(path.name.removesuffix(".json") for path in TESTDATA.glob("*.json"))
# An hour after the inputs' times (2026-01-01T00:00Z), so "from the far future" reads as such.
CTX = ParseContext(received_ns=1_767_229_200_000_000_000)


def _signal(raw: bytes) -> str:
    return "traces" if b'"resourceSpans"' in raw else "logs"


def render(outcome: Outcome) -> bytes:
    """One JSON line per document or error, keys sorted so diffs stay small."""
    lines = [
        {"parse_error": {"reason": item.reason, "detail": item.detail}}
        if isinstance(item, ParseError)
        else item
        for item in outcome
    ]
    return b"".join(orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n" for line in lines)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    raw = (TESTDATA / f"{case}.json").read_bytes()
    rendered = render(SIGNALS[_signal(raw)](raw, CTX, encoding="otlp_json"))
    expected_path = TESTDATA / f"{case}.expected.ndjson"
    if os.environ.get("LOGTRACE_UPDATE_GOLDEN") == "1":
        expected_path.write_bytes(rendered)
        pytest.fail(f"rewrote {expected_path.name}; unset LOGTRACE_UPDATE_GOLDEN and review the diff")
    assert rendered.decode() == expected_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES)
def test_golden_as_protobuf_gives_the_same_documents(case: str) -> None:
    raw = (TESTDATA / f"{case}.json").read_bytes()
    signal = _signal(raw)
    request = decode(raw, TRACES if signal == "traces" else LOGS, "otlp_json", CTX.limits)
    assert not isinstance(request, ParseError)
    from_json = SIGNALS[signal](raw, CTX, encoding="otlp_json")
    from_proto = SIGNALS[signal](request.SerializeToString(), CTX)
    for item in from_json:
        if isinstance(item, dict):
            item["logtrace.format"] = "otlp_proto"
    assert from_proto == from_json


@pytest.mark.parametrize("case", CASES)
def test_every_field_in_golden_output_is_declared(case: str) -> None:
    raw = (TESTDATA / f"{case}.json").read_bytes()
    for item in SIGNALS[_signal(raw)](raw, CTX, encoding="otlp_json"):
        if isinstance(item, dict):
            assert [key for key in item if not is_declared(key)] == []


def test_every_field_from_the_sdk_is_declared(traces, logs, ctx) -> None:
    produced = parse_traces(traces.request.SerializeToString(), ctx) + parse_logs(
        logs.request.SerializeToString(), ctx
    )
    keys = {key for item in produced if isinstance(item, dict) for key in item}
    assert sorted(key for key in keys if not is_declared(key)) == []
