"""Every committed ILM policy parses and validates with Elasticsearch's own code (x-pack-core).

The minimal dev node has no ILM API, so the policies are checked by running LifecyclePolicy.parse and
validate() from the x-pack-core jar of the very distribution the dev stack unpacked (same version as
production), through tests/pipeline/sink/java/IlmPolicyCheck.java.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.devstack import DevStackSettings, StackPaths, pom_versions
from pipeline.mappings import MAPPINGS_DIR

CHECKER = Path(__file__).resolve().parents[2] / "pipeline" / "sink" / "java" / "IlmPolicyCheck.java"

pytestmark = pytest.mark.timeout(120)


def _classpath() -> str:
    settings = DevStackSettings()
    es_version = settings.es_version or pom_versions()["es.version"]
    home = StackPaths(settings.state_dir).es_home(es_version)
    assert (home / "modules" / "x-pack-core").is_dir(), f"no unpacked Elasticsearch at {home}"
    return f"{home}/lib/*:{home}/modules/x-pack-core/*"


def _check(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    java = shutil.which("java")
    assert java, "java is needed (the dev stack runs on it)"
    return subprocess.run(
        [java, "-cp", _classpath(), str(CHECKER), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=100,
        check=False,
    )


def test_committed_policies_are_valid_for_elasticsearch(devstack, tmp_path: Path) -> None:
    policies = sorted((MAPPINGS_DIR / "ilm").glob("*.json"))
    # A policy Elasticsearch would refuse proves the checker really validates.
    bad = tmp_path / "logtrace-bad.json"
    bad.write_text('{"policy":{"phases":{"hot":{"actions":{"delete":{}}}}}}')
    result = _check([*policies, bad])
    lines = result.stdout.splitlines()
    assert sorted(line.split()[1] for line in lines if line.startswith("VALID")) == [
        p.stem for p in policies
    ], result.stdout + result.stderr
    assert any(
        line.startswith("INVALID logtrace-bad: ") and "invalid action [delete]" in line for line in lines
    )
    assert result.returncode == 1
