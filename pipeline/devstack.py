"""Local dev stack: a real Kafka 4 (KRaft) broker and a real Elasticsearch 8 node on 127.0.0.1, no Docker.

An opt-in secure mode (`secure=True`, for a separate state dir) adds TLS and authentication: a throwaway CA,
Elasticsearch with security on (HTTPS, a file-realm superuser), Kafka listeners SASL_SSL (SCRAM-SHA-512) and
SSL with required client certificates (mTLS) next to the plaintext one.

Binaries come from Maven (devstack/pom.xml) into a state dir outside the checkout. A process counts as ours
only if it is `java` with our main class and state dir in its command line (pid files are checked against
that), and nothing is deleted from a state dir that lacks our marker file: a past `reset` fed an empty state
dir deleted a whole checkout.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Service = Literal["kafka", "es"]
SERVICES: tuple[Service, ...] = ("kafka", "es")
MARKER_NAME = ".logtrace-devstack"
ES_USER = "logtrace-es"
ES_CLUSTER_NAME = "logtrace-dev"
PROBE_TOPIC = "__logtrace_devstack_probe"
# Secure mode: the file-realm superuser of Elasticsearch; Kafka's SCRAM users: a super user (the health
# probe) and an ordinary one that may do nothing until ACLs allow it (as on a real cluster).
ES_SUPERUSER = "logtrace-admin"
KAFKA_SCRAM_USER = "logtrace"
KAFKA_SCRAM_ADMIN = "logtrace-admin"
# Principal of the mTLS client certificate (Kafka's default mapping of the subject DN).
KAFKA_MTLS_PRINCIPAL = "User:CN=logtrace-client"
KAFKA_SCRAM_MECHANISM = "SCRAM-SHA-512"
# Also enabled on the SASL_SSL listener for the worker's user, so each mechanism the settings offer is
# tested live: SCRAM-SHA-256 (credential stored at format) and PLAIN (users in the listener's JAAS line).
KAFKA_OTHER_MECHANISMS = ("SCRAM-SHA-256", "PLAIN")
# Days the throwaway certificates are valid (a secure state dir older than that needs `reset` + new dir).
CERT_DAYS = 825
MIN_JAVA = 17
POM_PATH = Path(__file__).resolve().parents[1] / "devstack" / "pom.xml"
HOST = "127.0.0.1"
# Extra seconds after SIGKILL before down() gives up on a process.
_KILL_WAIT_S = 10.0
_POLL_S = 0.5

log = logging.getLogger(__name__)


class DevStackError(Exception):
    """A failure whose message is meant to be shown to the user as is (no traceback)."""


def unsafe_state_dir_reason(path: Path) -> str | None:
    """Why `path` must not be the state dir (reset deletes below it), or None when it is acceptable."""
    if not path.is_absolute():
        return f"state_dir must be an absolute path, got {str(path)!r}"
    resolved = path.resolve()
    if resolved == Path(resolved.anchor):
        return "state_dir must not be the filesystem root"
    if len(resolved.parts) < 3:
        return f"state_dir {resolved} is a top-level directory; use one like /var/tmp/logtrace-devstack"
    try:
        cwd = Path.cwd().resolve()
    except FileNotFoundError:
        return "the current directory no longer exists, so state_dir cannot be checked against it"
    if resolved == cwd or resolved in cwd.parents:
        return f"state_dir {resolved} is the current directory or one of its parents"
    home = Path.home().resolve()
    if resolved == home or resolved in home.parents:
        return f"state_dir {resolved} is the home directory or one of its parents"
    for directory in (resolved, *resolved.parents):
        if (directory / ".git").exists():
            return f"state_dir {resolved} is inside the git checkout {directory}; keep it outside checkouts"
    return None


class DevStackSettings(BaseSettings):
    """Where and how the dev stack runs; every field can also be set as LOGTRACE_DEV_<FIELD>."""

    model_config = SettingsConfigDict(
        env_prefix="LOGTRACE_DEV_", extra="forbid", frozen=True, validate_default=True
    )

    # Directory (absolute) for binaries, configs, data, logs and pid files. Outside any checkout and
    # traversable by the ES user; `reset` deletes the data and log dirs below it.
    state_dir: Path = Path("/var/tmp/logtrace-devstack")
    # TCP port on 127.0.0.1 of Kafka's client listener: the bootstrap address.
    kafka_port: int = Field(default=9092, ge=1024, le=65535)
    # TCP port on 127.0.0.1 of Kafka's KRaft controller listener.
    kafka_controller_port: int = Field(default=9093, ge=1024, le=65535)
    # TCP port on 127.0.0.1 of Elasticsearch's HTTP API.
    es_port: int = Field(default=9200, ge=1024, le=65535)
    # TCP port on 127.0.0.1 of Elasticsearch's node-to-node transport.
    es_transport_port: int = Field(default=9300, ge=1024, le=65535)
    # Elasticsearch JVM heap in MiB (-Xms = -Xmx).
    es_heap_mb: int = Field(default=512, ge=256, le=16384)
    # Kafka JVM heap in MiB (-Xms = -Xmx).
    kafka_heap_mb: int = Field(default=512, ge=128, le=16384)
    # Seconds up() waits for both services to be ready once launched (the Maven resolve is not included).
    start_timeout_s: float = Field(default=180.0, gt=0, le=3600)
    # Seconds the Maven resolve may take (a cold ~/.m2 downloads about 150 MB).
    resolve_timeout_s: float = Field(default=900.0, gt=0, le=7200)
    # Seconds down() waits after SIGTERM before it sends SIGKILL.
    stop_grace_s: float = Field(default=30.0, gt=0, le=600)
    # JDK home (>= 17) for both services; None = the `java` found on PATH.
    java_home: Path | None = None
    # Kafka / Elasticsearch versions; None = the defaults in devstack/pom.xml.
    kafka_version: str | None = Field(default=None, pattern=r"^[0-9][0-9A-Za-z.\-]*$")
    es_version: str | None = Field(default=None, pattern=r"^[0-9][0-9A-Za-z.\-]*$")
    # Secure mode, for tests of TLS and authentication; use it with its own state dir and ports. Adds a
    # throwaway CA and server/client certificates (`<state_dir>/security/`, made with the `openssl` CLI),
    # Elasticsearch with security on and HTTPS (superuser `logtrace-admin` in the file realm), and two Kafka
    # listeners: SASL_SSL with SCRAM-SHA-512 and SSL requiring a client certificate, with ACLs enforced
    # (StandardAuthorizer): the SCRAM user `logtrace` and the client certificate's principal
    # `User:CN=logtrace-client` may do nothing until ACLs allow it; `logtrace-admin` (SCRAM) is a super
    # user. The plaintext listener stays for the controller, inter-broker traffic and admin work in tests
    # (its principal ANONYMOUS is a super user: loopback only). Random
    # passwords are generated once into `security/credentials.json` (mode 600); `DevStack.security()`.
    secure: bool = False
    # Secure mode only: TCP port on 127.0.0.1 of Kafka's SASL_SSL (SCRAM-SHA-512) listener.
    kafka_sasl_ssl_port: int = Field(default=9094, ge=1024, le=65535)
    # Secure mode only: TCP port on 127.0.0.1 of Kafka's SSL listener with required client certificates.
    kafka_ssl_port: int = Field(default=9095, ge=1024, le=65535)

    @field_validator("state_dir", mode="before")
    @classmethod
    def _reject_empty(cls, value: object) -> object:
        # Checked before conversion: Path("") silently becomes Path(".").
        if isinstance(value, str) and not value.strip():
            raise ValueError("state_dir must not be empty")
        return value

    @field_validator("state_dir")
    @classmethod
    def _check_state_dir(cls, value: Path) -> Path:
        reason = unsafe_state_dir_reason(value)
        if reason:
            raise ValueError(reason)
        return value

    @model_validator(mode="after")
    def _distinct_ports(self) -> DevStackSettings:
        seen: dict[int, str] = {}
        names = ["kafka_port", "kafka_controller_port", "es_port", "es_transport_port"]
        if self.secure:
            names += ["kafka_sasl_ssl_port", "kafka_ssl_port"]
        for name in names:
            port = getattr(self, name)
            if port in seen:
                raise ValueError(f"{seen[port]} and {name} must differ (both are {port})")
            seen[port] = name
        return self

    @property
    def kafka_bootstrap(self) -> str:
        """Kafka bootstrap address for clients."""
        return f"{HOST}:{self.kafka_port}"

    @property
    def es_url(self) -> str:
        """Elasticsearch HTTP base URL (https in secure mode)."""
        return f"{'https' if self.secure else 'http'}://{HOST}:{self.es_port}"

    @property
    def kafka_sasl_ssl_bootstrap(self) -> str:
        """Secure mode: bootstrap address of the SASL_SSL (SCRAM-SHA-512) listener."""
        return f"{HOST}:{self.kafka_sasl_ssl_port}"

    @property
    def kafka_ssl_bootstrap(self) -> str:
        """Secure mode: bootstrap address of the SSL listener that requires a client certificate."""
        return f"{HOST}:{self.kafka_ssl_port}"


@dataclass(frozen=True)
class StackPaths:
    """Every file and directory the stack uses, all below one state dir."""

    root: Path

    @property
    def marker(self) -> Path:
        return self.root / MARKER_NAME

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def kafka_dir(self) -> Path:
        return self.root / "kafka"

    @property
    def kafka_config(self) -> Path:
        return self.kafka_dir / "server.properties"

    @property
    def kafka_log4j(self) -> Path:
        return self.kafka_dir / "log4j2.properties"

    @property
    def kafka_data(self) -> Path:
        return self.kafka_dir / "data"

    @property
    def kafka_logs(self) -> Path:
        return self.kafka_dir / "logs"

    @property
    def kafka_log(self) -> Path:
        return self.kafka_logs / "server.log"

    @property
    def kafka_out(self) -> Path:
        """JVM stdout/stderr: what happens before log4j is up (bad classpath, JVM options)."""
        return self.kafka_dir / "kafka.out"

    @property
    def kafka_format_out(self) -> Path:
        return self.kafka_dir / "format.out"

    @property
    def kafka_pid(self) -> Path:
        return self.kafka_dir / "kafka.pid"

    @property
    def es_dir(self) -> Path:
        return self.root / "es"

    @property
    def es_data(self) -> Path:
        return self.es_dir / "data"

    @property
    def es_logs(self) -> Path:
        return self.es_dir / "logs"

    @property
    def es_log(self) -> Path:
        return self.es_logs / f"{ES_CLUSTER_NAME}.log"

    @property
    def es_tmp(self) -> Path:
        return self.es_dir / "tmp"

    @property
    def es_pid(self) -> Path:
        return self.es_dir / "es.pid"

    @property
    def es_launcher_out(self) -> Path:
        return self.es_dir / "launcher.out"

    @property
    def security(self) -> Path:
        """Secure mode: certificates, keys and the generated credentials."""
        return self.root / "security"

    @property
    def credentials(self) -> Path:
        return self.security / "credentials.json"

    @property
    def ca_cert(self) -> Path:
        return self.security / "ca.pem"

    @property
    def ca_key(self) -> Path:
        return self.security / "ca.key"

    @property
    def server_cert(self) -> Path:
        """Certificate of both servers: CN localhost, SAN IP:127.0.0.1 and DNS:localhost."""
        return self.security / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.security / "server.key"

    @property
    def server_keystore(self) -> Path:
        """PKCS#12 of the server key and chain, for Kafka."""
        return self.security / "server.p12"

    @property
    def client_cert(self) -> Path:
        """Client certificate (CN logtrace-client) for Kafka's mTLS listener."""
        return self.security / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.security / "client.key"

    def kafka_libs(self, version: str) -> Path:
        return self.cache / f"kafka-{version}"

    def es_zip(self, version: str) -> Path:
        return self.cache / f"es-{version}" / f"elasticsearch-{version}.zip"

    def es_home(self, version: str) -> Path:
        return self.es_dir / f"elasticsearch-{version}"

    def resolved_stamp(self, kafka_version: str, es_version: str) -> Path:
        return self.cache / f".resolved-kafka-{kafka_version}-es-{es_version}"

    @property
    def wipeable(self) -> tuple[Path, ...]:
        """What `reset` deletes: data, logs and run files; binaries and the cache stay."""
        return (
            self.kafka_data, self.kafka_logs, self.kafka_out, self.kafka_format_out, self.kafka_pid,
            self.es_data, self.es_logs, self.es_tmp, self.es_launcher_out, self.es_pid,
        )  # fmt: skip


