"""A private secure Kafka + Elasticsearch stack (TLS, SCRAM, mTLS, ES security), started once per run.

It never touches the shared dev stack: own state dir, own free ports, and a lock file that keeps two
test runs from using (and stopping) it at the same time. The session starts it and stops it at the end;
a stack that cannot start fails the tests (nothing here is skipped).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import json
import secrets
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pipeline.devstack import DevStack, DevStackError, DevStackSettings, SecureAccess, UpResult
from tests.integration.conftest import FIRST_USE_TIMEOUT_S

# Not below /var/tmp/logtrace-devstack*: no path of this stack shares a prefix with the shared stack's.
STATE_DIR = Path("/var/tmp/logtrace-secure-stack")
SESSION_LOCK = Path("/var/tmp/logtrace-secure-stack.session-lock")

# Elasticsearch roles (file realm: the only realm this minimal distribution has, see pipeline/devstack.py).
# Each privilege was found necessary (removing it fails as noted); the comments say why.
WORKER_ROLE = {
    # /ready asks GET _cluster/health and GET _index_template/logtrace-* (both granted by `monitor`).
    "cluster": ["monitor"],
    "indices": [
        {
            "names": ["logs-logtrace.*", "traces-logtrace.*", "metrics-logtrace.*"],
            # create_doc: bulk `create` (the only op the sink sends); auto_configure: the first write
            # creates the data stream from its template.
            "privileges": ["create_doc", "auto_configure"],
        }
    ],
}
SETUP_ROLE = {
    # PUT/GET of component and index templates. Not needed here: `monitor` (the probe's GET _ilm/status and
    # _lifecycle/stats answer 405 before authorization on this node; a full cluster wants `read_ilm`,
    # `manage_ilm` for the policies and `monitor`, which this node cannot verify).
    "cluster": ["manage_index_templates"],
    "indices": [
        {
            # The capability probe: it deletes a leftover, creates and deletes hidden throwaway indices
            # (delete_index, create_index) and writes one document to its data stream (create_doc;
            # create_index also covers the stream's auto-creation).
            "names": ["logtrace-capability-probe*"],
            "privileges": ["create_index", "delete_index", "create_doc"],
        },
        {
            # view_index_metadata: _resolve/index of logtrace's streams (without it: 403). manage: the
            # rollover of streams whose template changed (an upgrade; not exercised by these tests).
            "names": ["logs-logtrace.*", "traces-logtrace.*", "metrics-logtrace.*"],
            "privileges": ["view_index_metadata", "manage"],
        },
    ],
}
# Can authenticate and pass the worker's readiness checks, but may not write any document.
NO_INDEX_ROLE = {"cluster": ["monitor"], "indices": []}
ROLES = {"logtrace_worker": WORKER_ROLE, "logtrace_setup": SETUP_ROLE, "logtrace_no_index": NO_INDEX_ROLE}


# Kafka protocol codes of the CreateAcls request (org.apache.kafka.common.acl / resource).
RESOURCE = {"topic": 2, "group": 3, "cluster": 4}
PATTERN = {"literal": 3, "prefixed": 4}
OPERATION = {"read": 3, "write": 4, "create": 5, "describe": 8, "describe_configs": 10}
ALLOW = 3


@dataclass(frozen=True)
class Acl:
    """One ALLOW rule: `operation` on the resource `kind` named `name` (`pattern` literal or prefixed)."""

    kind: str
    name: str
    operation: str
    pattern: str = "literal"


async def _create_acls(bootstrap: str, principal: str, acls: list[Acl]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient
    from aiokafka.protocol.admin import CreateAclsRequest

    # The plaintext listener's principal (ANONYMOUS) is a super user of the secure stack.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for acl in acls:
            request = CreateAclsRequest(
                RESOURCE[acl.kind],
                acl.name,
                PATTERN[acl.pattern],
                principal,
                "*",
                OPERATION[acl.operation],
                ALLOW,
            )
            response = await admin._send_request(request)
            for error_code, message in response.creation_responses:
                assert error_code == 0, f"CreateAcls {acl} for {principal}: error {error_code} {message}"
    finally:
        await admin.close()


def grant(bootstrap: str, principal: str, acls: list[Acl]) -> None:
    """Create the ALLOW ACLs (aiokafka has no ACL API: the CreateAcls request is sent directly)."""
    asyncio.run(_create_acls(bootstrap, principal, acls))


def worker_acls(group: str, inputs: list[str], deadletter: str) -> list[Acl]:
    """The ACLs a worker of consumer group `group` needs; each was found necessary (Read and Write imply
    Describe in Kafka, so no Describe rule is needed)."""
    acls = [Acl("group", group, "read")]  # join the group, commit offsets
    acls += [Acl("topic", topic, "read") for topic in inputs]
    # The dead-letter topic: produce to it (its metadata also tells `ensure_topics` it exists).
    acls += [Acl("topic", deadletter, "write")]
    # faust's internal topics (repartition, changelogs, the assignor's leader topic), all `<group>-...`:
    # created on first start, read and written ever after.
    acls += [Acl("topic", f"{group}-", op, "prefixed") for op in ("read", "write", "create")]
    return acls


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass
class SecureStack:
    """The running secure stack: where it listens, its secrets and the test users."""

    stack: DevStack
    up: UpResult
    access: SecureAccess
    users: dict[str, str] = field(default_factory=dict, repr=False)  # name -> password
    roles: dict[str, list[str]] = field(default_factory=dict)  # user -> roles

    @property
    def kafka_bootstrap(self) -> str:
        """The plaintext listener: test-side admin and producing only (the worker uses the secure ones)."""
        return self.up.kafka_bootstrap

    @property
    def es_url(self) -> str:
        return self.access.es_url

    def secrets(self) -> list[str]:
        """Every password of this stack: none may appear in any output."""
        return [self.access.es_password, self.access.kafka_password, *self.users.values()]

    def es(self, method: str, path: str, body: Any = None, auth: str | None = None) -> tuple[int, Any]:
        """One HTTPS request (as the superuser unless `auth` is given); (status, JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.es_url}{path}",
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
                "Authorization": auth or self.access.es_basic_auth(),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.access.ssl_context()) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def count(self, index: str) -> int:
        path = f"/{index}/_count?ignore_unavailable=true&allow_no_indices=true"
        status, body = self.es("POST", path, {"query": {"match_all": {}}})
        # 503: a new data stream's first shard is still being allocated (the caller polls again).
        assert status in (200, 404, 503), body
        return body["count"] if status == 200 else 0

    def set_users(self, roles: dict[str, list[str]]) -> None:
        """Give each user (created with a random password on first use) exactly these roles."""
        for name in roles:
            self.users.setdefault(name, secrets.token_hex(12))
        self.roles = {**self.roles, **roles}
        self.stack.set_es_file_realm(
            {name: (self.users[name], user_roles) for name, user_roles in self.roles.items()},
            ROLES,
        )
        # The node reloads the files within about a second: wait until each user has its roles.
        deadline = time.monotonic() + 30
        for name, user_roles in roles.items():
            while True:
                status, body = self.es("GET", "/_security/_authenticate", auth=self.user_auth(name))
                if status == 200 and sorted(body["roles"]) == sorted(user_roles):
                    break
                assert time.monotonic() < deadline, f"user {name} not active: {status} {body}"
                time.sleep(0.2)
        # Roles reload separately from users: wait until each user has its roles' cluster privileges.
        for name, user_roles in roles.items():
            cluster = sorted({privilege for role in user_roles for privilege in ROLES[role]["cluster"]})
            while cluster:
                status, body = self.es(
                    "POST", "/_security/user/_has_privileges", {"cluster": cluster}, self.user_auth(name)
                )
                if status == 200 and body["has_all_requested"]:
                    break
                assert time.monotonic() < deadline, f"roles of {name} not loaded: {status} {body}"
                time.sleep(0.2)

    def user_auth(self, name: str) -> str:
        return basic(name, self.users[name])


