"""The pure half of bulk indexing: documents to NDJSON bytes, and bulk item results to decisions.

Each document is serialized exactly once, with orjson, into an `Encoded` that keeps its bytes for every
resend; a bulk request body is the concatenation of those bytes, never re-serialized.
"""

import enum
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson

from pipeline.sink.items import Pending


@dataclass(slots=True)
class Encoded:
    """A document with its bulk action bytes (`{"create":...}\\n{doc}\\n`) and its retry count."""

    pending: Pending
    body: bytes
    # Retries caused by errors that persisted while the cluster was otherwise healthy (see bulk.py).
    attempts: int = 0


class EncodeError(ValueError):
    """The document cannot be serialized (a value orjson does not know): the document's fault."""


def action_line(data_stream: str, doc_id: str) -> bytes:
    """The bulk action line: `create` because data streams accept only creates."""
    return orjson.dumps({"create": {"_index": data_stream, "_id": doc_id}})


@lru_cache(maxsize=1024)
def stream_fields(data_stream: str) -> dict[str, str]:
    """The `data_stream.*` and `event.dataset` fields of a document in `data_stream` (type-dataset-ns)."""
    kind, dataset, namespace = data_stream.split("-", 2)
    return {
        "data_stream.type": kind,
        "data_stream.dataset": dataset,
        "data_stream.namespace": namespace,
        "event.dataset": dataset,
    }


def encode(pending: Pending) -> Encoded:
    """`pending` as bulk bytes; raises EncodeError for values orjson cannot serialize.

    Sets the document's `data_stream.*` / `event.dataset` fields (in place) to match its stream.
    """
    pending.doc.update(stream_fields(pending.data_stream))
    try:
        doc = orjson.dumps(pending.doc)
    except TypeError as exc:
        raise EncodeError(str(exc)) from exc
    return Encoded(pending, action_line(pending.data_stream, pending.doc_id) + b"\n" + doc + b"\n")


def body(items: list[Encoded]) -> bytes:
    """The NDJSON body of one bulk request."""
    return b"".join(item.body for item in items)


class Decision(enum.Enum):
    """What the sink does with one bulk item (or a whole failed request)."""

    INDEXED = "indexed"
    # 409 on create: the document is already there (a replay or a retried request).
    DUPLICATE = "duplicate"
    # Transient: send again after a backoff.
    RETRY = "retry"
    # The document itself is wrong: dead-letter it.
    DEAD_LETTER = "dead_letter"
    # Not the document's fault and not transient: stop consuming until the condition clears.
    PAUSE = "pause"


@dataclass(frozen=True, slots=True)
class ItemError:
    """A failed bulk item (or request): HTTP status, Elasticsearch error type and reason."""

    status: int
    type: str
    reason: str


# Statuses that are retried whether they come for the whole request or for one item.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Error types a document causes by its content.
DOCUMENT_ERRORS = frozenset(
    {
        "mapper_parsing_exception",
        "document_parsing_exception",
        "strict_dynamic_mapping_exception",
        "x_content_parse_exception",
        "json_parse_exception",
        "illegal_argument_exception",
    }
)
# Error types that are never the document's fault, whatever the status.
PAUSE_ERRORS = frozenset(
    {
        "cluster_block_exception",
        "index_closed_exception",
        "index_not_found_exception",
        "security_exception",
        "invalid_index_name_exception",
    }
)
# illegal_argument_exception also reports problems of the request or the cluster set-up; these words
# in its reason mean it is not about the document's content.
_NOT_CONTENT = ("op_type", "index template", "pipeline", "write index", "alias", "data stream [")


def item_error(item: dict[str, Any]) -> ItemError | None:
    """The error of one entry of a bulk response's `items` (`{"create": {...}}`), None on success."""
    result = next(iter(item.values()))
    status = int(result.get("status", 0))
    error = result.get("error")
    if error is None and status < 300:
        return None
    if not isinstance(error, dict):
        return ItemError(status, "unknown", str(error))
    return ItemError(status, str(error.get("type", "unknown")), str(error.get("reason", "")))


def classify_item(error: ItemError | None) -> Decision:
    """Decide on one bulk item from its error (None = success)."""
    if error is None:
        return Decision.INDEXED
    if error.type in PAUSE_ERRORS:
        return Decision.PAUSE
    if error.status == 409 and error.type == "version_conflict_engine_exception":
        return Decision.DUPLICATE
    if error.status in RETRY_STATUSES:
        return Decision.RETRY
    if error.status == 400 and error.type in DOCUMENT_ERRORS:
        if error.type == "illegal_argument_exception" and any(w in error.reason for w in _NOT_CONTENT):
            return Decision.PAUSE
        return Decision.DEAD_LETTER
    if error.status in (401, 403, 404):
        return Decision.PAUSE
    # Unknown errors never dead-letter: a human has to look.
    return Decision.PAUSE


def classify_request(status: int) -> Decision:
    """Decide on a bulk request that failed as a whole with HTTP `status` (413 is split, not decided)."""
    if status in RETRY_STATUSES:
        return Decision.RETRY
    return Decision.PAUSE