@dataclass(frozen=True)
class JavaRuntime:
    """The JDK both services run on."""

    java: Path  # the java executable
    home: Path  # JDK home, passed to Elasticsearch as ES_JAVA_HOME
    version: int  # feature version, e.g. 17


@dataclass(frozen=True)
class SecureAccess:
    """Secure mode: where the secured listeners are and how to authenticate (throwaway secrets)."""

    ca_file: Path  # PEM of the CA that signed both servers' certificate
    client_cert: Path  # PEM client certificate (signed by the same CA) for Kafka's mTLS listener
    client_key: Path  # its unencrypted private key
    es_url: str  # https://127.0.0.1:<es_port>
    es_username: str  # file-realm superuser
    es_password: str = dataclasses.field(repr=False)
    kafka_sasl_ssl_bootstrap: str = ""  # SASL_SSL listener, SCRAM-SHA-512
    kafka_ssl_bootstrap: str = ""  # SSL listener, client certificate required
    kafka_username: str = KAFKA_SCRAM_USER  # no rights until ACLs grant them (principal User:logtrace)
    kafka_password: str = dataclasses.field(default="", repr=False)
    kafka_admin_username: str = KAFKA_SCRAM_ADMIN  # a Kafka super user
    kafka_admin_password: str = dataclasses.field(default="", repr=False)
    kafka_mtls_principal: str = KAFKA_MTLS_PRINCIPAL  # no rights until ACLs grant them
    kafka_mechanism: str = KAFKA_SCRAM_MECHANISM

    def es_basic_auth(self) -> str:
        """The `Authorization` header value of the superuser."""
        token = base64.b64encode(f"{self.es_username}:{self.es_password}".encode()).decode()
        return f"Basic {token}"

    def ssl_context(self, client_cert: bool = False) -> ssl.SSLContext:
        """A client TLS context trusting only our CA; with `client_cert`, presenting our client cert."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        if client_cert:
            context.load_cert_chain(str(self.client_cert), str(self.client_key))
        return context


@dataclass(frozen=True)
class UpResult:
    """What `up()` did and where the services listen."""

    kafka_bootstrap: str
    es_url: str
    already_running: bool  # nothing had to be started
    started: tuple[Service, ...]
    timings: dict[str, float]  # seconds; keys: resolve_s, es_unpack_s, kafka_ready_s, es_ready_s, total_s
    security: SecureAccess | None = None  # secure mode only


@dataclass(frozen=True)
class ServiceStatus:
    """One service as `status()` sees it."""

    service: Service
    pid: int | None  # None = no process of ours
    address: str
    healthy: bool
    detail: str


# --------------------------------------------------------------------------------------------- processes


def _proc_cmdline(pid: int) -> list[str] | None:
    """The argv of a live process, or None when there is no such process (or it is a zombie)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The state letter follows the parenthesised command name, which may itself contain spaces.
    if stat_line.rpartition(")")[2].split()[0] in ("Z", "X"):
        return None
    return raw.decode(errors="replace").rstrip("\0").split("\0")


