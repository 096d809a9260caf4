"""Requests are bounded by documents and bytes; a 413 halves a request."""

import pytest

from pipeline.sink.actions import Encoded
from pipeline.sink.batching import chunks, halves
from pipeline.sink.items import Pending


def items(*sizes: int) -> list[Encoded]:
    return [
        Encoded(Pending({}, "logs-logtrace.a-b", str(i), None, None), b"x" * size)
        for i, size in enumerate(sizes)
    ]


def lengths(result: list[list[Encoded]]) -> list[list[int]]:
    return [[len(item.body) for item in chunk] for chunk in result]


def test_split_by_count() -> None:
    assert lengths(list(chunks(items(1, 1, 1, 1, 1), max_docs=2, max_bytes=100))) == [[1, 1], [1, 1], [1]]


def test_split_by_bytes_keeps_order() -> None:
    assert lengths(list(chunks(items(40, 40, 30, 10, 50), max_docs=10, max_bytes=100))) == [
        [40, 40],
        [30, 10, 50],
    ]


def test_an_oversize_document_travels_alone() -> None:
    assert lengths(list(chunks(items(10, 500, 10), max_docs=10, max_bytes=100))) == [[10], [500], [10]]


def test_empty_input() -> None:
    assert list(chunks([], max_docs=1, max_bytes=1)) == []


def test_halves() -> None:
    first, second = halves(items(1, 2, 3, 4, 5))
    assert (lengths([first]), lengths([second])) == ([[1, 2]], [[3, 4, 5]])


def test_one_document_cannot_be_halved() -> None:
    with pytest.raises(ValueError):
        halves(items(1))
