"""TLS and authentication against a live secured Kafka and Elasticsearch (the private secure dev stack).

Live: Kafka 4.1.1 with a SASL_SSL listener (SCRAM-SHA-512) and an SSL listener requiring client
certificates; Elasticsearch 8.19.9 with security on, HTTPS, file-realm users with least-privilege file
roles (see conftest.py for each privilege and why). The real `logtrace worker` and `logtrace setup` run as
subprocesses; every output they produce is checked for every password of the stack.

API keys cannot be created on this minimal Elasticsearch (the `.security` index needs analysis-common);
the API-key path is exercised as far as a live node allows: an unknown key is refused with a clear error.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pipeline.demo import generate
from tests.integration.security.conftest import SecureStack, grant, worker_acls
from tests.integration.worker.harness import (
    REPO,
    WORKER_CODE,
    Names,
    WorkerProcess,
    committed,
    create_topics,
    produce,
    wait_until,
    worker_env,
)

pytestmark = pytest.mark.timeout(150)
TRACES = 8


# ------------------------------------------------------------------------------------------ helpers


def kafka_env(sec: SecureStack, mode: str = "scram", **overrides: str) -> dict[str, str]:
    """LOGTRACE_KAFKA_* for the SASL_SSL listener (`scram`) or the mTLS listener (`mtls`)."""
    access = sec.access
    if mode == "scram":
        env = {
            "LOGTRACE_KAFKA_BOOTSTRAP_SERVERS": access.kafka_sasl_ssl_bootstrap,
            "LOGTRACE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "LOGTRACE_KAFKA_SASL_MECHANISM": access.kafka_mechanism,
            "LOGTRACE_KAFKA_USERNAME": access.kafka_username,
            "LOGTRACE_KAFKA_PASSWORD": access.kafka_password,
            "LOGTRACE_KAFKA_CA_FILE": str(access.ca_file),
        }
    else:
        env = {
            "LOGTRACE_KAFKA_BOOTSTRAP_SERVERS": access.kafka_ssl_bootstrap,
            "LOGTRACE_KAFKA_SECURITY_PROTOCOL": "SSL",
            "LOGTRACE_KAFKA_CA_FILE": str(access.ca_file),
            "LOGTRACE_KAFKA_CERT_FILE": str(access.client_cert),
            "LOGTRACE_KAFKA_KEY_FILE": str(access.client_key),
        }
    return env | overrides


def es_env(sec: SecureStack, user: str, **overrides: str) -> dict[str, str]:
    """LOGTRACE_ES_* for HTTPS with our CA and basic auth as `user`."""
    env = {
        "LOGTRACE_ES_URL": sec.es_url,
        "LOGTRACE_ES_USERNAME": user,
        "LOGTRACE_ES_PASSWORD": sec.users[user],
        "LOGTRACE_ES_CA_CERTS": str(sec.access.ca_file),
    }
    return env | overrides


def start_worker(sec: SecureStack, names: Names, log: Path, env: dict[str, str]) -> WorkerProcess:
    return WorkerProcess(worker_env(sec, names, **env), log).start()


def run_cli(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`logtrace <args>` with only `env` as LOGTRACE_* configuration; output captured as text."""
    full = {key: value for key, value in os.environ.items() if not key.startswith("LOGTRACE_")} | env
    return subprocess.run(
        [sys.executable, "-c", WORKER_CODE, *args],
        env=full,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_no_secret(sec: SecureStack, *texts: str) -> None:
    """No password of the stack (Kafka SCRAM, ES superuser, ES test users), nor a Basic-auth token made
    from one, in any of `texts`."""
    tokens = [sec.access.es_basic_auth().split()[1]]
    tokens += [sec.user_auth(name).split()[1] for name in sec.users]
    for text in texts:
        for secret in sec.secrets():
            assert secret not in text, "a password appears in the output"
        for token in tokens:
            assert token not in text, "a Basic-auth token appears in the output"


def other_ca(directory: Path) -> Path:
    """A CA that signed nothing of ours: verification against it must fail."""
    ca = directory / "other-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-noenc", "-days", "2", "-subj", "/CN=other CA",
         "-keyout", str(directory / "other-ca.key"), "-out", str(ca)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return ca


def ready_body(worker: WorkerProcess) -> dict:
    try:
        status, body = worker.get("/ready", timeout=3)
    except OSError as exc:
        return {"ready": False, "reason": f"no answer: {exc}"}
    return json.loads(body) | {"status": status}


# ----------------------------------------------------------------------------------- logtrace setup


@pytest.fixture(scope="module")
def setup_done(secure_stack: SecureStack) -> subprocess.CompletedProcess[str]:
    """`logtrace setup` over HTTPS with basic auth as the least-privilege setup user."""
    return run_cli(["setup"], es_env(secure_stack, "lt-setup"))


def test_setup_with_basic_auth_and_least_privilege(secure_stack: SecureStack, setup_done) -> None:
    output = setup_done.stdout + setup_done.stderr
    assert setup_done.returncode == 0, output
    assert "cluster capabilities: ilm=no, data_streams=yes" in output
    status, body = secure_stack.es("GET", "/_index_template/logtrace-*")
    assert status == 200 and len(body["index_templates"]) >= 4, body
    again = run_cli(["setup"], es_env(secure_stack, "lt-setup"))
    assert again.returncode == 0, again.stdout + again.stderr
    changed = [line for line in again.stdout.splitlines() if line.startswith(("created ", "updated "))]
    assert not changed, again.stdout  # the second run changes nothing
    assert_no_secret(secure_stack, output, again.stdout, again.stderr)


def test_setup_with_a_wrong_password_fails_clearly(secure_stack: SecureStack) -> None:
    done = run_cli(["setup"], es_env(secure_stack, "lt-setup", LOGTRACE_ES_PASSWORD="not-the-password"))
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "refused the credentials (HTTP 401" in output, output
    assert "Traceback" not in output
    assert_no_secret(secure_stack, output)


def test_setup_with_the_wrong_ca_names_the_certificate_problem(secure_stack: SecureStack, tmp_path) -> None:
    done = run_cli(["setup"], es_env(secure_stack, "lt-setup", LOGTRACE_ES_CA_CERTS=str(other_ca(tmp_path))))
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "CERTIFICATE_VERIFY_FAILED" in output and "certificate verify failed" in output, output
    assert "Traceback" not in output
    assert_no_secret(secure_stack, output)


def test_setup_without_template_privileges_is_refused_with_the_missing_action(
    secure_stack: SecureStack,
) -> None:
    done = run_cli(["setup"], es_env(secure_stack, "lt-worker"))
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "HTTP 403" in output and "is unauthorized for user [lt-worker]" in output, output
    assert_no_secret(secure_stack, output)


def test_an_unknown_api_key_is_refused_clearly(secure_stack: SecureStack) -> None:
    key = base64.b64encode(b"no-such-id:" + os.urandom(16).hex().encode()).decode()
    done = run_cli(
        ["setup"], {"LOGTRACE_ES_URL": secure_stack.es_url, "LOGTRACE_ES_API_KEY": key,
                    "LOGTRACE_ES_CA_CERTS": str(secure_stack.access.ca_file)},
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "refused the credentials (HTTP 401" in output, output
    assert key not in output and key[:16] not in output
    assert_no_secret(secure_stack, output)


# ------------------------------------------------------------------------------------------ workers


class Started:
    def __init__(self, names: Names, worker: WorkerProcess) -> None:
        self.names, self.worker = names, worker


@pytest.fixture(scope="module")
def workers(secure_stack: SecureStack, setup_done, tmp_path_factory):
    """Nine workers at once (start-up dominates): the good SASL_SSL ones (SCRAM-SHA-512, SCRAM-SHA-256,
    PLAIN), the good mTLS one, one with a wrong SCRAM password, one trusting another CA, one whose ES user
    may not write documents, one without Kafka ACLs and one without Read on its consumer group. Kafka
    denies by default: each worker that should work gets `worker_acls`."""
    assert setup_done.returncode == 0, setup_done.stdout + setup_done.stderr
    sec = secure_stack
    logs = tmp_path_factory.mktemp("workers")
    bad_ca = other_ca(logs)
    scram, mtls = f"User:{sec.access.kafka_username}", sec.access.kafka_mtls_principal
    plans = {
        "scram": (kafka_env(sec), es_env(sec, "lt-worker"), scram),
        "mtls": (kafka_env(sec, "mtls"), es_env(sec, "lt-worker"), mtls),
        "wrong_password": (kafka_env(sec, LOGTRACE_KAFKA_PASSWORD="wrong-" + sec.access.kafka_password[:4]),
                           es_env(sec, "lt-worker"), scram),
        "wrong_ca": (kafka_env(sec, LOGTRACE_KAFKA_CA_FILE=str(bad_ca)), es_env(sec, "lt-worker"), scram),
        "no_index": (kafka_env(sec), es_env(sec, "lt-noindex"), scram),
        "no_acl": (kafka_env(sec), es_env(sec, "lt-worker"), None),
        "no_group_read": (kafka_env(sec), es_env(sec, "lt-worker"), scram),
        "scram_sha_256": (kafka_env(sec, LOGTRACE_KAFKA_SASL_MECHANISM="SCRAM-SHA-256"),
                          es_env(sec, "lt-worker"), scram),
        "plain": (kafka_env(sec, LOGTRACE_KAFKA_SASL_MECHANISM="PLAIN"), es_env(sec, "lt-worker"), scram),
    }  # fmt: skip
    started: dict[str, Started] = {}
    try:
        for name, (kafka, es, principal) in plans.items():
            names = Names.new()
            create_topics(sec, {names.raw: 2, names.spans: 2, names.otlp_logs: 1, names.dlq: 1})
            if principal is not None:
                inputs = [names.raw, names.spans, names.otlp_logs]
                acls = worker_acls(names.group, inputs, names.dlq)
                if name == "no_group_read":
                    acls = [acl for acl in acls if acl.kind != "group"]
                grant(sec.kafka_bootstrap, principal, acls)
            worker = start_worker(sec, names, logs / f"{name}.log", kafka | es)
            started[name] = Started(names, worker)
        yield started
    finally:
        for entry in started.values():
            entry.worker.kill()


def test_worker_over_sasl_ssl_scram_indexes_into_https_es_with_least_privilege(
    secure_stack: SecureStack, workers
) -> None:
    sec, run = secure_stack, workers["scram"]
    run.worker.wait_ready(120)
    batch = generate(TRACES, seed=5)
    produce(sec, run.names.spans, batch.spans)
    produce(sec, run.names.raw, batch.raw)
    ns = run.names.namespace
    wait_until(lambda: sec.count(f"logs-logtrace.app-{ns}") >= len(batch.raw), 60, what="raw logs indexed")
    spans = sum(len(trace.spans) for trace in batch.traces)
    wait_until(lambda: sec.count(f"traces-logtrace.span-{ns}") >= spans, 60, what="spans indexed")
    wait_until(lambda: sec.count(f"traces-logtrace.summary-{ns}") >= TRACES, 60, what="trace summaries")
    wait_until(lambda: sec.count(f"metrics-logtrace.*-{ns}") > 0, 60, what="metric documents")
    assert sec.count(f"logs-logtrace.app-{ns}") == len(batch.raw)
    assert sec.count(f"logs-logtrace.deadletter-{ns}") == 0
    # Offsets are committed through the SASL_SSL connection too.
    wait_until(lambda: sum(committed(sec, run.names.group, run.names.raw).values()) == len(batch.raw), 30,
               what="offsets committed")  # fmt: skip
    assert_no_secret(sec, run.worker.log_path.read_text())


def test_worker_over_mtls_indexes(secure_stack: SecureStack, workers) -> None:
    sec, run = secure_stack, workers["mtls"]
    run.worker.wait_ready(120)
    lines = [f"level=info msg=mtls-{index} service=mtls".encode() for index in range(5)]
    produce(sec, run.names.raw, lines)
    ns = run.names.namespace
    wait_until(lambda: sec.count(f"logs-logtrace.app-{ns}") == len(lines), 60, what="mTLS worker indexed")
    assert_no_secret(sec, run.worker.log_path.read_text())


@pytest.mark.parametrize("mechanism", ["scram_sha_256", "plain"])
def test_worker_over_sasl_ssl_with_the_other_mechanisms_indexes(
    secure_stack: SecureStack, workers, mechanism: str
) -> None:
    sec, run = secure_stack, workers[mechanism]
    run.worker.wait_ready(120)
    lines = [f"level=info msg={mechanism}-{index} service=sasl".encode() for index in range(5)]
    produce(sec, run.names.raw, lines)
    ns = run.names.namespace
    wait_until(
        lambda: sec.count(f"logs-logtrace.app-{ns}") == len(lines), 60, what=f"{mechanism} worker indexed"
    )
    assert_no_secret(sec, run.worker.log_path.read_text())


async def _connect_to_mtls_listener(sec: SecureStack, client_cert: bool) -> None:
    """Bootstrap a producer (a metadata request, which needs no ACL) on the mTLS listener."""
    producer = AIOKafkaProducer(
        bootstrap_servers=sec.access.kafka_ssl_bootstrap,
        security_protocol="SSL",
        ssl_context=sec.access.ssl_context(client_cert=client_cert),
        request_timeout_ms=5000,
    )
    try:
        await asyncio.wait_for(producer.start(), 15)
    finally:
        await producer.stop()


def test_mtls_listener_refuses_a_client_without_certificate(secure_stack: SecureStack) -> None:
    asyncio.run(_connect_to_mtls_listener(secure_stack, client_cert=True))  # the control
    with pytest.raises((KafkaError, OSError, ssl.SSLError, asyncio.TimeoutError)):
        asyncio.run(_connect_to_mtls_listener(secure_stack, client_cert=False))


def test_wrong_scram_password_is_a_clear_error_without_the_secret(secure_stack: SecureStack, workers) -> None:
    worker = workers["wrong_password"].worker
    # The worker checks its topics before it joins the group: a refused login ends it at once.
    assert worker.wait_exit(90) == 1
    text = worker.log_path.read_text(errors="replace")
    assert (
        "SaslAuthenticationFailed" in text and "invalid credentials with SASL mechanism SCRAM-SHA-512" in text
    )
    assert "cannot reach Kafka to check topics" in text, text
    assert_no_secret(secure_stack, text)
    assert "wrong-" + secure_stack.access.kafka_password[:4] not in text


def test_wrong_ca_names_the_certificate_problem(secure_stack: SecureStack, workers) -> None:
    worker = workers["wrong_ca"].worker
    assert worker.wait_exit(90) == 1
    text = worker.log_path.read_text(errors="replace")
    assert "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed" in text, text
    assert "cannot reach Kafka to check topics" in text, text
    assert_no_secret(secure_stack, text)


def test_worker_without_kafka_acls_names_the_refused_topics(secure_stack: SecureStack, workers) -> None:
    run = workers["no_acl"]
    assert run.worker.wait_exit(90) == 1
    text = run.worker.log_path.read_text(errors="replace")
    assert "Kafka refused to create missing topics" in text, text
    assert f"{run.names.raw}: TopicAuthorizationFailedError (29)" in text, text
    assert_no_secret(secure_stack, text)


def test_worker_without_group_read_says_so(secure_stack: SecureStack, workers) -> None:
    """Denied the group, the worker cannot join: /ready names the missing ACL instead of waiting silently."""
    run = workers["no_group_read"]

    def denied() -> bool:
        status, body = run.worker.get("/ready")
        return status == 503 and b"kafka_group_denied" in body

    wait_until(denied, 90, what="/ready naming the refused group")
    _, body = run.worker.get("/ready")
    assert run.names.group.encode() in body and b"grant Read on the group" in body
    text = run.worker.log_path.read_text(errors="replace")
    assert "cannot join the consumer group" in text, text
    assert_no_secret(secure_stack, text)


def test_documents_wait_while_es_refuses_writes_then_arrive_once_allowed(
    secure_stack: SecureStack, workers
) -> None:
    sec, run = secure_stack, workers["no_index"]
    run.worker.wait_ready(120)
    lines = [f"level=warn msg=denied-{index} service=acl".encode() for index in range(20)]
    produce(sec, run.names.raw, lines)
    ns = run.names.namespace

    def paused() -> dict | None:
        body = ready_body(run.worker)
        return body if not body["ready"] and "403" in str(body.get("reason")) else None

    reason = wait_until(paused, 60, what="the sink to pause on 403")["reason"]
    # The pause names the action, the user and the privileges that would grant it.
    assert "indices:data/write/bulk" in reason and "[lt-noindex]" in reason and "create_doc" in reason, reason
    time.sleep(2)  # a few commit intervals: nothing may be committed or dead-lettered meanwhile
    assert sum(committed(sec, run.names.group, run.names.raw).values()) == 0
    assert sec.count(f"logs-logtrace.app-{ns}") == 0
    assert sec.count(f"logs-logtrace.deadletter-{ns}") == 0
    # Grant the writer role: the paused sink re-checks and delivers every document, none lost.
    sec.set_users({"lt-noindex": ["logtrace_no_index", "logtrace_worker"]})
    wait_until(lambda: sec.count(f"logs-logtrace.app-{ns}") >= len(lines), 90, what="documents after grant")
    assert sec.count(f"logs-logtrace.app-{ns}") == len(lines)
    assert sec.count(f"logs-logtrace.deadletter-{ns}") == 0
    wait_until(lambda: sum(committed(sec, run.names.group, run.names.raw).values()) == len(lines), 30,
               what="offsets committed after the grant")  # fmt: skip
    wait_until(lambda: ready_body(run.worker)["ready"], 30, what="ready again after the grant")
    assert_no_secret(sec, run.worker.log_path.read_text())


def test_no_secret_in_any_worker_log(secure_stack: SecureStack, workers) -> None:
    for name, run in workers.items():
        text = run.worker.log_path.read_text(errors="replace")
        assert text, f"worker {name} wrote no log"
        assert_no_secret(secure_stack, text)