def pid_alive(pid: int) -> bool:
    """True while `pid` runs. A zombie counts as gone; if it is our child (we just stopped it), reap it."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    return _proc_cmdline(pid) is not None


def _matches(pid: int, marks: tuple[str, ...]) -> bool:
    """True when `pid` is a live `java` process and every mark occurs in one of its arguments."""
    argv = _proc_cmdline(pid)
    if argv is None or Path(argv[0]).name != "java":
        return False
    return all(any(mark in arg for arg in argv) for mark in marks)


def owned_pid(pid_file: Path, marks: tuple[str, ...]) -> int | None:
    """The pid in `pid_file` if that process is alive and its command line carries all `marks`."""
    try:
        pid = int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if pid > 1 and _matches(pid, marks) else None


def find_pids(marks: tuple[str, ...]) -> list[int]:
    """Every live process whose command line carries all `marks` (finds ours even without a pid file)."""
    own = os.getpid()
    pids = sorted(int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return [pid for pid in pids if pid != own and _matches(pid, marks)]


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """Wait up to `timeout_s` for the processes to exit; returns those still alive."""
    deadline = time.monotonic() + timeout_s
    alive = [pid for pid in pids if pid_alive(pid)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if pid_alive(pid)]
    return alive


# ------------------------------------------------------------------------------------------------- ports


def port_in_use(port: int, host: str = HOST) -> bool:
    """True when something listens on (or otherwise holds) `host:port`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR ignores TIME_WAIT leftovers of a stopped stack; Linux still refuses a bound listener.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _listening_inodes(port: int) -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A = LISTEN
                    inodes.add(fields[9])
    return inodes


def port_holder(port: int) -> str | None:
    """Best-effort 'pid N (command)' of the process listening on `port`, None if not found."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in wanted:
                        return f"pid {proc.name} ({_short_command(_proc_cmdline(int(proc.name)) or ['?'])})"
    return None


def _short_command(argv: list[str]) -> str:
    """A command line cut to something readable in one error line (JVM option lists are huge)."""
    text = " ".join(argv)
    if len(text) <= 80:
        return text
    return f"{Path(argv[0]).name} ... {argv[-1][-60:]}"


def check_ports_free(ports: list[tuple[str, int, str]]) -> None:
    """Raise DevStackError naming each (setting, port, purpose) whose port is already taken."""
    problems = []
    for setting, port, purpose in ports:
        if port_in_use(port):
            holder = port_holder(port) or "another process"
            problems.append(
                f"port {port} on {HOST} ({purpose}) is already in use by {holder}; stop it or set "
                f"LOGTRACE_DEV_{setting.upper()} to a free port"
            )
    if len(problems) == 1:
        raise DevStackError(problems[0])
    if problems:
        summary = f"{len(problems)} ports of the dev stack are already in use"
        raise DevStackError("\n".join([summary, *problems]))


# ------------------------------------------------------------------------------------------- small helpers


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a text file (reads only the end of big files); [] if it is missing."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            chunk = 8192
            while True:
                start = max(0, size - chunk)
                handle.seek(start)
                data = handle.read(size - start)
                if start == 0 or data.count(b"\n") > lines:
                    break
                chunk *= 4
    except FileNotFoundError:
        return []
    return data.decode(errors="replace").splitlines()[-lines:]


def _tail_block(*paths: Path, lines: int = 25) -> str:
    """Log tails formatted for an error message."""
    blocks = []
    for path in paths:
        text = tail(path, lines)
        if text:
            blocks.append(f"--- last lines of {path} ---\n" + "\n".join(text))
    return "\n".join(blocks) if blocks else "(no log output yet)"


def find_java(java_home: Path | None) -> JavaRuntime:
    """The JDK to run both services with; DevStackError if it is missing or older than MIN_JAVA."""
    if java_home is not None:
        java = java_home / "bin" / "java"
        if not java.is_file():
            raise DevStackError(f"LOGTRACE_DEV_JAVA_HOME={java_home} has no bin/java")
    else:
        found = shutil.which("java")
        if found is None:
            raise DevStackError(
                f"no `java` on PATH; install a JDK >= {MIN_JAVA} (Debian: apt-get install "
                "openjdk-17-jdk-headless) or set LOGTRACE_DEV_JAVA_HOME"
            )
        java = Path(found).resolve()
    try:
        probe = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DevStackError(f"cannot run {java} -version: {exc}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', probe.stderr + probe.stdout)
    if match is None:
        raise DevStackError(f"cannot tell the version of {java}: {probe.stderr.strip()[:200]}")
    major = int(match.group(1))
    version = int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8
    if version < MIN_JAVA:
        raise DevStackError(
            f"{java} is Java {version}; Kafka 4 and Elasticsearch 8 need Java >= {MIN_JAVA} "
            "(set LOGTRACE_DEV_JAVA_HOME to a newer JDK)"
        )
    return JavaRuntime(java=java, home=java.parent.parent, version=version)


def pom_versions(pom: Path = POM_PATH) -> dict[str, str]:
    """The <properties> of devstack/pom.xml, the one place the binary versions are written down."""
    try:
        root = ElementTree.parse(pom).getroot()
    except (OSError, ElementTree.ParseError) as exc:
        raise DevStackError(f"cannot read {pom} ({exc}); `logtrace dev` runs from a checkout") from None
    namespace = {"m": "http://maven.apache.org/POM/4.0.0"}
    properties = root.find("m:properties", namespace)
    if properties is None:
        raise DevStackError(f"{pom} has no <properties>")
    return {child.tag.split("}", 1)[1]: (child.text or "").strip() for child in properties}


def new_cluster_id() -> str:
    """A random Kafka cluster id (22 chars of url-safe base64; it may start with '-')."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def _safe_rmtree(target: Path, root: Path) -> None:
    """Delete `target` only if it lies strictly inside `root`; never follows a symlink."""
    if target.is_symlink():
        target.unlink()
        return
    resolved, base = target.resolve(), root.resolve()
    if resolved == base or not resolved.is_relative_to(base):
        raise DevStackError(f"refusing to delete {target}: it is not inside {root}")
    if resolved.is_dir():
        shutil.rmtree(resolved)
    elif resolved.exists():
        resolved.unlink()


@contextlib.contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Silence a chatty library logger while probing (retries are expected, not news)."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(previous)


async def _produce_probe(bootstrap: str, timeout_s: float, security: SecureAccess | None = None) -> None:
    auth: dict[str, object] = {}
    if security is not None:
        auth = {
            "security_protocol": "SASL_SSL",
            "ssl_context": security.ssl_context(),
            "sasl_mechanism": security.kafka_mechanism,
            "sasl_plain_username": security.kafka_admin_username,
            "sasl_plain_password": security.kafka_admin_password,
        }
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        client_id="logtrace-devstack-probe",
        request_timeout_ms=max(1000, int(timeout_s * 1000)),
        **auth,
    )
    try:
        await asyncio.wait_for(producer.start(), timeout_s)
        await asyncio.wait_for(producer.send_and_wait(PROBE_TOPIC, b"probe"), timeout_s)
    finally:
        with contextlib.suppress(Exception):
            await producer.stop()


