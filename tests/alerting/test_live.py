"""A real Prometheus on loopback scrapes a real `logtrace worker` that processes demo traffic with failing
payments: the shipped rules (with short `for:` and 1 s evaluation) evaluate without errors and the fast
error-budget burn alert goes pending and firing, seen through Prometheus's HTTP API. The same run checks
the contract: every metric name and label the rules and their annotations use is in the worker's /metrics.
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from pipeline import telemetry
from pipeline.demo import generate
from tests.alerting.tools import (
    ALERTMANAGER_YML,
    PROMETHEUS_YML,
    RULE_FILES,
    PrometheusProcess,
    alert_rules,
    all_rules,
    recorded_names,
    run,
    usage,
)
from tests.integration.worker.harness import (
    Names,
    WorkerProcess,
    create_topics,
    free_port,
    produce,
    run_setup,
    wait_until,
    worker_env,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]
# Labels Prometheus adds to every scraped series, and the labels of its synthetic ALERTS series.
TARGET_LABELS = {"job", "instance"}
ALERTS_LABELS = {"alertname", "alertstate"}
# Short timings of the test copy of the rules: evaluation every second, `for` of 2 s.
TEST_FOR = "2s"


@dataclass
class Live:
    """The running worker and Prometheus, and the exposition the worker served after the traffic."""

    worker: WorkerProcess
    prometheus: PrometheusProcess
    failing: set[tuple[str, str]]


def _test_rules(target: Path) -> None:
    """Copy the shipped rules with 1 s group intervals and short `for` / `keep_firing_for`."""
    for path in RULE_FILES:
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            group["interval"] = "1s"
            for rule in group["rules"]:
                if "alert" in rule:
                    rule["for"] = TEST_FOR
                    rule["keep_firing_for"] = TEST_FOR
        (target / path.name).write_text(yaml.safe_dump(doc, sort_keys=False))


def _test_config(target: Path, rules_dir: Path, worker_port: int) -> Path:
    """alerting/prometheus.yml with its static-config job pointed at the test worker, 1 s intervals."""
    config = yaml.safe_load(PROMETHEUS_YML.read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(rules_dir / "*.yml")]
    config.pop("alerting", None)
    static = next(job for job in config["scrape_configs"] if job["job_name"] == "logtrace-worker-static")
    static["static_configs"] = [{"targets": [f"127.0.0.1:{worker_port}"], "labels": {"env": "test"}}]
    config["scrape_configs"] = [static]
    path = target / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _traffic(stack: Any, names: Names, stop: threading.Event, failing: set[tuple[str, str]]) -> None:
    """Demo rounds (a share of payments fail) every second, plus records the OTLP decoder refuses."""
    seed = 100
    while not stop.is_set():
        batch = generate(10, seed=seed)
        for trace in batch.traces:
            failing.update((span.service, span.route or span.name) for span in trace.spans if span.error)
        produce(stack, names.spans, [*batch.spans, (b"bad", b"\xff\x00 not an OTLP request")])
        produce(stack, names.raw, batch.raw)
        seed += 1
        stop.wait(1.0)


@pytest.fixture(scope="module")
def live(devstack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Worker + traffic + Prometheus (own port and data dir), torn down in reverse order."""
    tmp = tmp_path_factory.mktemp("alerting-live")
    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 1, names.spans: 1, names.otlp_logs: 1})
    worker = WorkerProcess(worker_env(devstack, names), tmp / "worker.log").start()
    stop = threading.Event()
    failing: set[tuple[str, str]] = set()
    traffic = threading.Thread(target=_traffic, args=(devstack, names, stop, failing), daemon=True)
    prometheus: PrometheusProcess | None = None
    try:
        worker.wait_ready(90)
        rules_dir = tmp / "rules"
        rules_dir.mkdir()
        _test_rules(rules_dir)
        config = _test_config(tmp, rules_dir, worker.port)
        checked = run("promtool", "check", "config", str(config))
        assert checked.returncode == 0, checked.stdout
        traffic.start()
        prometheus = PrometheusProcess(config, tmp / "data", free_port(), tmp / "prometheus.log").start()
        prometheus.wait_ready()
        yield Live(worker, prometheus, failing)
    finally:
        stop.set()
        if traffic.is_alive():
            traffic.join(30)
        if prometheus is not None and prometheus.proc is not None:
            prometheus.stop()
        worker.stop()


def _alerts(live: Live, name: str) -> list[dict[str, Any]]:
    """Active (pending or firing) alerts named `name`, from Prometheus's /api/v1/alerts."""
    return [a for a in live.prometheus.api("alerts")["alerts"] if a["labels"]["alertname"] == name]


