"""Golden files: each `testdata/<format>/<case>.log` parses to `<case>.expected.ndjson`.

`LOGTRACE_UPDATE_GOLDEN=1 pytest tests/parsers/test_golden.py` rewrites the expected files and fails,
so the change shows up as a diff to review before it is committed.
"""

import os
from pathlib import Path

import orjson
import pytest

from parsers.fields import is_declared
from tests.parsers.golden import case_id, cases, expected_path, render, run

UPDATE = os.environ.get("LOGTRACE_UPDATE_GOLDEN") == "1"
CASES = cases()
# Cases whose folder names a fixed format; auto-detection must reach the same documents (except
# `*_fixed` cases: input auto-detection rightly reads as another format).
FIXED = [path for path in CASES if path.parent.name != "auto" and not path.stem.endswith("_fixed")]


def test_enough_layouts() -> None:
    assert len(CASES) >= 20


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_golden(path: Path) -> None:
    actual = render(run(path))
    expected_file = expected_path(path)
    if UPDATE:
        expected_file.write_bytes(actual)
        pytest.fail(
            f"rewrote {expected_file.name}; review the diff and run again without LOGTRACE_UPDATE_GOLDEN"
        )
    assert expected_file.exists(), f"missing {expected_file}; run with LOGTRACE_UPDATE_GOLDEN=1"
    assert actual.decode().splitlines() == expected_file.read_text().splitlines()


@pytest.mark.parametrize("path", FIXED, ids=case_id)
def test_auto_detection_agrees(path: Path) -> None:
    assert run(path, "auto") == run(path)


@pytest.mark.parametrize("path", CASES, ids=case_id)
def test_expected_fields_are_declared(path: Path) -> None:
    expected_file = expected_path(path)
    assert expected_file.exists(), f"missing {expected_file}; run with LOGTRACE_UPDATE_GOLDEN=1"
    for line in expected_file.read_bytes().splitlines():
        doc = orjson.loads(line)
        if "error" in doc:
            continue
        undeclared = [key for key in doc if not is_declared(key)]
        assert not undeclared, f"{path.name}: undeclared fields {undeclared}"
        for key in ("@timestamp", "message", "logtrace.format"):
            assert key in doc
