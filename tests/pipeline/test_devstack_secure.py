"""Unit tests of the dev stack's secure mode (configuration text, settings, file-realm hash); no service runs.

The secure stack itself runs in tests/integration/security/.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.devstack import (
    DevStack,
    DevStackError,
    DevStackSettings,
    StackPaths,
    _es_secure_yml,
    _es_yml,
    _kafka_properties,
    es_file_realm_hash,
)

PORTS = {"kafka_port": 19092, "kafka_controller_port": 19093, "es_port": 19200, "es_transport_port": 19300}
SECURE_PORTS = {**PORTS, "kafka_sasl_ssl_port": 19094, "kafka_ssl_port": 19095}


def test_default_mode_is_plain_and_unchanged(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path / "s", **PORTS)
    assert not settings.secure and settings.es_url == "http://127.0.0.1:19200"
    text = _kafka_properties(settings, StackPaths(settings.state_dir))
    assert "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093\n" in text
    assert "SASL" not in text and "ssl." not in text and "authorizer" not in text
    assert "xpack.security.enabled: false" in _es_yml(settings, StackPaths(settings.state_dir))


def test_secure_ports_only_checked_in_secure_mode(tmp_path: Path) -> None:
    # The defaults of the secure-only ports may equal a plain port when secure mode is off.
    DevStackSettings(state_dir=tmp_path / "s", **{**PORTS, "kafka_port": 9094})
    with pytest.raises(ValidationError, match="kafka_port and kafka_sasl_ssl_port must differ"):
        DevStackSettings(
            state_dir=tmp_path / "s", secure=True, **{**SECURE_PORTS, "kafka_sasl_ssl_port": 19092}
        )


def test_secure_kafka_properties(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path / "s", secure=True, **SECURE_PORTS)
    paths = StackPaths(settings.state_dir)
    text = _kafka_properties(settings, paths, keystore_password="k3y")
    assert (
        "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093,"
        "SASL_SSL://127.0.0.1:19094,SSL://127.0.0.1:19095\n" in text
    )
    assert (
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL"
        in text
    )
    assert "inter.broker.listener.name=PLAINTEXT" in text
    assert "sasl.enabled.mechanisms=SCRAM-SHA-512" in text
    assert "listener.name.ssl.ssl.client.auth=required" in text
    assert f"ssl.truststore.location={paths.ca_cert}" in text and "ssl.keystore.password=k3y" in text
    assert "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" in text
    assert "super.users=User:ANONYMOUS;User:logtrace-admin" in text


def test_secure_es_yml(tmp_path: Path) -> None:
    settings = DevStackSettings(state_dir=tmp_path / "s", secure=True, **SECURE_PORTS)
    assert settings.es_url == "https://127.0.0.1:19200"
    text = _es_secure_yml(settings, StackPaths(settings.state_dir))
    assert "xpack.security.enabled: false" not in text
    assert "xpack.security.enabled: true" in text and "xpack.security.http.ssl.enabled: true" in text
    assert "xpack.security.http.ssl.certificate: certs/server.pem" in text


def test_file_realm_hash_is_pbkdf2_sha512_as_elasticsearch_reads_it() -> None:
    salt = bytes(range(32))
    value = es_file_realm_hash("s3cret", salt)
    prefix, rest = value.split("}", 1)
    cost, salt_b64, key_b64 = rest.split("$")
    assert prefix == "{PBKDF2" and cost == "10000"
    assert base64.b64decode(salt_b64) == salt
    assert base64.b64decode(key_b64) == hashlib.pbkdf2_hmac("sha512", b"s3cret", salt, 10000, 32)
    assert len(salt_b64) == len(key_b64) == 44  # the layout ES's Hasher parses
    assert es_file_realm_hash("s3cret") != es_file_realm_hash("s3cret")  # random salt


def test_security_accessors_need_secure_mode(tmp_path: Path) -> None:
    stack = DevStack(DevStackSettings(state_dir=tmp_path / "s", **PORTS))
    with pytest.raises(DevStackError, match="not in secure mode"):
        stack.security()
    with pytest.raises(DevStackError, match="only in secure mode"):
        stack.set_es_file_realm({}, {})


def test_security_before_up_says_what_is_missing(tmp_path: Path) -> None:
    stack = DevStack(DevStackSettings(state_dir=tmp_path / "s", secure=True, **SECURE_PORTS))
    with pytest.raises(DevStackError, match="`up` generates them in secure mode"):
        stack.security()