def test_worker_is_scraped_and_every_rule_evaluates(live: Live) -> None:
    """The static-config job scrapes the worker (up = 1) and no rule reports an evaluation error."""
    def scraped() -> bool:
        result = live.prometheus.api("query?query=up")["result"]
        return bool(result) and all(sample["value"][1] == "1" for sample in result)

    wait_until(scraped, 30, what="prometheus scraping the worker")
    wait_until(lambda: live.prometheus.api("query?query=logtrace:span_requests:rate5m")["result"], 60,
               what="recorded request rates")
    groups = live.prometheus.api("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) == len(list(all_rules()))
    broken = [(rule["name"], rule.get("lastError")) for rule in rules if rule["health"] != "ok"]
    assert not broken, broken


def test_error_budget_burn_goes_pending_then_firing(live: Live) -> None:
    """Failing payments through the pipeline: the fast burn alert is pending, then firing, for a failing
    service/operation, with its severity, team and filled-in summary."""
    states: set[str] = set()

    def firing() -> list[dict[str, Any]]:
        alerts = _alerts(live, "LogtraceServiceErrorBudgetBurnFast")
        states.update(alert["state"] for alert in alerts)
        return [alert for alert in alerts if alert["state"] == "firing"]

    alerts = wait_until(firing, 90, interval=0.25, what="LogtraceServiceErrorBudgetBurnFast firing")
    # It was pending before it fired: Prometheus's own ALERTS series recorded the pending state.
    pending = 'ALERTS{alertname="LogtraceServiceErrorBudgetBurnFast",alertstate="pending"}'
    history = live.prometheus.api(f"query?query={quote(f'count_over_time({pending}[10m])')}")["result"]
    assert "pending" in states or history, states
    alert = alerts[0]
    labels = alert["labels"]
    assert (labels["service"], labels["operation"]) in live.failing
    assert labels["severity"] == "critical" and labels["team"] == "services"
    assert labels["service"] in alert["annotations"]["summary"]
    assert "%" in alert["annotations"]["summary"]
    # The dead letters (refused OTLP records) fire their alert too.
    wait_until(lambda: [a for a in _alerts(live, "LogtraceDeadLettering") if a["state"] == "firing"], 60,
               interval=0.25, what="LogtraceDeadLettering firing")


# --- contract: the rules use only what the worker exposes ---

def _exposition(text: str) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Sample names -> label names seen, and family name -> type, from a Prometheus text exposition."""
    samples: dict[str, set[str]] = {}
    types: dict[str, str] = {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
    return samples, types


def _declared_labels() -> dict[str, tuple[str, ...]]:
    """Label names of the families declared in pipeline/telemetry.py (for families with no sample yet)."""
    declared: dict[str, tuple[str, ...]] = {}
    for value in vars(telemetry).values():
        name = getattr(value, "_name", None)
        if isinstance(name, str) and hasattr(value, "_labelnames"):
            declared[name] = tuple(value._labelnames)
    return declared


def _exposed_names(samples: dict[str, set[str]], types: dict[str, str]) -> dict[str, set[str] | None]:
    """Every sample name /metrics serves or would serve (families without samples yet): labels or None."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",),
                "summary": ("_sum", "_count", "")}
    names: dict[str, set[str] | None] = dict(samples)
    for family, kind in types.items():
        for suffix in suffixes.get(kind, ("",)):
            names.setdefault(family + suffix, None)
    return names


def test_rules_use_only_metrics_and_labels_the_worker_exposes(live: Live) -> None:
    """Every raw metric name in a rule expression or annotation is in the worker's /metrics output, every
    label matched, grouped on or templated ($labels.x) is on those series (or a target label), and every
    recording rule an expression reads is defined."""
    wait_until(lambda: "logtrace_span_errors_total{" in live.worker.metrics(), 60, what="error spans counted")
    wait_until(lambda: "logtrace_sink_dead_lettered_total{" in live.worker.metrics(), 60,
               what="dead letters counted")
    samples, types = _exposition(live.worker.metrics())
    exposed = _exposed_names(samples, types)
    declared = _declared_labels()
    recorded = recorded_names()

    def labels_of(metric: str) -> set[str]:
        if metric == "ALERTS":
            return ALERTS_LABELS | TARGET_LABELS | {"severity", "team"}
        if metric == "up":
            return set(TARGET_LABELS)
        seen = exposed.get(metric)
        if seen is None:
            family = re.sub(r"_(total|bucket|sum|count)$", "", metric)
            seen = set(declared.get(family, declared.get(metric, ())))
            if metric.endswith("_bucket"):
                seen.add("le")
        return seen | TARGET_LABELS

    # Labels of each recording rule's output: those of the series its expression reads (transitively).
    record_labels: dict[str, set[str]] = {}
    for rule in all_rules():
        if "record" in rule:
            found = usage(rule["expr"])
            record_labels[rule["record"]] = set().union(
                *(record_labels.get(m, set()) if m in recorded else labels_of(m) for m in found.metrics)
            ) | TARGET_LABELS

    problems: list[str] = []
    for rule in all_rules():
        name = rule.get("record") or rule["alert"]
        found = usage(rule["expr"])
        available: set[str] = set(TARGET_LABELS)
        for metric, matched in found.metrics.items():
            if ":" in metric:
                if metric not in recorded:
                    problems.append(f"{name}: reads undefined recording rule {metric}")
                available |= record_labels.get(metric, set())
                continue
            if metric not in ("up", "ALERTS") and metric not in exposed:
                problems.append(f"{name}: metric {metric} is not in /metrics")
                continue
            own = labels_of(metric)
            problems += [f"{name}: {metric} has no label {label}" for label in matched - own]
            available |= own
        problems += [f"{name}: groups on unknown label {label}" for label in found.grouping - available]
        templates = " ".join(str(value) for value in rule.get("annotations", {}).values())
        for metric in set(re.findall(r"\blogtrace_[a-z0-9_]+\b", templates)):
            if metric not in exposed:
                problems.append(f"{name}: annotation names {metric}, not in /metrics")
        for label in set(re.findall(r"\$labels\.(\w+)", templates)):
            if label not in available:
                problems.append(f"{name}: annotation uses $labels.{label}, not on its series")
    assert not problems, "\n".join(problems)

    # Alertmanager groups and inhibits on labels the alerts carry.
    alert_labels = set(TARGET_LABELS) | {"alertname"}
    for rule in alert_rules():
        alert_labels |= set(rule["labels"]) | set().union(
            *(record_labels.get(m, set()) if ":" in m else labels_of(m) for m in usage(rule["expr"]).metrics)
        )
    config = yaml.safe_load(ALERTMANAGER_YML.read_text())
    used = set(config["route"]["group_by"])
    for inhibit in config["inhibit_rules"]:
        used |= set(inhibit["equal"])
    assert used <= alert_labels, used - alert_labels
