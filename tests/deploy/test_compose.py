"""docker-compose.yml is valid against the compose spec (checked by Debian's docker-compose, no engine)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def _config(path: Path) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.fail("docker-compose is not installed; `make test` installs the Debian package")
    return subprocess.run(
        [binary, "-f", str(path), "config", "-q"], capture_output=True, text=True, timeout=60
    )


def test_compose_file_validates() -> None:
    """The shipped compose file passes `docker-compose config -q`."""
    result = _config(COMPOSE)
    assert result.returncode == 0, result.stderr


def test_validator_rejects_a_broken_file(tmp_path: Path) -> None:
    """The validator is real: an unknown service key makes it fail."""
    broken = yaml.safe_load(COMPOSE.read_text())
    broken["services"]["worker"]["no_such_key"] = True
    path = tmp_path / "docker-compose.yml"
    path.write_text(yaml.safe_dump(broken))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert _config(path).returncode != 0


def test_services_wait_for_healthy_dependencies() -> None:
    """Kafka and Elasticsearch have healthchecks and the worker starts only after them and setup."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("kafka", "elasticsearch", "kibana"):
        assert "healthcheck" in services[name], name
    depends = services["worker"]["depends_on"]
    assert depends["kafka"]["condition"] == "service_healthy"
    assert depends["elasticsearch"]["condition"] == "service_healthy"
    assert depends["setup"]["condition"] == "service_completed_successfully"
    assert "ports" not in services["worker"], "a fixed host port would stop --scale worker=N"
