"""Splitting encoded documents into bulk requests bounded by document count and body bytes.

A document larger than the byte bound travels alone (Elasticsearch may still accept it); only a
one-document request that Elasticsearch rejects with 413 makes the document `document_too_large`.
"""

from collections.abc import Iterable, Iterator

from pipeline.sink.actions import Encoded


def chunks(items: Iterable[Encoded], max_docs: int, max_bytes: int) -> Iterator[list[Encoded]]:
    """Consecutive runs of `items`, each at most `max_docs` long and `max_bytes` in body size.

    Order is kept, so the request that carries an item is predictable in tests.
    """
    chunk: list[Encoded] = []
    size = 0
    for item in items:
        length = len(item.body)
        if chunk and (len(chunk) >= max_docs or size + length > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += length
    if chunk:
        yield chunk


def halves(items: list[Encoded]) -> tuple[list[Encoded], list[Encoded]]:
    """The two halves of a request Elasticsearch refused as too large (413); needs >= 2 items."""
    if len(items) < 2:
        raise ValueError("a single document cannot be split")
    middle = len(items) // 2
    return items[:middle], items[middle:]
