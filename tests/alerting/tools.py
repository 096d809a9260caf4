"""Helpers of the alerting tests: paths, the real promtool / amtool / prometheus binaries, and a PromQL
reader that lists the metric names and labels the rules use (for the contract with /metrics)."""

import json
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
ALERTING = REPO / "alerting"
RULES_DIR = ALERTING / "rules"
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
UNIT_TEST_FILES = sorted((ALERTING / "tests").glob("*.yml"))
PROMETHEUS_YML = ALERTING / "prometheus.yml"
ALERTMANAGER_YML = ALERTING / "alertmanager.yml"
README = ALERTING / "README.md"
TOOL_TIMEOUT_S = 60


def tool(name: str) -> str:
    """Path of a Debian-packaged binary; a clear failure (never a skip) when it is not installed."""
    found = shutil.which(name) or shutil.which(f"prometheus-{name}")
    assert found, f"`{name}` is not installed: apt-get install -y prometheus prometheus-alertmanager"
    return found


def run(*argv: str, cwd: Path = ALERTING) -> subprocess.CompletedProcess[str]:
    """Run a tool; the output is returned (stdout and stderr together) for assertion messages."""
    return subprocess.run([tool(argv[0]), *argv[1:]], cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=TOOL_TIMEOUT_S, check=False)


def rule_groups(path: Path) -> list[dict[str, Any]]:
    """The `groups` of one rule file."""
    return yaml.safe_load(path.read_text())["groups"]


def all_rules() -> Iterator[dict[str, Any]]:
    """Every recording and alerting rule of alerting/rules/*.yml."""
    for path in RULE_FILES:
        for group in rule_groups(path):
            yield from group["rules"]


def alert_rules() -> list[dict[str, Any]]:
    """Every alerting rule."""
    return [rule for rule in all_rules() if "alert" in rule]


# --- PromQL reading (enough for the rules' style: selectors, aggregations, vector matching) ---

_KEYWORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
             "offset", "bool", "atan2", "inf", "nan"}
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_SELECTOR_LABELS = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*\"([^\"]*)\"")
_IDENT = re.compile(r"(?<![\w:.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")


@dataclass
class Usage:
    """What one expression uses: metric names (with the labels matched on each) and grouping labels."""

    metrics: dict[str, set[str]] = field(default_factory=dict)
    grouping: set[str] = field(default_factory=set)
    matchers: list[tuple[str, str, str, str]] = field(default_factory=list)


def usage(expr: str) -> Usage:
    """Metric names and label names an expression uses (functions, keywords and durations excluded)."""
    found = Usage()
    for match in _GROUPING.finditer(expr):
        found.grouping.update(label.strip() for label in match.group(2).split(",") if label.strip())
    for match in _SELECTOR_LABELS.finditer(expr):
        name = match.group(1)
        for label, op, value in _MATCHER.findall(match.group(2)):
            if name:
                found.metrics.setdefault(name, set()).add(label)
                found.matchers.append((name, label, op, value))
    stripped = _GROUPING.sub(" ", expr)
    stripped = re.sub(r"\{[^}]*\}", " ", stripped)
    stripped = re.sub(r"\[[^\]]*\]", " ", stripped)
    stripped = re.sub(r"\boffset\s+\w+", " ", stripped)
    stripped = re.sub(r"\"[^\"]*\"", " ", stripped)
    for match in _IDENT.finditer(stripped):
        name, call = match.group(1), match.group(2)
        if call or name in _KEYWORDS:
            continue
        found.metrics.setdefault(name, set())
    return found


def recorded_names() -> set[str]:
    """Names of the recording rules."""
    return {rule["record"] for rule in all_rules() if "record" in rule}


# --- a real Prometheus on loopback ---

class PrometheusProcess:
    """`prometheus` on 127.0.0.1:`port` with its own data dir; its log goes to `log_path`."""

    def __init__(self, config: Path, data_dir: Path, port: int, log_path: Path) -> None:
        self.config, self.data_dir, self.port, self.log_path = config, data_dir, port, log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "PrometheusProcess":
        argv = [tool("prometheus"), f"--config.file={self.config}", f"--storage.tsdb.path={self.data_dir}",
                f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn"]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
        return self

    def api(self, path: str) -> Any:
        """GET /api/v1/<path>; the `data` of a successful answer."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/{path}", timeout=5) as response:
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"prometheus exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"prometheus not ready after {timeout} s\n{self.tail()}")

    def stop(self) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