def kafka_accepts_produce(bootstrap: str, timeout_s: float, security: SecureAccess | None = None) -> bool:
    """True when the broker at `bootstrap` acknowledges one record to PROBE_TOPIC within `timeout_s`.

    With `security`, `bootstrap` is the SASL_SSL listener and the probe authenticates with SCRAM over TLS.
    """
    # A private event loop in a worker thread: callers may already be inside a running loop.
    with _quiet_logger("aiokafka"), concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, _produce_probe(bootstrap, timeout_s, security)).result()
        except (KafkaError, OSError, TimeoutError, ssl.SSLError):
            return False
    return True


def es_health(es_url: str, timeout_s: float = 2.0, security: SecureAccess | None = None) -> str | None:
    """The cluster health colour, or None when Elasticsearch does not answer.

    With `security`, the request authenticates as the superuser and trusts only our CA.
    """
    request = urllib.request.Request(f"{es_url}/_cluster/health?timeout=1s")
    context = None
    if security is not None:
        request.add_header("Authorization", security.es_basic_auth())
        context = security.ssl_context()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s, context=context) as response:
            return str(json.load(response).get("status"))
    except (OSError, ValueError):  # URLError and HTTPError are OSErrors; ValueError = bad JSON
        return None


def _unzip(archive: Path, dest: Path) -> None:
    """Extract a zip keeping the Unix permission bits (zipfile drops them: bin/* must stay executable)."""
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            target = zipped.extract(info, dest)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _kafka_security_properties(
    settings: DevStackSettings, paths: StackPaths, keystore_password: str, plain_users: dict[str, str]
) -> str:
    """Secure mode: the SASL_SSL and SSL listeners' TLS and SASL settings."""
    plain = " ".join(f'user_{user}="{password}"' for user, password in plain_users.items())
    return f"""\
# Secure mode: SASL_SSL (SCRAM-SHA-512 and -256, users created at storage format; PLAIN) and SSL with
# client certificates.
sasl.enabled.mechanisms={",".join((KAFKA_SCRAM_MECHANISM, *KAFKA_OTHER_MECHANISMS))}
listener.name.sasl_ssl.{KAFKA_SCRAM_MECHANISM.lower()}.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=\
org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=\
org.apache.kafka.common.security.plain.PlainLoginModule required {plain};
ssl.keystore.type=PKCS12
ssl.keystore.location={paths.server_keystore}
ssl.keystore.password={keystore_password}
ssl.key.password={keystore_password}
ssl.truststore.type=PEM
ssl.truststore.location={paths.ca_cert}
listener.name.ssl.ssl.client.auth=required
# ACLs: deny by default. Super users: ANONYMOUS (the plaintext listener and the controller, loopback
# only: test-side admin) and the SCRAM user {KAFKA_SCRAM_ADMIN} (the health probe).
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS;User:{KAFKA_SCRAM_ADMIN}
allow.everyone.if.no.acl.found=false
"""


def _kafka_properties(
    settings: DevStackSettings,
    paths: StackPaths,
    keystore_password: str = "",
    plain_users: dict[str, str] | None = None,
) -> str:
    listeners = (
        f"PLAINTEXT://{HOST}:{settings.kafka_port},CONTROLLER://{HOST}:{settings.kafka_controller_port}"
    )
    advertised = f"PLAINTEXT://{HOST}:{settings.kafka_port}"
    protocols = "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
    security = ""
    if settings.secure:
        secured = f"SASL_SSL://{settings.kafka_sasl_ssl_bootstrap},SSL://{settings.kafka_ssl_bootstrap}"
        listeners += f",{secured}"
        advertised += f",{secured}"
        protocols += ",SASL_SSL:SASL_SSL,SSL:SSL"
        security = _kafka_security_properties(settings, paths, keystore_password, plain_users or {})
    return f"""\
# Written by `logtrace dev up` on every start; edit pipeline/devstack.py instead.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@{HOST}:{settings.kafka_controller_port}
listeners={listeners}
advertised.listeners={advertised}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map={protocols}
{security}log.dirs={paths.kafka_data}
num.partitions=4
auto.create.topics.enable=true
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
"""


def _kafka_log4j(paths: StackPaths) -> str:
    return f"""\
# Written by `logtrace dev up`: the broker logs to {paths.kafka_log}, 3 x 10 MB at most.
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = {paths.kafka_log}
appender.file.filePattern = {paths.kafka_log}.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 10MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
"""


def _es_yml(settings: DevStackSettings, paths: StackPaths) -> str:
    return f"""\
# Written by `logtrace dev up` on every start; edit pipeline/devstack.py instead.
cluster.name: {ES_CLUSTER_NAME}
node.name: {ES_CLUSTER_NAME}-1
discovery.type: single-node
network.host: {HOST}
http.port: {settings.es_port}
transport.port: {settings.es_transport_port}
path.data: {paths.es_data}
path.logs: {paths.es_logs}
xpack.security.enabled: false
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: false
# This minimal distribution cannot delete a data stream, so every test run's streams stay until
# `logtrace dev reset`; a higher shard cap than the default 1000 keeps a day of local runs working.
cluster.max_shards_per_node: 5000
"""


def _es_secure_yml(settings: DevStackSettings, paths: StackPaths) -> str:
    """Secure mode: the same node with security on, HTTPS with our certificate and the file realm."""
    plain = _es_yml(settings, paths).replace("xpack.security.enabled: false\n", "")
    return f"""{plain}\
# Secure mode: users in config/users (file realm; superuser {ES_SUPERUSER}), API keys and the native
# realm in the .security index; HTTPS with the throwaway certificate (copied into config/certs).
xpack.security.enabled: true
xpack.security.authc.api_key.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.certificate: certs/server.pem
xpack.security.http.ssl.key: certs/server.key
xpack.security.http.ssl.certificate_authorities: [certs/ca.pem]
xpack.security.transport.ssl.enabled: false
# File realm changes (users, users_roles, roles.yml) apply within a second.
resource.reload.interval.high: 1s
"""


def es_file_realm_hash(password: str, salt: bytes | None = None) -> str:
    """The `{PBKDF2}` hash Elasticsearch's file realm accepts in config/users (PBKDF2-HMAC-SHA512,
    10000 rounds, 32-byte salt and key, as ES's own Hasher.PBKDF2 writes it)."""
    salt = salt if salt is not None else os.urandom(32)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 10000, 32)
    return f"{{PBKDF2}}10000${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


# ---------------------------------------------------------------------------------------------- the stack


