"""Document ids are deterministic, short, URL-safe and distinct across their inputs."""

import re

from pipeline.sink import doc_ids

URL_SAFE_22 = re.compile(r"^[A-Za-z0-9_-]{22}$")


def test_deterministic_and_url_safe() -> None:
    ids = [
        doc_ids.span_id_doc("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"),
        doc_ids.record_doc_id("logs.app", 3, 12345, 0),
        doc_ids.content_doc_id(b"line"),
    ]
    assert ids == [
        doc_ids.span_id_doc("4BF92F3577B34DA6A3CE929D0E0E4736", "00F067AA0BA902B7"),
        doc_ids.record_doc_id("logs.app", 3, 12345, 0),
        doc_ids.content_doc_id(b"line"),
    ]
    assert all(URL_SAFE_22.match(i) for i in ids)


def test_distinct_inputs_give_distinct_ids() -> None:
    ids = {doc_ids.record_doc_id("t", p, o, i) for p in range(3) for o in range(50) for i in range(3)}
    assert len(ids) == 3 * 50 * 3
    # Separators make the encoding unambiguous: ("t1", 2) and ("t", 12) are different records.
    assert doc_ids.record_doc_id("t1", 2, 3, 0) != doc_ids.record_doc_id("t", 12, 3, 0)


def test_id_spaces_are_kept_apart() -> None:
    assert doc_ids.content_doc_id(b"t\x000\x001\x000") != doc_ids.record_doc_id("t", 0, 1, 0)
