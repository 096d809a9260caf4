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


def test_allow_list_mode_keeps_listed_and_pipeline_fields_only() -> None:
    redactor = Redactor(allow=["message", "attributes.user", "url.*", "labels"])
    doc = {
        "@timestamp": "2026-01-01T00:00:00.000000000Z",
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "service.name": "checkout",
        "log.level": "info",
        "http.response.status_code": 200,
        "message": "login ok password=x1",
        "url.original": "/a?token=t1",
        "url.path": "/a",
        "user.name": "bob",
        "source.ip": "10.0.0.1",
        "error.message": "boom",
        "tags": ["a", "b"],
        "labels": {"team": "pay"},
        "logtrace.parse.problems": ["timestamp_missing"],
        "attributes": {
            "user": "ann",
            "password": "pw",
            "cart": {"items": 3, "sku": "x"},
            "ok": True,
            "n": None,
        },
    }
    redactor.doc(doc)
    assert doc == {
        "@timestamp": "2026-01-01T00:00:00.000000000Z",
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "service.name": "checkout",
        "log.level": "info",
        "http.response.status_code": 200,
        "message": f"login ok password={REDACTED}",  # listed: kept, still deny-list redacted
        "url.original": f"/a?token={REDACTED}",
        "url.path": "/a",
        "user.name": REDACTED,
        "source.ip": REDACTED,  # personal data: masked unless listed
        "error.message": REDACTED,
        "tags": [REDACTED, REDACTED],
        "labels": {"team": "pay"},  # an entry covers its sub-fields
        "logtrace.parse.problems": ["timestamp_missing"],
        "attributes": {
            "user": "ann",
            "password": REDACTED,
            "cart": {"items": REDACTED, "sku": REDACTED},
            "ok": REDACTED,
            "n": None,
        },
    }
    assert redactor.drain() == {"key_value": 2, "not_allowed": 8, "secret_key": 1}
    # Record bytes cannot be split into fields: in this mode they are masked whole.
    assert redactor.bytes(b'{"message": "hello"}') == REDACTED.encode()
    assert redactor.drain() == {"not_allowed": 1}


def test_allow_list_secret_keys_win_over_listing() -> None:
    redactor = Redactor(allow=["attributes.*"])
    doc = {"attributes": {"token": {"a": "b"}, "api_key": 12, "x": "y"}}
    redactor.doc(doc)
    assert doc == {"attributes": {"token": REDACTED, "api_key": REDACTED, "x": "y"}}


@pytest.mark.parametrize("entry", ["", "a b", "*", "attributes.*.x", "url*"])
def test_allow_list_entries_are_validated(entry: str) -> None:
    with pytest.raises(ValueError, match="invalid allow-list entry"):
        Redactor(allow=[entry])


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


def test_undecodable_record_dead_letter_is_redacted_and_original_kept_only_on_request() -> None:
    from pipeline.records import RawSpec, Record, decode_raw, zone

    # Nested too deep for the JSON parser (a dead letter), with invalid UTF-8 in it.
    raw = (
        b'{"password": "hunter2", "note": "Bearer abc.def \xff\xfe", "a":'
        + b'{"a":' * 200
        + b"1"
        + b"}" * 201
    )
    record = Record(topic="t", partition=0, offset=7, timestamp_ms=None, key=None, value=raw)
    decoded = decode_raw(record, RawSpec("json", "app", "default", None, zone("UTC")), now_ns=10**18)
    assert len(decoded.dead) == 1 and not decoded.items
    kept = prepare(decoded, now_ns=10**18, started_ns=10**18, options=BatchOptions(keep_original=True))
    letter = kept.dead[0]
    assert letter.reason == "json_too_deep"
    assert letter.raw == raw.replace(b"hunter2", b"[REDACTED]").replace(b"abc.def", b"[REDACTED]")
    assert letter.original == raw
    decoded = decode_raw(record, RawSpec("json", "app", "default", None, zone("UTC")), now_ns=10**18)
    plain = prepare(decoded, now_ns=10**18, started_ns=10**18, options=BatchOptions())
    assert plain.dead[0].original is None and b"hunter2" not in plain.dead[0].raw


def test_pending_documents_keep_the_unredacted_record_only_on_request() -> None:
    source = Source("t", 0, 1)
    raw = b"level=info password=hunter2 msg=x"

    def run(keep: bool):
        item = Item({"message": "password=hunter2"}, "logs", "app", "default", "id1", source, raw)
        options = BatchOptions(keep_original=keep)
        return prepare(Decoded(items=[item]), now_ns=10**18, started_ns=10**18, options=options).pending[0]

    kept = run(True)
    assert kept.raw == b"level=info password=[REDACTED] msg=x" and kept.original == raw
    assert run(False).original is None


def test_worker_log_entries_are_redacted() -> None:
    from pipeline.enrich.redact import default_redactor, redact_log_entry

    entry = {
        "@timestamp": "2026-01-01T00:00:00.000Z",
        "log.level": "error",
        "message": "bulk failed for postgres://app:pw1@db/x",
        "error.message": "bad header Authorization: Basic dXNlcjpw",
        "error.stack_trace": "Traceback ...\nValueError: token=abc123",
        "process.pid": 12,
        "password": "x",
    }
    assert redact_log_entry(entry) is entry
    assert entry == {
        "@timestamp": "2026-01-01T00:00:00.000Z",
        "log.level": "error",
        "message": f"bulk failed for postgres://app:{REDACTED}@db/x",
        "error.message": f"bad header Authorization: {REDACTED}",
        "error.stack_trace": f"Traceback ...\nValueError: token={REDACTED}",
        "process.pid": 12,
        "password": REDACTED,
    }
    assert not default_redactor().counts  # log lines are not counted as redacted documents


def test_worker_log_entries_also_hide_the_configured_keys_and_patterns() -> None:
    from pipeline.enrich.redact import configure_log_redaction, redact_log_entry

    def entry() -> dict[str, str]:
        return {"message": "employee EMP-20931 failed", "ssn": "078-05-1120", "user": "ann"}

    assert redact_log_entry(entry()) == entry()  # not secrets by default
    configure_log_redaction(keys=["SSN"], patterns=[r"EMP-\d+"])
    try:
        hidden = {"message": f"employee {REDACTED} failed", "ssn": REDACTED, "user": "ann"}
        assert redact_log_entry(entry()) == hidden
    finally:
        configure_log_redaction()
    assert redact_log_entry(entry()) == entry()