class DevStack:
    """Starts, stops and inspects the local Kafka + Elasticsearch processes of one state dir."""

    def __init__(
        self, settings: DevStackSettings | None = None, echo: Callable[[str], None] | None = None
    ) -> None:
        self.settings = settings or DevStackSettings()
        self.paths = StackPaths(self.settings.state_dir)
        self._echo = echo or log.info

    # ----------------------------------------------------------------------------------- public API

    def up(self) -> UpResult:
        """Start whatever is not running, wait until Kafka takes a produce and ES is yellow/green."""
        began = time.monotonic()
        timings: dict[str, float] = {}
        self._prepare_state_dir()
        with self._locked():
            security = self._ensure_security(timings) if self.settings.secure else None
            to_start = [service for service in SERVICES if self._pid(service) is None]
            java = None
            if to_start:
                check_ports_free([port for service in to_start for port in self._ports(service)])
                java = find_java(self.settings.java_home)
                self._resolve_binaries(timings)
            launched: dict[Service, float] = {}
            kafka_proc: subprocess.Popen[bytes] | None = None
            es_launcher: subprocess.Popen[bytes] | None = None
            try:
                if java is not None and "kafka" in to_start:
                    launched["kafka"] = time.monotonic()
                    kafka_proc = self._start_kafka(java)
                if java is not None and "es" in to_start:
                    es_launcher = self._start_es(java, timings)
                    launched["es"] = time.monotonic()
                deadline = time.monotonic() + self.settings.start_timeout_s
                self._wait_kafka(deadline, kafka_proc)
                if "kafka" in launched:
                    timings["kafka_ready_s"] = time.monotonic() - launched["kafka"]
                self._wait_es(deadline, es_launcher)
                if "es" in launched:
                    timings["es_ready_s"] = time.monotonic() - launched["es"]
            except BaseException:  # also Ctrl-C: a half-started JVM would block the next `up`
                self._abandon(kafka_proc, es_launcher)
                raise
        timings["total_s"] = time.monotonic() - began
        if to_start:
            self._echo(f"started {', '.join(to_start)}: Kafka {self.settings.kafka_bootstrap}, "
                       f"Elasticsearch {self.settings.es_url}")  # fmt: skip
        else:
            self._echo(f"already running and healthy: Kafka {self.settings.kafka_bootstrap}, "
                       f"Elasticsearch {self.settings.es_url}")  # fmt: skip
        return UpResult(
            kafka_bootstrap=self.settings.kafka_bootstrap,
            es_url=self.settings.es_url,
            already_running=not to_start,
            started=tuple(to_start),
            timings=timings,
            security=security,
        )

    def down(self) -> dict[Service, float | None]:
        """Stop our processes (SIGTERM, SIGKILL after the grace period); seconds taken, None = not running."""
        if not self.paths.marker.is_file():
            self._echo(f"nothing to stop: {self.paths.root} is not a dev stack state dir")
            return {service: None for service in SERVICES}
        with self._locked():
            return self._stop_all()

    def status(self) -> list[ServiceStatus]:
        """Pid, address and health of each service (health only asked of processes that are ours)."""
        result = []
        for service in SERVICES:
            pid = self._pid(service)
            address = self.settings.kafka_bootstrap if service == "kafka" else self.settings.es_url
            if pid is None:
                port = self.settings.kafka_port if service == "kafka" else self.settings.es_port
                detail = "not running"
                if port_in_use(port):
                    detail += f"; port {port} is held by {port_holder(port) or 'another process'}"
                result.append(ServiceStatus(service, None, address, False, detail))
            elif service == "kafka":
                healthy = self._kafka_ready(timeout_s=5.0)
                detail = "accepts produce" if healthy else "running, not accepting produce yet"
                if self.settings.secure:
                    detail += " (SASL_SSL, SCRAM)"
                result.append(ServiceStatus(service, pid, address, healthy, detail))
            else:
                colour = es_health(address, security=self._security_if_any())
                healthy = colour in ("green", "yellow")
                detail = f"cluster health {colour}" if colour else "running, HTTP not answering yet"
                result.append(ServiceStatus(service, pid, address, healthy, detail))
        return result

    def security(self) -> SecureAccess:
        """Secure mode: CA, client certificate, listeners and the generated credentials of this stack."""
        if not self.settings.secure:
            raise DevStackError("the dev stack is not in secure mode (LOGTRACE_DEV_SECURE)")
        paths = self.paths
        try:
            secret = json.loads(paths.credentials.read_text())
        except (OSError, ValueError):
            raise DevStackError(
                f"no credentials at {paths.credentials}; `up` generates them in secure mode"
            ) from None
        return SecureAccess(
            ca_file=paths.ca_cert,
            client_cert=paths.client_cert,
            client_key=paths.client_key,
            es_url=self.settings.es_url,
            es_username=ES_SUPERUSER,
            es_password=secret["es_password"],
            kafka_sasl_ssl_bootstrap=self.settings.kafka_sasl_ssl_bootstrap,
            kafka_ssl_bootstrap=self.settings.kafka_ssl_bootstrap,
            kafka_password=secret["kafka_password"],
            kafka_admin_password=secret["kafka_admin_password"],
        )

    def _security_if_any(self) -> SecureAccess | None:
        return self.security() if self.settings.secure else None

    def _kafka_ready(self, timeout_s: float) -> bool:
        """Kafka takes a produce: on the plaintext listener, or in secure mode over SASL_SSL with SCRAM."""
        if self.settings.secure:
            return kafka_accepts_produce(
                self.settings.kafka_sasl_ssl_bootstrap, timeout_s, security=self.security()
            )
        return kafka_accepts_produce(self.settings.kafka_bootstrap, timeout_s=timeout_s)

    def logs(self, service: Service, lines: int = 50) -> list[str]:
        """The last `lines` lines of a service's main log ([] before it first ran)."""
        if service not in SERVICES:
            raise DevStackError(f"unknown service {service!r}; choose one of {', '.join(SERVICES)}")
        if lines < 1:
            raise DevStackError("lines must be at least 1")
        return tail(self.paths.kafka_log if service == "kafka" else self.paths.es_log, lines)

    def reset(self) -> list[Path]:
        """Stop everything, then delete data, logs and run files (binaries stay); returns what was deleted."""
        root = self.paths.root
        reason = unsafe_state_dir_reason(root)
        if reason:
            raise DevStackError(f"refusing to reset: {reason}")
        if not root.exists():
            self._echo(f"nothing to reset: {root} does not exist")
            return []
        if not self.paths.marker.is_file():
            raise DevStackError(
                f"refusing to reset {root}: it has no {MARKER_NAME} marker, so logtrace dev did not create it"
            )
        self.down()
        deleted = []
        with self._locked():
            for target in self.paths.wipeable:
                if target.exists() or target.is_symlink():
                    _safe_rmtree(target, root)
                    deleted.append(target)
        self._echo(f"reset {root}: deleted {len(deleted)} data/log entries; binaries kept")
        return deleted

    # ------------------------------------------------------------------------------ state dir & lock

    def _prepare_state_dir(self) -> None:
        root, marker = self.paths.root, self.paths.marker
        reason = unsafe_state_dir_reason(root)
        if reason:
            raise DevStackError(reason)
        try:
            if root.exists() and not root.is_dir():
                raise DevStackError(f"state dir {root} exists and is not a directory")
            if root.is_dir() and not marker.exists() and any(root.iterdir()):
                raise DevStackError(
                    f"refusing to use {root}: it is not empty and has no {MARKER_NAME} marker "
                    "(logtrace dev did not create it); set LOGTRACE_DEV_STATE_DIR to a new directory"
                )
            root.mkdir(parents=True, exist_ok=True)
            if not marker.exists():
                marker.write_text("State dir of `logtrace dev`; `logtrace dev reset` deletes data here.\n")
            probe = root / f".write-probe-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as exc:
            raise DevStackError(
                f"state dir {root} is not writable ({exc.strerror}); set LOGTRACE_DEV_STATE_DIR to a "
                "writable directory"
            ) from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise up/down/reset across processes (parallel test runs share one stack)."""
        deadline = time.monotonic() + self.settings.resolve_timeout_s + self.settings.start_timeout_s
        with self.paths.lock.open("a") as handle:
            told = False
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not told:
                        self._echo("another `logtrace dev` command is running on this state dir; waiting")
                        told = True
                    if time.monotonic() > deadline:
                        raise DevStackError(f"gave up waiting for the lock {self.paths.lock}") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ----------------------------------------------------------------------------------- processes

    def _marks(self, service: Service) -> tuple[str, ...]:
        """Strings that must occur in the command line of our process of `service`."""
        if service == "kafka":
            return ("kafka.Kafka", str(self.paths.kafka_config))
        return ("org.elasticsearch.bootstrap.Elasticsearch", str(self.paths.es_dir))

    def _pid_file(self, service: Service) -> Path:
        return self.paths.kafka_pid if service == "kafka" else self.paths.es_pid

    def _pids(self, service: Service) -> list[int]:
        """Our processes of `service`: the pid file's if it checks out, plus any found by command line
        (a node still starting has not written its pid file yet)."""
        marks = self._marks(service)
        recorded = owned_pid(self._pid_file(service), marks)
        found = [pid for pid in find_pids(marks) if pid != recorded]
        return [recorded, *found] if recorded is not None else found

    def _pid(self, service: Service) -> int | None:
        pids = self._pids(service)
        return pids[0] if pids else None

    def _ports(self, service: Service) -> list[tuple[str, int, str]]:
        s = self.settings
        if service == "kafka":
            ports = [
                ("kafka_port", s.kafka_port, "Kafka client listener"),
                ("kafka_controller_port", s.kafka_controller_port, "Kafka controller listener"),
            ]
            if s.secure:
                ports += [
                    ("kafka_sasl_ssl_port", s.kafka_sasl_ssl_port, "Kafka SASL_SSL listener"),
                    ("kafka_ssl_port", s.kafka_ssl_port, "Kafka SSL (mTLS) listener"),
                ]
            return ports
        return [
            ("es_port", s.es_port, "Elasticsearch HTTP"),
            ("es_transport_port", s.es_transport_port, "Elasticsearch transport"),
        ]

    def _terminate(self, pids: list[int]) -> None:
        """SIGTERM, then SIGKILL whatever outlives the grace period; DevStackError if anything survives."""
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        survivors = _wait_gone(pids, self.settings.stop_grace_s)
        for pid in survivors:
            self._echo(f"pid {pid} ignored SIGTERM for {self.settings.stop_grace_s:.0f} s; sending SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if _wait_gone(survivors, _KILL_WAIT_S):
            raise DevStackError(f"processes {survivors} survived SIGKILL")

    def _stop_all(self) -> dict[Service, float | None]:
        began = time.monotonic()
        pids = {service: self._pids(service) for service in SERVICES}
        for service in SERVICES:
            pid_file = self._pid_file(service)
            if not pids[service] and pid_file.exists():
                self._echo(f"{service}: removing stale pid file {pid_file} (no process of ours)")
                pid_file.unlink(missing_ok=True)
        self._terminate([pid for service_pids in pids.values() for pid in service_pids])
        took = time.monotonic() - began
        result: dict[Service, float | None] = {service: None for service in SERVICES}
        for service, service_pids in pids.items():
            if service_pids:
                self._pid_file(service).unlink(missing_ok=True)
                result[service] = took
                self._echo(f"stopped {service} (pid {', '.join(map(str, service_pids))}) in {took:.1f} s")
        if not any(pids.values()):
            self._echo("nothing to stop: no dev stack process is running")
        return result

    def _abandon(
        self, kafka: subprocess.Popen[bytes] | None, es_launcher: subprocess.Popen[bytes] | None
    ) -> None:
        """After a failed `up`, stop what it launched, so that no half-started process is left behind."""
        pids = [kafka.pid] if kafka is not None else []
        if es_launcher is not None:
            # The ES node is the launcher's child, in the launcher's process group, before and after -d.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(es_launcher.pid, signal.SIGTERM)
            pids += [es_launcher.pid, *self._pids("es")]
        if pids:
            self._echo("stopping what this `up` started")
            self._terminate(pids)
            for proc in (kafka, es_launcher):
                if proc is not None:
                    proc.wait()

    # --------------------------------------------------------------------------------- binaries

    @cached_property
    def versions(self) -> tuple[str, str]:
        """(Kafka version, Elasticsearch version): settings override the pom defaults."""
        defaults = pom_versions()
        kafka = self.settings.kafka_version or defaults.get("kafka.version")
        es = self.settings.es_version or defaults.get("es.version")
        if not kafka or not es:
            raise DevStackError(f"{POM_PATH} lacks the kafka.version / es.version properties")
        return kafka, es

    def _resolve_binaries(self, timings: dict[str, float]) -> None:
        """Copy the Kafka jars and the ES zip out of Maven into the cache (once per version pair)."""
        began = time.monotonic()
        kafka_version, es_version = self.versions
        stamp = self.paths.resolved_stamp(kafka_version, es_version)
        if stamp.exists() and self.paths.es_zip(es_version).exists():
            timings["resolve_s"] = time.monotonic() - began
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise DevStackError("no `mvn` on PATH; install Maven (Debian: apt-get install maven)")
        self._check_maven_repo()
        self._echo(f"resolving Kafka {kafka_version} and Elasticsearch {es_version} with Maven "
                   "(a cold ~/.m2 downloads about 150 MB)")  # fmt: skip
        self.paths.cache.mkdir(exist_ok=True)
        mvn_log = self.paths.cache / "mvn.log"
        command = [
            mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(POM_PATH),
            f"-Ddevstack.cache={self.paths.cache}",
            f"-Dkafka.version={kafka_version}", f"-Des.version={es_version}",
            "dependency:copy-dependencies@kafka-libs", "dependency:copy-dependencies@es-dist",
        ]  # fmt: skip
        try:
            with mvn_log.open("wb") as out:
                done = subprocess.run(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    timeout=self.settings.resolve_timeout_s, check=False,
                )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise DevStackError(
                f"Maven did not finish within {self.settings.resolve_timeout_s:.0f} s "
                f"(LOGTRACE_DEV_RESOLVE_TIMEOUT_S)\n{_tail_block(mvn_log)}"
            ) from None
        if done.returncode != 0:
            raise DevStackError(
                f"Maven failed (exit {done.returncode}) resolving {POM_PATH}\n{_tail_block(mvn_log)}"
            )
        stamp.write_text(" ".join(command[1:]) + "\n")
        timings["resolve_s"] = time.monotonic() - began
        self._echo(f"resolved binaries in {timings['resolve_s']:.1f} s")

    @staticmethod
    def _check_maven_repo() -> None:
        """Fail early and clearly when Maven's default local repository cannot be written."""
        repo = Path.home() / ".m2"
        existing = repo if repo.exists() else repo.parent
        if not os.access(existing, os.W_OK | os.X_OK):
            raise DevStackError(f"Maven's local repository {repo} is not writable by this user")

    # ------------------------------------------------------------------------------------ Kafka

    def _start_kafka(self, java: JavaRuntime) -> subprocess.Popen[bytes]:
        paths = self.paths
        kafka_version, _ = self.versions
        for directory in (paths.kafka_dir, paths.kafka_data, paths.kafka_logs):
            directory.mkdir(exist_ok=True)
        keystore_password = self._secret("keystore_password") if self.settings.secure else ""
        plain_users = {KAFKA_SCRAM_USER: self._secret("kafka_password")} if self.settings.secure else {}
        _write_if_changed(
            paths.kafka_config, _kafka_properties(self.settings, paths, keystore_password, plain_users)
        )
        _write_if_changed(paths.kafka_log4j, _kafka_log4j(paths))
        classpath = f"{paths.kafka_libs(kafka_version)}/*"
        if not (paths.kafka_data / "meta.properties").exists():
            self._format_kafka(java, classpath)
        heap = self.settings.kafka_heap_mb
        command = [
            str(java.java), f"-Xms{heap}m", f"-Xmx{heap}m", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={paths.kafka_log4j}", "-cp", classpath,
            "kafka.Kafka", str(paths.kafka_config),
        ]  # fmt: skip
        with paths.kafka_out.open("ab") as out:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=paths.kafka_dir, start_new_session=True,  # not killed by the terminal's Ctrl-C
            )  # fmt: skip
        paths.kafka_pid.write_text(f"{proc.pid}\n")
        self._echo(f"kafka: started pid {proc.pid}, log {paths.kafka_log}")
        return proc

    def _format_kafka(self, java: JavaRuntime, classpath: str) -> None:
        """Format the KRaft storage once (the `kafka-storage format` step)."""
        out_file = self.paths.kafka_format_out
        command = [
            str(java.java), "-Xmx256m", f"-Dlog4j2.configurationFile={self.paths.kafka_log4j}",
            "-cp", classpath, "kafka.tools.StorageTool", "format",
            # `=`: a random id may start with '-', which would read as an option.
            f"--cluster-id={new_cluster_id()}", "--config", str(self.paths.kafka_config),
        ]  # fmt: skip
        if self.settings.secure:
            # The SCRAM user is stored in the cluster metadata from the start (no admin tool needed).
            for user, key in (
                (KAFKA_SCRAM_USER, "kafka_password"),
                (KAFKA_SCRAM_ADMIN, "kafka_admin_password"),
            ):
                password = self._secret(key)
                command.append(f"--add-scram={KAFKA_SCRAM_MECHANISM}=[name={user},password={password}]")
            password = self._secret("kafka_password")
            command.append(f"--add-scram=SCRAM-SHA-256=[name={KAFKA_SCRAM_USER},password={password}]")
        try:
            with out_file.open("wb") as out:
                done = subprocess.run(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    timeout=120, check=False,
                )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise DevStackError(f"Kafka storage format hung\n{_tail_block(out_file)}") from None
        if done.returncode != 0:
            raise DevStackError(
                f"Kafka storage format failed (exit {done.returncode})\n" + _tail_block(out_file)
            )

    def _wait_kafka(self, deadline: float, proc: subprocess.Popen[bytes] | None) -> None:
        bootstrap = self.settings.kafka_bootstrap
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DevStackError(
                    f"Kafka at {bootstrap} did not accept a produce within "
                    f"{self.settings.start_timeout_s:.0f} s (raise LOGTRACE_DEV_START_TIMEOUT_S if slow)\n"
                    + _tail_block(self.paths.kafka_out, self.paths.kafka_log)
                )
            if self._pid("kafka") is None:
                code = proc.poll() if proc is not None else None
                raise DevStackError(
                    f"Kafka exited during startup (exit {code})\n"
                    f"{_tail_block(self.paths.kafka_out, self.paths.kafka_log)}"
                )
            if self._kafka_ready(timeout_s=min(remaining, 10.0)):
                return
            time.sleep(_POLL_S)

    # ---------------------------------------------------------------------------- Elasticsearch

    def _es_account(self) -> tuple[int, int] | None:
        """(uid, gid) to run ES as when we are root (ES refuses root), creating the user once; else None."""
        if os.geteuid() != 0:
            return None
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(ES_USER)
            return entry.pw_uid, entry.pw_gid
        try:
            done = subprocess.run(
                ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                 "--shell", "/usr/sbin/nologin", ES_USER],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DevStackError(f"cannot create the system user {ES_USER}: {exc}") from None
        # Exit 9 = the user appeared meanwhile (a parallel `up`).
        if done.returncode not in (0, 9):
            raise DevStackError(f"useradd {ES_USER} failed: {done.stderr.strip()}")
        entry = pwd.getpwnam(ES_USER)
        return entry.pw_uid, entry.pw_gid

    def _ensure_traversable(self) -> None:
        """ES runs as another user: every directory above its own must be searchable by others."""
        root = self.paths.root.resolve()
        for directory in (root, *root.parents):
            mode = directory.stat().st_mode
            if mode & stat.S_IXOTH:
                continue
            if directory == root:
                os.chmod(directory, stat.S_IMODE(mode) | stat.S_IXOTH)
                continue
            raise DevStackError(
                f"Elasticsearch runs as user {ES_USER}, who cannot reach {root}: {directory} is not "
                f"searchable by others (mode {stat.S_IMODE(mode):o}); choose a state dir under /var/tmp"
            )

    def _start_es(self, java: JavaRuntime, timings: dict[str, float]) -> subprocess.Popen[bytes]:
        """Launch `bin/elasticsearch -d`; returns the launcher, which exits once the node has started."""
        paths = self.paths
        _, es_version = self.versions
        home = paths.es_home(es_version)
        for directory in (paths.es_dir, paths.es_data, paths.es_logs, paths.es_tmp):
            directory.mkdir(exist_ok=True)
        if not (home / "bin" / "elasticsearch").exists():
            began = time.monotonic()
            staging = paths.es_dir / f".unpack-{es_version}"
            if staging.exists():
                _safe_rmtree(staging, paths.root)
            _unzip(paths.es_zip(es_version), staging)
            (staging / home.name).rename(home)
            _safe_rmtree(staging, paths.root)
            timings["es_unpack_s"] = time.monotonic() - began
        if self.settings.secure:
            self._install_es_security(home)
            _write_if_changed(home / "config" / "elasticsearch.yml", _es_secure_yml(self.settings, paths))
        else:
            _write_if_changed(home / "config" / "elasticsearch.yml", _es_yml(self.settings, paths))
        paths.es_pid.unlink(missing_ok=True)
        command = [str(home / "bin" / "elasticsearch"), "-d", "-p", str(paths.es_pid)]
        account = self._es_account()
        if account is not None:
            uid, gid = account
            self._ensure_traversable()
            for directory, subdirs, files in os.walk(paths.es_dir):
                for name in (directory, *(os.path.join(directory, entry) for entry in subdirs + files)):
                    os.lchown(name, uid, gid)
            command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", *command]
        heap = self.settings.es_heap_mb
        env = {key: value for key, value in os.environ.items() if key not in ("ES_PATH_CONF", "JAVA_HOME")}
        env |= {
            "ES_JAVA_HOME": str(java.home),
            "ES_JAVA_OPTS": f"-Xms{heap}m -Xmx{heap}m",
            "ES_TMPDIR": str(paths.es_tmp),
            "HOME": str(paths.es_dir),
        }
        with paths.es_launcher_out.open("wb") as out:
            launcher = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                # cwd = logs dir: the stock jvm.options writes gc.log and crash files relative to it.
                cwd=paths.es_logs, env=env, start_new_session=True,
            )  # fmt: skip
        self._echo(f"es: launching {home.name} as {ES_USER if account else 'this user'}, log {paths.es_log}")
        return launcher

    def _wait_es(self, deadline: float, launcher: subprocess.Popen[bytes] | None) -> None:
        url = self.settings.es_url
        logs = (self.paths.es_launcher_out, self.paths.es_log)
        security = self._security_if_any()
        while True:
            code = launcher.poll() if launcher is not None else None
            if code not in (None, 0):
                raise DevStackError(
                    f"Elasticsearch failed to start (launcher exit {code})\n" + _tail_block(*logs)
                )
            if es_health(url, security=security) in ("green", "yellow"):
                return
            # A finished launcher (or a stack found running) leaves the node itself to watch.
            if (launcher is None or code == 0) and self._pid("es") is None:
                raise DevStackError(f"Elasticsearch exited during startup\n{_tail_block(*logs)}")
            if time.monotonic() > deadline:
                raise DevStackError(
                    f"Elasticsearch at {url} was not healthy within {self.settings.start_timeout_s:.0f} s "
                    f"(raise LOGTRACE_DEV_START_TIMEOUT_S if it is just slow)\n{_tail_block(*logs)}"
                )
            time.sleep(_POLL_S)

    # --------------------------------------------------------------------------- secure mode

    def _secret(self, name: str) -> str:
        return str(json.loads(self.paths.credentials.read_text())[name])

    def _ensure_security(self, timings: dict[str, float]) -> SecureAccess:
        """Secure mode: generate the CA, certificates and passwords once; later calls reuse them."""
        paths = self.paths
        began = time.monotonic()
        if not paths.credentials.exists():
            if (paths.kafka_data / "meta.properties").exists():
                raise DevStackError(
                    f"{paths.root} holds a Kafka formatted without secure mode (no SCRAM users); "
                    "use a new LOGTRACE_DEV_STATE_DIR for the secure stack"
                )
            paths.security.mkdir(mode=0o700, exist_ok=True)
            names = ("es_password", "kafka_password", "kafka_admin_password", "keystore_password")
            secret = {name: secrets.token_hex(16) for name in names}
            secret["es_password_hash"] = es_file_realm_hash(secret["es_password"])
            staging = paths.security / ".credentials.tmp"
            staging.touch(mode=0o600)
            staging.write_text(json.dumps(secret, indent=2) + "\n")
            staging.rename(paths.credentials)
        wanted = (paths.ca_cert, paths.server_cert, paths.server_key, paths.server_keystore,
                  paths.client_cert, paths.client_key)  # fmt: skip
        if not all(path.exists() for path in wanted):
            self._make_certificates()
            timings["certificates_s"] = time.monotonic() - began
        return self.security()

    def _openssl(self, *args: str, env: dict[str, str] | None = None) -> None:
        openssl = shutil.which("openssl")
        if openssl is None:
            raise DevStackError("secure mode needs the `openssl` CLI (Debian: apt-get install openssl)")
        try:
            done = subprocess.run(
                [openssl, *args], capture_output=True, text=True, timeout=60, check=False,
                cwd=self.paths.security, env={**os.environ, **(env or {})},
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DevStackError(f"openssl {args[0]} failed: {exc}") from None
        if done.returncode != 0:
            raise DevStackError(f"openssl {args[0]} failed (exit {done.returncode}): {done.stderr.strip()}")

    def _make_certificates(self) -> None:
        """A throwaway CA, one server certificate for 127.0.0.1/localhost (both services) and one client
        certificate for Kafka's mTLS listener; PEM, plus a PKCS#12 of the server key for Kafka."""
        paths = self.paths
        config = paths.security / "openssl.cnf"
        config.write_text(_OPENSSL_CNF)
        days = str(CERT_DAYS)
        common = ["-config", str(config), "-newkey", "rsa:2048", "-noenc", "-days", days]
        self._openssl("req", "-x509", *common, "-extensions", "ca_ext", "-subj", "/CN=logtrace devstack CA",
                      "-keyout", str(paths.ca_key), "-out", str(paths.ca_cert))  # fmt: skip
        signed = [*common, "-CA", str(paths.ca_cert), "-CAkey", str(paths.ca_key)]
        self._openssl("req", "-x509", *signed, "-extensions", "server_ext", "-subj", "/CN=localhost",
                      "-keyout", str(paths.server_key), "-out", str(paths.server_cert))  # fmt: skip
        self._openssl("req", "-x509", *signed, "-extensions", "client_ext", "-subj", "/CN=logtrace-client",
                      "-keyout", str(paths.client_key), "-out", str(paths.client_cert))  # fmt: skip
        self._openssl(
            "pkcs12", "-export", "-in", str(paths.server_cert), "-inkey", str(paths.server_key),
            "-certfile", str(paths.ca_cert), "-name", "server", "-out", str(paths.server_keystore),
            "-passout", "env:LOGTRACE_DEV_KEYSTORE_PASSWORD",
            env={"LOGTRACE_DEV_KEYSTORE_PASSWORD": self._secret("keystore_password")},
        )  # fmt: skip
        for path in paths.security.iterdir():
            os.chmod(path, 0o600)

    def _install_es_security(self, home: Path) -> None:
        """Copy the certificate into ES's config dir and write the file realm's superuser."""
        paths = self.paths
        certs = home / "config" / "certs"
        certs.mkdir(exist_ok=True)
        for source, name in ((paths.ca_cert, "ca.pem"), (paths.server_cert, "server.pem"),
                             (paths.server_key, "server.key")):  # fmt: skip
            _write_if_changed(certs / name, source.read_text())
            os.chmod(certs / name, 0o600)
        # Extra users and roles (set_es_file_realm) are kept while the superuser's entry is current.
        users = home / "config" / "users"
        superuser = f"{ES_SUPERUSER}:{self._secret('es_password_hash')}"
        if not users.exists() or superuser not in users.read_text().splitlines():
            self._write_file_realm(home, {}, {})

    def set_es_file_realm(
        self, users: dict[str, tuple[str, list[str]]], roles: dict[str, dict[str, object]]
    ) -> None:
        """Secure mode: replace the file realm's extra users {name: (password, [role, ...])} and the
        file roles {name: role descriptor as in the roles API}; the superuser stays. A running node
        picks the change up within about a second (poll `_security/_authenticate` to be sure).

        The file realm is the only realm this minimal distribution can use: the native realm and API
        keys need the `.security` index, whose mapping uses analysis-common filters it lacks.
        """
        if not self.settings.secure:
            raise DevStackError("the file realm exists only in secure mode (LOGTRACE_DEV_SECURE)")
        self._write_file_realm(self.paths.es_home(self.versions[1]), users, roles)

    def _write_file_realm(
        self, home: Path, users: dict[str, tuple[str, list[str]]], roles: dict[str, dict[str, object]]
    ) -> None:
        import yaml

        config = home / "config"
        lines = [f"{ES_SUPERUSER}:{self._secret('es_password_hash')}"]
        members: dict[str, list[str]] = {"superuser": [ES_SUPERUSER]}
        for name, (password, user_roles) in sorted(users.items()):
            lines.append(f"{name}:{es_file_realm_hash(password)}")
            for role in user_roles:
                members.setdefault(role, []).append(name)
        files = {
            "users": "\n".join(lines) + "\n",
            "users_roles": "".join(f"{role}:{','.join(names)}\n" for role, names in sorted(members.items())),
            # One role descriptor per name, as the roles API takes it. Block style: ES splits the file at
            # lines that start in column 0, one role each, so JSON (valid YAML) would not parse.
            "roles.yml": yaml.safe_dump(roles, default_flow_style=False, sort_keys=True) if roles else "",
        }
        account = self._es_account()
        for name, text in files.items():
            staging = config / f".{name}.tmp"
            staging.write_text(text)
            os.chmod(staging, 0o600)
            if account is not None:
                os.chown(staging, *account)
            staging.rename(config / name)  # atomic: the node never reads half a file


# Extensions of the throwaway certificates (secure mode); `-extensions <section>` picks one.
_OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = logtrace devstack
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""
