"""Suite-wide hooks: integration marking by folder, and the time spent per test group."""

from collections import defaultdict
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).parent
_group_seconds: dict[str, float] = defaultdict(float)


def _group(nodeid: str) -> str:
    """`tests/integration/sink/test_x.py::t` -> `integration/sink`; `tests/parsers/x.py` -> `parsers`."""
    parts = nodeid.split("::")[0].split("/")[1:-1]
    return "/".join(parts[:2]) or "."


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs the real stack: mark it so `-m` can select it."""
    for item in items:
        if "integration" in Path(str(item.fspath)).relative_to(TESTS_DIR).parts[:1]:
            item.add_marker(pytest.mark.integration)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _group_seconds[_group(report.nodeid)] += report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print seconds per test group, so each area's share of the CI budget is visible."""
    if not _group_seconds:
        return
    terminalreporter.section("time per test group")
    for group, seconds in sorted(_group_seconds.items(), key=lambda kv: -kv[1]):
        terminalreporter.write_line(f"{seconds:8.1f} s  {group}")
    terminalreporter.write_line(f"{sum(_group_seconds.values()):8.1f} s  total")
