"""`logtrace parse --patterns`: pattern fields on each log document, templates mined across the file."""

import importlib
from pathlib import Path

import orjson
from typer.testing import CliRunner

from pipeline.cli import COMMAND_MODULES, app

for _module in COMMAND_MODULES:
    importlib.import_module(_module)
runner = CliRunner()
LINES = (
    b"2026-12-03 07:00:01,000 ERROR [main] c.a.Db - Connection to 10.0.0.7:5432 refused after 3 retries\n"
    b'{"level":"info","msg":"Order 42 shipped to carol","service":"shop"}\n'
    b"not a log line at all\n"
    b"2026-12-03 07:00:02,000 ERROR [main] c.a.Db - Connection to 10.0.0.9:5432 refused after 5 retries\n"
)


def parse(args: list[str], tmp_path: Path) -> list[dict]:
    log = tmp_path / "app.log"
    log.write_bytes(LINES)
    result = runner.invoke(app, ["parse", "--received-at", "2026-12-03T08:00:00Z", *args, str(log)])
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout_bytes.splitlines()]


def test_patterns_adds_the_fields_to_every_document(tmp_path: Path) -> None:
    docs = parse(["--patterns"], tmp_path)
    assert all({"log.pattern.id", "log.pattern.template"} <= set(doc) for doc in docs)
    first, order, _, second = docs
    assert first["log.pattern.id"] == second["log.pattern.id"]
    assert second["log.pattern.template"] == "Connection to <IP> refused after <NUM> retries"
    assert second["log.pattern.params"] == ["10.0.0.9:5432", "5"]
    assert order["log.pattern.template"] == "Order <NUM> shipped to carol"


def test_without_the_flag_documents_are_unchanged(tmp_path: Path) -> None:
    docs = parse([], tmp_path)
    assert not any(key.startswith("log.pattern.") for doc in docs for key in doc)
