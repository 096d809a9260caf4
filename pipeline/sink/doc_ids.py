"""Deterministic document ids, so a re-delivered record is recognized (409 on create) instead of copied.

An id is the URL-safe base64 (no padding, 22 chars) of a 16-byte blake2b digest over a tagged input:
the tag keeps the three id spaces apart, and the separators make the encoding unambiguous.
"""

import base64
import hashlib


def _digest_id(tag: bytes, payload: bytes) -> str:
    digest = hashlib.blake2b(payload, digest_size=16, person=tag).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def span_id_doc(trace_id: str, span_id: str) -> str:
    """The id of a span document: the same span exported twice maps to one document."""
    return _digest_id(b"logtrace-span", f"{trace_id.lower()}\x00{span_id.lower()}".encode())


def record_doc_id(topic: str, partition: int, offset: int, index: int = 0) -> str:
    """The id of the `index`-th document parsed from one Kafka record."""
    return _digest_id(b"logtrace-record", f"{topic}\x00{partition}\x00{offset}\x00{index}".encode())


def content_doc_id(data: bytes) -> str:
    """The id of a document with no Kafka coordinates (files, tests): a hash of its content."""
    return _digest_id(b"logtrace-content", data)
