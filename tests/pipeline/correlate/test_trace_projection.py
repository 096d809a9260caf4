"""Span and log projections: what the worker re-keys by trace id through the internal topic."""

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st
from trace_docs import T0, TRACE, log_doc, span_doc

from parsers.timefmt import iso_to_ns, ns_to_iso
from pipeline.correlate.projection import (
    MAX_TEXT_CHARS,
    LogRef,
    Projected,
    SpanRef,
    decode_ref,
    decode_refs,
    encode_refs,
    log_projection,
    project,
    span_projection,
)
from pipeline.worker import internal_partition
from tests.hostile import HOSTILE_VALUES

FIELDS = [
    "@timestamp",
    "trace.id",
    "span.id",
    "parent.id",
    "span.name",
    "service.name",
    "event.start",
    "event.end",
    "event.duration",
    "event.outcome",
    "span.status.code",
    "log.level",
]


class TestSpanProjection:
    def test_keeps_ids_times_service_and_error(self):
        """A span projects to id, parent, name, service, start/end in ns and error flag, keyed by trace id."""
        projected = span_projection(span_doc("b" * 16, "a" * 16, 10, 50, "cart", error=True))
        assert projected == Projected(
            TRACE, SpanRef("b" * 16, "a" * 16, "op-" + "b" * 16, "cart", T0 + 10, T0 + 50, True)
        )

    def test_status_error_alone_is_an_error(self):
        """A span with OTLP status error counts as an error even when its outcome says otherwise."""
        doc = span_doc("b" * 16, None, 0, 1, "cart") | {"span.status.code": "error"}
        projected = span_projection(doc)
        assert projected is not None and projected.ref.error

    def test_end_falls_back_to_start_plus_duration(self):
        """Without event.end, the end is start + event.duration; without either, it is the start."""
        doc = span_doc("b" * 16, None, 0, 70, "cart")
        del doc["event.end"]
        assert span_projection(doc).ref.end_ns == T0 + 70
        del doc["event.duration"]
        assert span_projection(doc).ref.end_ns == T0

    def test_start_falls_back_to_timestamp(self):
        """Without event.start, the span starts at @timestamp."""
        doc = span_doc("b" * 16, None, 5, 9, "cart")
        del doc["event.start"]
        assert span_projection(doc).ref.start_ns == T0 + 5

    def test_needs_trace_id_span_id_and_time(self):
        """A span without trace id, span id or any start time does not project."""
        for field in ("trace.id", "span.id"):
            doc = span_doc("b" * 16, None, 0, 1, "cart")
            del doc[field]
            assert span_projection(doc) is None
        doc = span_doc("b" * 16, None, 0, 1, "cart")
        del doc["event.start"], doc["@timestamp"]
        assert span_projection(doc) is None

    def test_long_names_are_bounded(self):
        """Names and services are cut to MAX_TEXT_CHARS."""
        doc = span_doc("b" * 16, None, 0, 1, "s" * 1000, name="n" * 1000)
        ref = span_projection(doc).ref
        assert len(ref.name) == len(ref.service) == MAX_TEXT_CHARS


class TestLogProjection:
    def test_keeps_level_keyed_by_trace(self):
        """A trace-carrying log projects to its level, keyed by its trace id."""
        assert log_projection(log_doc("error")) == Projected(TRACE, LogRef("error"))

    def test_error_levels(self):
        """Error and fatal logs are error logs; other levels and no level are not."""
        levels = ("error", "fatal", "warn", None)
        assert [LogRef(level).error for level in levels] == [True, True, False, False]

    def test_log_without_trace_does_not_project(self):
        """A log without a trace id has no projection."""
        assert log_projection(log_doc("info", trace_id=None)) is None

    def test_project_dispatches_on_span_name(self):
        """project() treats documents with span.name as spans and everything else as logs."""
        assert isinstance(project(span_doc("b" * 16, None, 0, 1, "cart")).ref, SpanRef)
        assert isinstance(project(log_doc("info")).ref, LogRef)


class TestWireFormat:
    def test_round_trip(self):
        """to_bytes then decode_ref gives back an equal ref, span or log."""
        span = SpanRef("b" * 16, None, "GET /", "cart", T0, T0 + 5, False)
        for ref in (span, LogRef("warn"), LogRef(None)):
            assert decode_ref(ref.to_bytes()) == ref

    def test_span_ref_is_small(self):
        """A span ref is a JSON array of well under 200 bytes."""
        assert len(SpanRef("b" * 16, "a" * 16, "GET /users/:id", "cart", T0, T0 + 5, False).to_bytes()) < 200

    def test_batch_round_trip(self):
        """encode_refs then decode_refs gives back the (trace id, ref) pairs in order."""
        pairs = [
            (TRACE, SpanRef("b" * 16, None, "GET /", "cart", T0, T0 + 5, True)),
            (TRACE, LogRef("warn")),
            ("c" * 32, LogRef(None)),
        ]
        assert decode_refs(encode_refs(pairs)) == pairs
        assert decode_refs(encode_refs([])) == []

    @pytest.mark.parametrize(
        "data", [b"{}", b'["s"]', b'[["t", "x", 1]]', b'[["t", "s", 1]]', b'[[1, "l", null]]', b"nope"]
    )
    def test_batch_rejects_what_is_not_refs(self, data):
        """Bytes that are not an encode_refs() value raise ValueError."""
        with pytest.raises(ValueError):
            decode_refs(data)

    @pytest.mark.parametrize("data", [b"{}", b"[]", b'["x", 1]', b'["s", 1]', b'[["s"]]', b"nope"])
    def test_rejects_what_is_not_a_ref(self, data):
        """Bytes that are not a tagged ref raise ValueError (the worker dead-letters them)."""
        with pytest.raises(ValueError):
            decode_ref(data)


class TestIsoToNs:
    @given(st.integers(min_value=0, max_value=253402300799 * 10**9))
    def test_inverse_of_ns_to_iso(self, ns):
        """iso_to_ns reads back every time ns_to_iso writes, to the nanosecond."""
        assert iso_to_ns(ns_to_iso(ns)) == ns

    def test_offsets_and_short_fractions(self):
        """Offsets are applied and a short fraction means that many digits."""
        assert iso_to_ns("1970-01-01T01:00:00.5+01:00") == 500_000_000

    @pytest.mark.parametrize(
        "text",
        ["", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00.1234567890Z"],
    )
    def test_malformed_is_none(self, text):
        """Times without a zone, impossible dates or over-long fractions read as None."""
        assert iso_to_ns(text) is None


class TestArbitraryDocuments:
    @given(st.dictionaries(st.sampled_from(FIELDS), HOSTILE_VALUES))
    def test_projection_never_raises(self, doc):
        """Any document projects to a ref or None, and the ref survives the wire."""
        projected = project(doc)
        if projected is not None:
            assert decode_ref(projected.ref.to_bytes()) == projected.ref


class TestInternalPartition:
    @given(st.binary(min_size=1, max_size=64), st.integers(1, 64))
    def test_same_as_kafkas_default_partitioner(self, key, partitions):
        """The batched sends' partition of a key is the one a message keyed by it got before batching."""
        every = list(range(partitions))
        assert internal_partition(key, partitions) == DefaultPartitioner()(key, every, every)
