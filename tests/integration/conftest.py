"""The one real Kafka + Elasticsearch stack every integration test runs against, started once per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from pipeline.devstack import DevStack, DevStackError, DevStackSettings, UpResult
from tests.integration.worker import harness

# Seconds allowed to the first test that needs the stack: it pays for a cold start (Maven resolve, JVMs).
FIRST_USE_TIMEOUT_S = 300


def _timeout_of(item: pytest.Item) -> float | None:
    marker = item.get_closest_marker("timeout")
    if marker is None:
        return None
    value = marker.kwargs.get("timeout", marker.args[0] if marker.args else None)
    return float(value) if value is not None else None


# Session-scoped stacks whose first user starts them: the shared one, and security/'s private secure one.
STACK_FIXTURES = ("devstack", "secure_stack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Give the first test using each stack fixture (directly or via another fixture) the cold-start
    budget."""
    for fixture in STACK_FIXTURES:
        for item in items:
            if fixture in getattr(item, "fixturenames", ()):
                current = _timeout_of(item)
                if current is None or 0 < current < FIRST_USE_TIMEOUT_S:
                    item.add_marker(pytest.mark.timeout(FIRST_USE_TIMEOUT_S), append=False)
                break


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed test's report ends with the log tails of the workers it started (CI keeps no files)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "setup":
        harness.STARTED.clear()
    elif report.failed:
        for worker in harness.STARTED:
            report.sections.append((f"worker log {worker.log_path.name} (tail)", worker.tail(40, width=1500)))


@pytest.fixture(scope="session")
def devstack() -> UpResult:
    """Start the local stack (or reuse the running one); `.kafka_bootstrap` and `.es_url` say where it is.

    A stack that cannot start fails the test with the reason: integration tests are never skipped.
    """
    try:
        return DevStack(DevStackSettings()).up()
    except (DevStackError, ValidationError) as exc:
        pytest.fail(f"the local dev stack could not start: {exc}", pytrace=False)
