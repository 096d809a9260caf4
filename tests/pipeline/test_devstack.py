"""Unit tests of the dev stack's safety checks; no service is started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pipeline.cli.dev import dev_app
from pipeline.devstack import (
    DevStack,
    DevStackError,
    DevStackSettings,
    check_ports_free,
    new_cluster_id,
    owned_pid,
    pid_alive,
    tail,
    unsafe_state_dir_reason,
)

# Explicit ports so LOGTRACE_DEV_* variables in the environment cannot move them.
PORTS = {"kafka_port": 19092, "kafka_controller_port": 19093, "es_port": 19200, "es_transport_port": 19300}


def settings(state_dir: Path | str, **overrides: object) -> DevStackSettings:
    return DevStackSettings(state_dir=state_dir, **{**PORTS, "stop_grace_s": 5.0, **overrides})


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start sleeper processes whose argv we choose; all are killed at the end."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.kill()
        proc.wait()


def start_sleeper(
    procs: list[subprocess.Popen[bytes]], *extra_args: str, argv0: str = "java"
) -> subprocess.Popen[bytes]:
    """A Python sleeper posing as `argv0` with `extra_args` in its argv (ignored after `-c CODE`)."""
    command = [argv0, "-c", "import time; time.sleep(60)", *extra_args]
    proc = subprocess.Popen(command, executable=sys.executable)
    procs.append(proc)
    # Until exec, the forked child still shows our own command line.
    deadline = time.monotonic() + 10
    while Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")[1:2] != [b"-c"]:
        assert time.monotonic() < deadline, "the sleeper never exec'd"
        time.sleep(0.01)
    return proc


# ------------------------------------------------------------------------------------------- settings


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_state_dir_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        settings(bad)


def test_root_state_dir_is_rejected() -> None:
    with pytest.raises(ValidationError, match="filesystem root"):
        settings("/")


@pytest.mark.parametrize("top_level", ["/tmp", "/var", "/home"])
def test_top_level_state_dir_is_rejected(top_level: str) -> None:
    with pytest.raises(ValidationError, match="top-level"):
        settings(top_level)


def test_relative_state_dir_is_rejected() -> None:
    with pytest.raises(ValidationError, match="absolute"):
        settings("devstate")


def test_cwd_and_its_parents_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / "checkout" / "sub"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    with pytest.raises(ValidationError, match="current directory"):
        settings(work)
    with pytest.raises(ValidationError, match="current directory"):
        settings(work.parent)


def test_dir_inside_a_git_checkout_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    with pytest.raises(ValidationError, match="git checkout"):
        settings(tmp_path / "repo")
    with pytest.raises(ValidationError, match="git checkout"):
        settings(tmp_path / "repo" / "deep" / "state")


def test_env_var_with_empty_state_dir_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    # The exact failure that once deleted a checkout: a Makefile passing an empty variable.
    monkeypatch.setenv("LOGTRACE_DEV_STATE_DIR", "")
    with pytest.raises(ValidationError, match="must not be empty"):
        DevStackSettings(**PORTS)


def test_good_state_dir_is_accepted(tmp_path: Path) -> None:
    assert settings(tmp_path / "state").state_dir == tmp_path / "state"


@pytest.mark.parametrize("port", [0, 80, 65536, -1])
def test_port_out_of_range_is_rejected(tmp_path: Path, port: int) -> None:
    with pytest.raises(ValidationError, match="kafka_port"):
        settings(tmp_path / "state", kafka_port=port)


def test_kafka_ports_must_differ(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kafka_port and kafka_controller_port must differ"):
        settings(tmp_path / "state", kafka_port=19500, kafka_controller_port=19500)


def test_es_and_kafka_ports_must_differ(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="must differ"):
        settings(tmp_path / "state", es_port=PORTS["kafka_port"])


def test_unknown_setting_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="extra"):
        settings(tmp_path / "state", kafka_prot=1234)


def test_unsafe_reason_is_none_for_a_dedicated_dir(tmp_path: Path) -> None:
    assert unsafe_state_dir_reason(tmp_path / "logtrace-devstack") is None


# ---------------------------------------------------------------------------------------------- ports


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_taken_port_is_reported_with_its_holder(taken_port: int) -> None:
    with pytest.raises(DevStackError) as caught:
        check_ports_free([("kafka_port", taken_port, "Kafka client listener")])
    message = str(caught.value)
    assert f"port {taken_port}" in message
    assert "LOGTRACE_DEV_KAFKA_PORT" in message
    # This test process holds the socket, so it is the holder that gets named.
    assert f"pid {os.getpid()}" in message


def test_free_port_passes() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    check_ports_free([("es_port", port, "Elasticsearch HTTP")])


def test_up_refuses_a_taken_port_before_starting_anything(tmp_path: Path, taken_port: int) -> None:
    stack = DevStack(settings(tmp_path / "state", kafka_port=taken_port))
    with pytest.raises(DevStackError, match=f"port {taken_port}"):
        stack.up()
    assert not stack.paths.kafka_pid.exists()
    assert not stack.paths.cache.exists()


# ------------------------------------------------------------------------------------- reset & dirs


def test_reset_refuses_a_dir_without_marker(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    (foreign / "kafka" / "data").mkdir(parents=True)
    precious = foreign / "kafka" / "data" / "precious.txt"
    precious.write_text("keep me")
    with pytest.raises(DevStackError, match=r"no \.logtrace-devstack marker"):
        DevStack(settings(foreign)).reset()
    assert precious.read_text() == "keep me"


def test_reset_deletes_data_but_keeps_binaries(tmp_path: Path) -> None:
    stack = DevStack(settings(tmp_path / "state"))
    paths = stack.paths
    for directory in (paths.kafka_data, paths.es_data, paths.es_logs, paths.cache, paths.es_home("1.0")):
        directory.mkdir(parents=True)
        (directory / "file").write_text("x")
    paths.marker.write_text("")
    deleted = stack.reset()
    assert paths.kafka_data in deleted
    assert not paths.kafka_data.exists() and not paths.es_data.exists() and not paths.es_logs.exists()
    assert (paths.cache / "file").exists() and (paths.es_home("1.0") / "file").exists()
    assert paths.marker.exists()


def test_reset_does_not_follow_a_symlink_out_of_the_state_dir(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    stack = DevStack(settings(tmp_path / "state"))
    stack.paths.kafka_dir.mkdir(parents=True)
    stack.paths.marker.write_text("")
    stack.paths.kafka_data.symlink_to(outside)
    stack.reset()
    assert (outside / "precious.txt").read_text() == "keep me"
    assert not stack.paths.kafka_data.is_symlink()


def test_reset_of_missing_state_dir_is_a_no_op(tmp_path: Path) -> None:
    assert DevStack(settings(tmp_path / "never-created")).reset() == []


def test_up_refuses_a_non_empty_foreign_dir(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DevStackError, match="not empty and has no"):
        DevStack(settings(foreign)).up()


# ------------------------------------------------------------------------------- process ownership


def test_pid_file_of_a_foreign_process_is_not_ours(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    stack = DevStack(settings(tmp_path / "state"))
    stack.paths.kafka_dir.mkdir(parents=True)
    stack.paths.marker.write_text("")
    stranger = start_sleeper(spawn, "unrelated")
    stack.paths.kafka_pid.write_text(str(stranger.pid))
    assert owned_pid(stack.paths.kafka_pid, ("kafka.Kafka", str(stack.paths.kafka_config))) is None
    assert stack.status()[0].pid is None
    stack.down()
    assert pid_alive(stranger.pid), "down() must never signal a process that is not ours"
    assert not stack.paths.kafka_pid.exists(), "the stale pid file is cleaned up"


def test_a_non_java_process_with_our_arguments_is_not_ours(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    # e.g. `grep kafka.Kafka .../server.properties` run by a curious developer
    stack = DevStack(settings(tmp_path / "state"))
    stack.paths.kafka_dir.mkdir(parents=True)
    stack.paths.marker.write_text("")
    grep = start_sleeper(spawn, "kafka.Kafka", str(stack.paths.kafka_config), argv0="grep")
    stack.paths.kafka_pid.write_text(str(grep.pid))
    assert stack.status()[0].pid is None
    stack.down()
    assert pid_alive(grep.pid)


def test_down_stops_our_process(tmp_path: Path, spawn: list[subprocess.Popen[bytes]]) -> None:
    stack = DevStack(settings(tmp_path / "state"))
    stack.paths.kafka_dir.mkdir(parents=True)
    stack.paths.marker.write_text("")
    fake_kafka = start_sleeper(spawn, "kafka.Kafka", str(stack.paths.kafka_config))
    stack.paths.kafka_pid.write_text(f"{fake_kafka.pid}\n")
    assert owned_pid(stack.paths.kafka_pid, ("kafka.Kafka", str(stack.paths.kafka_config))) == fake_kafka.pid
    took = stack.down()
    assert took["kafka"] is not None and took["es"] is None
    assert not pid_alive(fake_kafka.pid)
    assert not stack.paths.kafka_pid.exists()


def test_down_finds_our_process_without_a_pid_file(
    tmp_path: Path, spawn: list[subprocess.Popen[bytes]]
) -> None:
    # A node that is still starting has no pid file yet; its command line still identifies it.
    stack = DevStack(settings(tmp_path / "state"))
    stack.paths.kafka_dir.mkdir(parents=True)
    stack.paths.marker.write_text("")
    fake_kafka = start_sleeper(spawn, "kafka.Kafka", str(stack.paths.kafka_config))
    assert stack.status()[0].pid == fake_kafka.pid
    stack.down()
    assert not pid_alive(fake_kafka.pid)


def test_pid_file_with_garbage_or_dead_pid_is_not_ours(tmp_path: Path) -> None:
    pid_file = tmp_path / "x.pid"
    pid_file.write_text("not a pid")
    assert owned_pid(pid_file, ("kafka.Kafka",)) is None
    finished = subprocess.Popen([sys.executable, "-c", "pass", "kafka.Kafka"])
    finished.wait()
    pid_file.write_text(str(finished.pid))
    assert owned_pid(pid_file, ("kafka.Kafka",)) is None
    assert owned_pid(tmp_path / "missing.pid", ("kafka.Kafka",)) is None


# -------------------------------------------------------------------------------------- small helpers


def test_cluster_id_is_22_url_safe_chars() -> None:
    for _ in range(50):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22
        assert set(cluster_id) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_tail_reads_the_end_of_a_file(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    log.write_text("".join(f"line {i}\n" for i in range(100_000)))
    assert tail(log, 3) == ["line 99997", "line 99998", "line 99999"]
    assert tail(tmp_path / "missing.log", 3) == []


def test_logs_rejects_unknown_service(tmp_path: Path) -> None:
    with pytest.raises(DevStackError, match="unknown service"):
        DevStack(settings(tmp_path / "state")).logs("zookeeper", 5)  # type: ignore[arg-type]


def test_cli_turns_a_bad_setting_into_a_one_line_error() -> None:
    result = CliRunner().invoke(dev_app, ["reset", "--yes"], env={"LOGTRACE_DEV_STATE_DIR": ""})
    assert result.exit_code == 1
    assert "invalid LOGTRACE_DEV_STATE_DIR: state_dir must not be empty" in result.output
    assert "Traceback" not in result.output
