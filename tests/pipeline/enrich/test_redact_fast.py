"""Redaction's fast paths change nothing: the whole-document check and the per-value hints are only
necessary conditions (checked against running every pattern), plus the settings that configure it."""

import copy
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.config.worker import WorkerSettings
from pipeline.enrich.redact import (
    _CARD,
    IDENTITY_FIELDS,
    KEPT_FIELDS,
    REDACTED,
    SHAPED_FIELDS,
    TYPED_FIELDS,
    Redactor,
    luhn_ok,
    redactor_from_settings,
)
from pipeline.mappings import FIELDS_FILE

SECRETS = [
    "password=hunter2",
    "Authorization: Basic dXNlcjpodW50ZXIy",
    "Cookie: session=abcdef",
    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig",
    "postgres://app:pw@db:5432/x",
    '"api_key": "k-123456789"',
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_" + "a1B2" * 9,
    "xoxb-123456789012-abcdefghij",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "4111 1111 1111 1111",
    "5555-5555-5555-4444",
    "378282246310005",
    "TO\u212aEN=abc",  # Kelvin sign: lower() makes it `token`, and (?i) matches it
    "\u017fecret=abc",  # long s, dotless i and dotted capital I: (?i) matches them as s and i
    "ap\u0131_key=abc",
    "pr\u0130vate-key: abc",
    "x\n4111111111111111",
]
FRAGMENTS = st.sampled_from(
    [*SECRETS, "a", " ", "-", ":", "=", "@", "/", "\n", '"', "\\", "é", "\x00", "12", "2026-01-01", "gh", "_"]
)
texts = st.one_of(st.text(max_size=30), st.lists(FRAGMENTS, max_size=6).map("".join))
KEYS = st.one_of(
    st.sampled_from(
        [
            "message",
            "password",
            "token",
            "trace.id",
            "span.id",
            "@timestamp",
            "card",
            "Api-Key",
            "a.PAROLA\u0131",
        ]
    ),
    st.text(max_size=12),
)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), texts),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)
docs = st.dictionaries(KEYS, values, max_size=8)


def _reference_text(redactor: Redactor, value: str) -> str:
    """Every pattern run unconditionally (what the hints may skip only when nothing would match)."""
    for rule in redactor._rules:
        value = rule.pattern.sub(rule.replacement, value)
    return re.sub(_CARD, lambda m: REDACTED if luhn_ok(re.sub("[ -]", "", m.group())) else m.group(), value)


def _reference_bytes(redactor: Redactor, value: bytes) -> bytes:
    for rule in redactor._rules:
        value = rule.bytes_pattern.sub(rule.replacement_b, value)
    card = _CARD.encode()
    return re.sub(
        card,
        lambda m: REDACTED.encode() if luhn_ok(re.sub(b"[ -]", b"", m.group()).decode()) else m.group(),
        value,
    )


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts)
def test_text_and_bytes_equal_running_every_pattern(value: str) -> None:
    redactor = Redactor()
    assert redactor.text(value) == _reference_text(redactor, value)
    raw = value.encode()
    assert redactor.bytes(raw) == _reference_bytes(redactor, raw)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs)
def test_document_check_skips_only_documents_the_full_walk_leaves_alone(doc: dict) -> None:
    fast = Redactor(keys=["x-session", "Parola\u0131"])
    walk = Redactor(keys=["x-session", "Parola\u0131"])
    walk._doc_check = False  # every field walked and checked on its own
    a, b = copy.deepcopy(doc), copy.deepcopy(doc)
    fast.doc(a)
    walk.doc(b)
    assert a == b
    assert fast.drain() == walk.drain()


def test_clean_document_is_left_alone_and_secrets_in_any_field_are_found() -> None:
    redactor = Redactor()
    clean = {
        "@timestamp": "2026-01-01T00:00:00.123456789Z",
        "message": "GET /api/orders/42 200 in 12ms",
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "attributes": {"user": "bob", "n": 98213},
    }
    assert redactor.doc(copy.deepcopy(clean)) == clean
    assert not redactor.drain()
    doc = {"message": "ok", "attributes": {"deep": [{"note": "TO\u212aEN=abc"}], "card": 4111111111111111}}
    redactor.doc(doc)
    assert doc == {
        "message": "ok",
        "attributes": {"deep": [{"note": f"TO\u212aEN={REDACTED}"}], "card": REDACTED},
    }
    assert redactor.drain() == {"key_value": 1, "credit_card": 1}


def test_shaped_fields_and_numeric_fields_are_not_taken_for_secrets() -> None:
    redactor = Redactor()
    # An all-decimal span id that passes Luhn is an id, not a card; a 13-digit duration is a duration.
    assert luhn_ok("4111111111111111")
    doc = {
        "span.id": "4111111111111111",
        "event.duration": 4111111111111111,
        "message": "id 4111111111111111",
        "attributes": {"span.id": "4111111111111111"},
    }
    redactor.doc(doc)
    assert doc == {
        "span.id": "4111111111111111",
        "event.duration": 4111111111111111,
        "message": f"id {REDACTED}",
        "attributes": {"span.id": "4111111111111111"},
    }
    # A value without the field's shape is scanned as usual.
    odd = {"trace.id": "password=abc", "@timestamp": "token=abc"}
    redactor.doc(odd)
    assert odd == {"trace.id": f"password={REDACTED}", "@timestamp": f"token={REDACTED}"}


