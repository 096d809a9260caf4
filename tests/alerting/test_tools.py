"""The alerting config checked by the real tools: promtool (config, rules, rule unit tests) and amtool
(Alertmanager config, routing and escalation), plus the shape every alert must have (severity, team,
summary/description with the value, a runbook section in alerting/README.md)."""

import re

import pytest
import yaml

from tests.alerting.tools import (
    ALERTMANAGER_YML,
    PROMETHEUS_YML,
    README,
    RULE_FILES,
    UNIT_TEST_FILES,
    alert_rules,
    run,
)

pytestmark = pytest.mark.timeout(120)


def test_promtool_check_config() -> None:
    """prometheus.yml (scrape jobs, rule_files, alerting) and the rules it loads are valid."""
    done = run("promtool", "check", "config", str(PROMETHEUS_YML))
    assert done.returncode == 0, done.stdout
    assert f"{len(RULE_FILES)} rule files found" in done.stdout, done.stdout


def test_promtool_check_rules() -> None:
    """Every rule file is valid (syntax, PromQL, templates)."""
    done = run("promtool", "check", "rules", *map(str, RULE_FILES))
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("path", UNIT_TEST_FILES, ids=lambda path: path.name)
def test_promtool_rule_unit_tests(path) -> None:
    """Synthetic series: each alert fires when it should, not on a short spike, and resolves only after
    its clear condition holds (alerting/tests/*.yml)."""
    done = run("promtool", "test", "rules", str(path), cwd=path.parent)
    assert done.returncode == 0, done.stdout
    assert "SUCCESS" in done.stdout


def test_every_alert_is_unit_tested() -> None:
    """Each alert appears in at least one promtool unit test."""
    tested = " ".join(path.read_text() for path in UNIT_TEST_FILES)
    missing = [rule["alert"] for rule in alert_rules() if f"alertname: {rule['alert']}" not in tested]
    assert not missing, missing


def test_amtool_check_config() -> None:
    """alertmanager.yml is valid (routes, receivers, inhibition, time intervals)."""
    done = run("amtool", "check-config", str(ALERTMANAGER_YML))
    assert done.returncode == 0, done.stdout


def test_alertmanager_has_no_literal_secrets() -> None:
    """Webhook URLs, passwords and routing keys come from files, never from the config itself."""
    text = ALERTMANAGER_YML.read_text()
    for key in ("api_url:", "auth_password:", "routing_key:", "service_key:", "smtp_auth_password:"):
        assert not re.search(rf"^\s*{key}", text, re.MULTILINE), key
    assert "hooks.slack.com" not in text


ROUTES = [
    # (alert labels, receivers): critical pages and goes to the team's critical channels; warnings chat.
    ({"alertname": "LogtraceWorkerDown", "severity": "critical", "team": "observability"},
     "pager,observability-critical"),
    ({"alertname": "LogtraceConsumerLagGrowing", "severity": "warning", "team": "observability"},
     "observability-slack"),
    ({"alertname": "LogtraceServiceErrorBudgetBurnFast", "severity": "critical", "team": "services",
      "service": "payment"}, "pager,services-critical"),
    ({"alertname": "LogtraceServiceLatencyP99High", "severity": "warning", "team": "services",
      "service": "payment"}, "services-slack"),
    ({"alertname": "SomethingElse", "severity": "warning"}, "default"),
    ({"alertname": "SomethingElse", "severity": "critical"}, "pager,default"),
]


@pytest.mark.parametrize(("labels", "receivers"), ROUTES, ids=[f"{r[1]}:{r[0]['alertname']}" for r in ROUTES])
def test_amtool_routes(labels: dict[str, str], receivers: str) -> None:
    """`amtool config routes test` resolves each kind of alert to the expected receivers (escalation:
    critical alerts also reach the pager)."""
    argv = [f"{key}={value}" for key, value in labels.items()]
    done = run("amtool", "config", "routes", "test", f"--config.file={ALERTMANAGER_YML}",
               f"--verify.receivers={receivers}", *argv)
    assert done.returncode == 0, done.stdout


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smhd])", duration))


def test_critical_alerts_repeat_sooner() -> None:
    """Escalation: the paging route (all critical alerts, `continue`) repeats more often than the default,
    and every critical team route repeats sooner than its team's warning route."""
    route = yaml.safe_load(ALERTMANAGER_YML.read_text())["route"]
    default = _seconds(route["repeat_interval"])
    pager = next(child for child in route["routes"] if child["receiver"] == "pager")
    assert pager["matchers"] == ['severity="critical"'] and pager["continue"] is True
    assert _seconds(pager["repeat_interval"]) < default
    for team in (child for child in route["routes"] if child["receiver"] != "pager" and "routes" in child):
        critical = next(sub for sub in team["routes"] if 'severity="critical"' in sub["matchers"])
        team_repeat = team.get("repeat_interval", route["repeat_interval"])
        assert _seconds(critical["repeat_interval"]) < _seconds(team_repeat)


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_shape(rule: dict) -> None:
    """severity + team labels, summary/description with the value, a runbook URL to a README section that
    exists, and hysteresis (`for`, and `keep_firing_for` or a lower clear threshold via ALERTS)."""
    assert rule["labels"]["severity"] in {"critical", "warning", "info"}
    assert rule["labels"]["team"]
    annotations = rule["annotations"]
    assert annotations["summary"] and annotations["description"]
    assert "$value" in annotations["summary"] + annotations["description"]
    anchor = rule["alert"].lower()
    assert annotations["runbook_url"].endswith(f"README.md#{anchor}")
    headings = {re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
                for line in README.read_text().splitlines() if line.startswith("#")}
    assert anchor in headings, f"alerting/README.md has no section `### {rule['alert']}`"
    assert rule.get("for")
    assert rule.get("keep_firing_for") or f'ALERTS{{alertname="{rule["alert"]}"' in rule["expr"]
