"""The pure parts of `logtrace dlq replay`: time filters, selection, and rebuilding the document."""

from datetime import UTC, datetime

import pytest

from pipeline.sink.replay import Letter, parse_since, selected

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2h", datetime(2026, 12, 3, 10, 0, tzinfo=UTC)),
        ("30m", datetime(2026, 12, 3, 11, 30, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 26, 12, 0, tzinfo=UTC)),
        ("2026-12-01T08:00:00", datetime(2026, 12, 1, 8, 0, tzinfo=UTC)),
        ("2026-12-01T08:00:00+02:00", datetime(2026, 12, 1, 6, 0, tzinfo=UTC)),
    ],
)
def test_parse_since(value: str, expected: datetime) -> None:
    assert parse_since(value, NOW) == expected


def test_parse_since_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        parse_since("yesterday", NOW)


def letter(**headers: bytes) -> Letter:
    base = {
        "reason": b"mapper_parsing_exception",
        "doc_id": b"AbC",
        "data_stream": b"logs-logtrace.app-default",
        "document": b'{"message":"x"}',
        "source_topic": b"app",
        "source_partition": b"1",
        "source_offset": b"9",
        "source_index": b"2",
    }
    return Letter(b"raw", {**base, **headers}, timestamp_ms=1_000)


def test_selection_by_reason_and_time() -> None:
    assert selected(letter(), "mapper_parsing_exception", 1_000)
    assert not selected(letter(), "otlp_proto_decode", None)
    assert not selected(letter(), None, 1_001)


def test_a_document_letter_is_rebuilt_with_its_original_id_and_stream() -> None:
    pending = letter().pending()
    assert pending is not None
    assert (pending.doc, pending.data_stream, pending.doc_id, pending.raw) == (
        {"message": "x"},
        "logs-logtrace.app-default",
        "AbC",
        b"raw",
    )
    assert (pending.source.topic, pending.source.partition, pending.source.offset, pending.source.index) == (
        "app",
        1,
        9,
        2,
    )


def test_record_letters_and_foreign_streams_are_not_documents() -> None:
    record = Letter(b"raw", {"reason": b"otlp_proto_decode"}, 0)
    assert record.pending() is None and record.source is None
    assert letter(data_stream=b".kibana").pending() is None