def test_configured_patterns_and_keys_reach_every_value() -> None:
    redactor = Redactor(patterns=[r"EMP-\d{6}"], keys=['we"ird'])
    doc = {"message": "clean", "attributes": {"who": "EMP-123456", 'we"ird': "v", "list": ["EMP-654321"]}}
    redactor.doc(doc)
    assert doc == {
        "message": "clean",
        "attributes": {"who": REDACTED, 'we"ird': REDACTED, "list": [REDACTED]},
    }
    assert redactor.drain() == {"custom_0": 2, "secret_key": 1}


def test_secret_keys_redact_numbers_but_not_booleans_or_nulls() -> None:
    redactor = Redactor()
    doc = {"attributes": {"pwd": 1234, "token": 1.5, "password": True, "secret": None}}
    redactor.doc(doc)
    assert doc == {"attributes": {"pwd": REDACTED, "token": REDACTED, "password": True, "secret": None}}


def _fields_yml() -> dict[str, dict]:
    return yaml.safe_load(FIELDS_FILE.read_text())["fields"]


def test_field_sets_follow_the_field_dictionary() -> None:
    fields = _fields_yml()
    typed = {"date", "date_nanos", "long", "float", "boolean", "constant_keyword"}
    assert {name for name, spec in fields.items() if spec["type"] in typed} == TYPED_FIELDS
    for name in IDENTITY_FIELDS:
        assert fields[name]["type"] == "keyword", name
    for name in SHAPED_FIELDS:
        assert fields[name]["type"] in {"keyword", "date", "date_nanos", "ip"}, name
    # Free text and maps are never kept without being listed.
    for name in (
        "message",
        "attributes",
        "labels",
        "event.original",
        "url.original",
        "user.name",
        "source.ip",
    ):
        assert name not in KEPT_FIELDS


@pytest.fixture
def _env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("LOGTRACE_"):
            monkeypatch.delenv(name)
    return monkeypatch


def test_settings_default_to_deny_list(_env: pytest.MonkeyPatch) -> None:
    redactor = redactor_from_settings(WorkerSettings())
    assert redactor is not None and not redactor.allowlist
    assert redactor.doc({"message": "token=abc", "user.name": "bob"}) == {
        "message": f"token={REDACTED}",
        "user.name": "bob",
    }
    _env.setenv("LOGTRACE_REDACT_ENABLED", "false")
    assert redactor_from_settings(WorkerSettings()) is None


def test_settings_allow_list_mode(_env: pytest.MonkeyPatch) -> None:
    _env.setenv("LOGTRACE_REDACT_MODE", "allowlist")
    _env.setenv("LOGTRACE_REDACT_ALLOW_FIELDS", "message, attributes.user_id,url.*")
    _env.setenv("LOGTRACE_REDACT_KEYS", "x-session")
    settings_ = WorkerSettings()
    assert settings_.redact_allow_fields == ("message", "attributes.user_id", "url.*")
    redactor = redactor_from_settings(settings_)
    assert redactor is not None and redactor.allowlist
    doc = {
        "message": "hi",
        "url.path": "/x",
        "user.name": "bob",
        "log.level": "info",
        "attributes": {"user_id": 7, "email": "a@b", "x-session": "s"},
    }
    assert redactor.doc(doc) == {
        "message": "hi",
        "url.path": "/x",
        "user.name": REDACTED,
        "log.level": "info",
        "attributes": {"user_id": 7, "email": REDACTED, "x-session": REDACTED},
    }


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"LOGTRACE_REDACT_MODE": "allow"}, "redact_mode"),
        ({"LOGTRACE_REDACT_ALLOW_FIELDS": "message"}, "only applies with LOGTRACE_REDACT_MODE=allowlist"),
        (
            {"LOGTRACE_REDACT_MODE": "allowlist", "LOGTRACE_REDACT_ENABLED": "false"},
            "needs LOGTRACE_REDACT_ENABLED=true",
        ),
        (
            {"LOGTRACE_REDACT_MODE": "allowlist", "LOGTRACE_REDACT_ALLOW_FIELDS": "url*"},
            "invalid field 'url\\*'",
        ),
        (
            {"LOGTRACE_REDACT_MODE": "allowlist", "LOGTRACE_REDACT_ALLOW_FIELDS": '["a b"]'},
            "invalid field 'a b'",
        ),
    ],
)
def test_settings_are_validated_at_start(_env: pytest.MonkeyPatch, env: dict[str, str], error: str) -> None:
    for name, value in env.items():
        _env.setenv(name, value)
    with pytest.raises(ValidationError, match=error):
        WorkerSettings()
