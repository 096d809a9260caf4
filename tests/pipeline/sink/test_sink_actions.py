"""Bulk bytes are exact and serialized once; every item outcome maps to the right decision."""

import orjson
import pytest

from pipeline.sink import actions
from pipeline.sink.actions import Decision, ItemError
from pipeline.sink.items import Pending


def test_encode_is_byte_exact_and_sets_the_stream_fields() -> None:
    pending = Pending(
        {"@timestamp": "2026-01-01T00:00:00Z", "message": "héllo\n"},
        "logs-logtrace.app-prod",
        "AbC_-1",
        None,
        None,
    )
    encoded = actions.encode(pending)
    assert encoded.body == (
        b'{"create":{"_index":"logs-logtrace.app-prod","_id":"AbC_-1"}}\n'
        b'{"@timestamp":"2026-01-01T00:00:00Z","message":"h\xc3\xa9llo\\n","data_stream.type":"logs",'
        b'"data_stream.dataset":"logtrace.app","data_stream.namespace":"prod","event.dataset":"logtrace.app"}\n'
    )
    assert actions.body([encoded, encoded]) == encoded.body * 2


def test_each_document_is_serialized_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = orjson.dumps
    monkeypatch.setattr(
        actions.orjson, "dumps", lambda value, *a, **k: calls.append(value) or real(value, *a, **k)
    )
    encoded = actions.encode(Pending({"a": 1}, "logs-logtrace.app-prod", "x", None, None))
    actions.body([encoded])
    actions.body([encoded])
    assert sum(1 for value in calls if "a" in value) == 1


def test_unserializable_values_are_the_documents_fault() -> None:
    with pytest.raises(actions.EncodeError):
        actions.encode(Pending({"a": {1, 2}}, "logs-logtrace.app-prod", "x", None, None))


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"create": {"status": 201}}, None),
        (
            {
                "create": {
                    "status": 409,
                    "error": {"type": "version_conflict_engine_exception", "reason": "exists"},
                }
            },
            ItemError(409, "version_conflict_engine_exception", "exists"),
        ),
        ({"create": {"status": 500, "error": "plain text"}}, ItemError(500, "unknown", "plain text")),
    ],
)
def test_item_error(item: dict, expected: ItemError | None) -> None:
    assert actions.item_error(item) == expected


CLASSIFICATION = [
    (None, Decision.INDEXED),
    (ItemError(409, "version_conflict_engine_exception", "already exists"), Decision.DUPLICATE),
    (ItemError(429, "es_rejected_execution_exception", "queue full"), Decision.RETRY),
    (ItemError(503, "unavailable_shards_exception", "primary not active"), Decision.RETRY),
    (ItemError(502, "x", ""), Decision.RETRY),
    (ItemError(504, "x", ""), Decision.RETRY),
    (ItemError(400, "mapper_parsing_exception", "failed to parse field [a]"), Decision.DEAD_LETTER),
    (ItemError(400, "document_parsing_exception", "[1:5] failed to parse"), Decision.DEAD_LETTER),
    (ItemError(400, "strict_dynamic_mapping_exception", "not allowed"), Decision.DEAD_LETTER),
    (
        ItemError(400, "illegal_argument_exception", "Document contains at least one immense term"),
        Decision.DEAD_LETTER,
    ),
    (
        ItemError(400, "illegal_argument_exception", "Limit of total fields [1500] has been exceeded"),
        Decision.DEAD_LETTER,
    ),
    (
        ItemError(400, "illegal_argument_exception", "only write ops with an op_type of create are allowed"),
        Decision.PAUSE,
    ),
    (
        ItemError(400, "illegal_argument_exception", "no matching index template found for data stream [x]"),
        Decision.PAUSE,
    ),
    (ItemError(401, "security_exception", "unable to authenticate"), Decision.PAUSE),
    (
        ItemError(403, "security_exception", "action [indices:data/write/bulk] is unauthorized"),
        Decision.PAUSE,
    ),
    (
        ItemError(403, "cluster_block_exception", "index [x] blocked by: [FORBIDDEN/8/index write (api)]"),
        Decision.PAUSE,
    ),
    (
        ItemError(429, "cluster_block_exception", "blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded]"),
        Decision.PAUSE,
    ),
    (ItemError(404, "index_not_found_exception", "no such index"), Decision.PAUSE),
    (ItemError(400, "invalid_index_name_exception", "must be lowercase"), Decision.PAUSE),
    (ItemError(500, "null_pointer_exception", ""), Decision.PAUSE),
    (ItemError(400, "something_new_exception", ""), Decision.PAUSE),
]


@pytest.mark.parametrize(("error", "decision"), CLASSIFICATION)
def test_classify_item(error: ItemError | None, decision: Decision) -> None:
    assert actions.classify_item(error) is decision


@pytest.mark.parametrize(
    ("status", "decision"),
    [
        (429, Decision.RETRY),
        (502, Decision.RETRY),
        (503, Decision.RETRY),
        (504, Decision.RETRY),
        (401, Decision.PAUSE),
        (403, Decision.PAUSE),
        (404, Decision.PAUSE),
        (400, Decision.PAUSE),
        (500, Decision.PAUSE),
    ],
)
def test_classify_request(status: int, decision: Decision) -> None:
    assert actions.classify_request(status) is decision