@contextlib.contextmanager
def _session_lock() -> Iterator[None]:
    """One test run at a time uses the secure stack (another run would stop it under us at its end)."""
    with SESSION_LOCK.open("a") as handle:
        deadline = time.monotonic() + FIRST_USE_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another test run holds {SESSION_LOCK}", pytrace=False)
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def secure_stack() -> Iterator[SecureStack]:
    """Start the private secure stack on free ports; stop it when the session ends."""
    with _session_lock():
        ports = free_ports(6)
        try:
            settings = DevStackSettings(
                state_dir=STATE_DIR,
                secure=True,
                kafka_port=ports[0],
                kafka_controller_port=ports[1],
                kafka_sasl_ssl_port=ports[2],
                kafka_ssl_port=ports[3],
                es_port=ports[4],
                es_transport_port=ports[5],
                start_timeout_s=240,
            )
            stack = DevStack(settings)
            # Leftovers of an earlier run (only our processes and data of this state dir; binaries,
            # certificates and credentials stay): every session formats Kafka with today's users.
            if stack.paths.marker.is_file():
                stack.reset()
            began = time.monotonic()
            up = stack.up()
        except (DevStackError, ValidationError) as exc:
            pytest.fail(f"the secure dev stack could not start: {exc}", pytrace=False)
        print(f"secure stack up in {time.monotonic() - began:.1f} s: {up.timings}")
        assert up.security is not None
        secure = SecureStack(stack, up, up.security)
        try:
            secure.set_users(
                {
                    "lt-worker": ["logtrace_worker"],
                    "lt-setup": ["logtrace_setup"],
                    "lt-noindex": ["logtrace_no_index"],
                }
            )
            yield secure
        finally:
            stack.down()
