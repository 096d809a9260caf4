"""A real Alertmanager (the Debian `prometheus-alertmanager` binary, own port and data dir) with the shipped
routes and inhibition rules: alerts posted to its API are inhibited exactly as the runbooks say (worker down
silences the lag alerts of its job; a service whose traffic stopped silences its latency and error alerts).
Receivers are emptied in the test copy, so nothing is sent anywhere."""

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.alerting.tools import ALERTMANAGER_YML, tool
from tests.integration.worker.harness import free_port

pytestmark = pytest.mark.timeout(60)


class Alertmanager:
    """An Alertmanager on 127.0.0.1 and its v2 API."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v2"

    def post(self, alerts: list[dict[str, Any]]) -> None:
        request = urllib.request.Request(f"{self.base}/alerts", data=json.dumps(alerts).encode(),
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    def alerts(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.base}/alerts", timeout=5) as response:
            return json.loads(response.read())


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    """alertmanager.yml with receivers stripped of their integrations, on a free loopback port."""
    tmp: Path = tmp_path_factory.mktemp("alertmanager")
    config = yaml.safe_load(ALERTMANAGER_YML.read_text())
    config["receivers"] = [{"name": receiver["name"]} for receiver in config["receivers"]]
    config["global"] = {"resolve_timeout": "5m"}
    (tmp / "alertmanager.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    argv = [tool("alertmanager"), f"--config.file={tmp / 'alertmanager.yml'}",
            f"--storage.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=", "--log.level=warn"]
    log = (tmp / "alertmanager.log").open("ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp / "alertmanager.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "alertmanager not ready after 30 s"
            time.sleep(0.2)
        yield Alertmanager(port)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()


def _alert(**labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"labels": labels, "annotations": {"summary": "test"},
            "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}


def _states(am: Alertmanager) -> dict[tuple[str, str], str]:
    """(alertname, job or service) -> state (active / suppressed)."""
    found = {}
    for alert in am.alerts():
        labels = alert["labels"]
        key = (labels["alertname"], labels.get("service") or labels.get("job", ""))
        found[key] = alert["status"]["state"]
    return found


def test_inhibition(alertmanager: Alertmanager) -> None:
    """Worker down silences lag/traffic alerts of its job only; traffic stopped silences latency/burn alerts
    of that service only; the source alerts stay active."""
    pipeline = {"team": "observability"}
    services = {"team": "services"}
    alertmanager.post([
        _alert(alertname="LogtraceWorkerDown", severity="critical", job="logtrace-worker", instance="w1:6066",
               **pipeline),
        _alert(alertname="LogtraceConsumerLagGrowing", severity="warning", job="logtrace-worker",
               topic="app-logs", **pipeline),
        _alert(alertname="LogtraceIngestLagHigh", severity="warning", job="logtrace-worker-static",
               **pipeline),
        _alert(alertname="LogtraceServiceTrafficStopped", severity="critical", job="logtrace-worker-static",
               service="inventory", **services),
        _alert(alertname="LogtraceServiceLatencyP99High", severity="warning", service="inventory",
               operation="GET /stock", **services),
        _alert(alertname="LogtraceServiceErrorBudgetBurnFast", severity="critical", service="payment",
               operation="POST /pay", **services),
        _alert(alertname="LogtraceServiceErrorBudgetBurnSlow", severity="warning", service="payment",
               operation="POST /pay", **services),
    ])
    expected = {
        ("LogtraceWorkerDown", "logtrace-worker"): "active",
        ("LogtraceConsumerLagGrowing", "logtrace-worker"): "suppressed",
        ("LogtraceIngestLagHigh", "logtrace-worker-static"): "active",  # another job: not caused by w1
        ("LogtraceServiceTrafficStopped", "inventory"): "active",
        ("LogtraceServiceLatencyP99High", "inventory"): "suppressed",
        ("LogtraceServiceErrorBudgetBurnFast", "payment"): "active",
        ("LogtraceServiceErrorBudgetBurnSlow", "payment"): "suppressed",
    }
    deadline = time.monotonic() + 20
    while _states(alertmanager) != expected and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _states(alertmanager) == expected
