"""Default redaction: each secret kind, Luhn, allow-list mode, bytes, and the wiring into prepare()."""

import pytest

from pipeline.enrich.batch import BatchOptions, prepare
from pipeline.enrich.redact import REDACTED, Redactor, luhn_ok
from pipeline.records import Decoded, Item
from pipeline.sink.items import DeadLetter, Source

GHP = "ghp_" + "a1B2" * 9
SECRETS = {
    "auth_header": ("Authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy"),
    "cookie_header": ("Cookie: session=abcdef123456; theme=dark", "abcdef123456"),
    "bearer": ("calling api with Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9"),
    "url_password": ("connect postgres://app:hunter2pw@db:5432/x", "hunter2pw"),
    "key_value": ("login user=bob password=s3cr3tPW! ok", "s3cr3tPW"),
    "key_value_json": ('{"api_key": "k-123456789"}', "k-123456789"),
    "aws_access_key": ("key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"),
    "github_token": (f"token {GHP} pushed", GHP),
    "slack_token": ("xoxb-123456789012-abcdefghij posted", "xoxb-123456789012"),
    "stripe_key": ("charge with sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    "credit_card": ("paid with 4111 1111 1111 1111 today", "4111 1111 1111 1111"),
    "credit_card_dashes": ("card 5555-5555-5555-4444", "5555-5555-5555-4444"),
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_secret_kind_is_redacted_in_text_and_bytes(kind: str) -> None:
    line, secret = SECRETS[kind]
    redactor = Redactor()
    out = redactor.text(line)
    assert secret not in out and REDACTED in out
    raw = redactor.bytes(line.encode() + b"\n\xff\xfe")  # invalid UTF-8 around it does not matter
    assert secret.encode() not in raw and REDACTED.encode() in raw
    assert raw.endswith(b"\xff\xfe")
    assert redactor.drain()


def test_context_is_kept() -> None:
    redactor = Redactor()
    assert redactor.text("password=abc other=1") == f"password={REDACTED} other=1"
    assert redactor.text("GET https://u:p4ss@h/x") == f"GET https://u:{REDACTED}@h/x"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [("4111111111111111", True), ("4111111111111112", False), ("378282246310005", True), ("0", True)],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_ok(digits) is valid


def test_card_needs_luhn_and_epochs_are_not_cards() -> None:
    redactor = Redactor()
    assert redactor.text("order 4111111111111112 shipped") == "order 4111111111111112 shipped"
    assert redactor.text("ts=1733220000000 id=12345678901234567") == "ts=1733220000000 id=12345678901234567"
    assert REDACTED in redactor.text("pan=4111111111111111")
    # Luhn-valid digit runs inside hex ids/hashes are not cards (found by the reliability oracle).
    assert redactor.text("sum 53247065705843fe") == "sum 53247065705843fe"
    assert redactor.bytes(b"id=ab53247065705843") == b"id=ab53247065705843"


def test_clean_text_is_returned_as_is() -> None:
    redactor = Redactor()
    line = "GET /api/orders/42 200 12ms user=bob"
    assert redactor.text(line) is line
    assert not redactor.drain()


def test_doc_keys_nested_and_lists() -> None:
    redactor = Redactor(keys=["X-Session"])
    doc = {
        "message": "ok",
        "http.request.headers.authorization": "Basic abc",
        "attributes": {"password": "pw", "nested": {"x-session": "s"}, "list": ["Bearer tok123456"]},
        "http.response.status_code": 200,
    }
    redactor.doc(doc)
    assert doc["http.request.headers.authorization"] == REDACTED
    assert doc["attributes"]["password"] == REDACTED
    assert doc["attributes"]["nested"]["x-session"] == REDACTED
    assert doc["attributes"]["list"] == [f"Bearer {REDACTED}"]
    assert doc["http.response.status_code"] == 200


def test_custom_pattern() -> None:
    redactor = Redactor(patterns=[r"EMP-\d{6}"])
    assert redactor.text("employee EMP-123456 left") == f"employee {REDACTED} left"
    assert redactor.bytes(b"employee EMP-123456 left") == f"employee {REDACTED} left".encode()


def test_allow_list_mode_scans_only_listed_fields() -> None:
    redactor = Redactor(fields=["message"])
    doc = {"message": "password=x1", "url.original": "password=x2", "attributes": {"token": "t"}}
    redactor.doc(doc)
    assert doc["message"] == f"password={REDACTED}"
    assert doc["url.original"] == "password=x2"  # not listed: not scanned by pattern
    assert doc["attributes"]["token"] == REDACTED  # secret keys are redacted everywhere


def test_prepare_redacts_docs_raw_and_dead_letters_by_default() -> None:
    source = Source("t", 0, 1)
    raw = b"level=info password=hunter2 msg=x"
    item = Item({"message": "password=hunter2"}, "logs", "app", "default", "id1", source, raw)
    letter = DeadLetter(
        "json_truncated", "parse_error", "near 'token=abc123'", b'{"token": "abc123', source, "id2"
    )
    decoded = Decoded(items=[item], dead=[letter])
    out = prepare(decoded, now_ns=10**18, started_ns=10**18, options=BatchOptions())
    assert "hunter2" not in out.pending[0].doc["message"]
    assert b"hunter2" not in (out.pending[0].raw or b"")
    assert b"abc123" not in out.dead[0].raw and "abc123" not in out.dead[0].detail
    assert out.redactions
    off = prepare(
        Decoded(items=[Item({"message": "password=hunter2"}, "logs", "app", "default", "i", source, raw)]),
        now_ns=10**18,
        started_ns=10**18,
        options=BatchOptions(redactor=None),
    )
    assert off.pending[0].doc["message"] == "password=hunter2"
