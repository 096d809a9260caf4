"""ElasticsearchSink against a scripted bulk endpoint: retries, splits, pauses, breaker, accounting."""

import asyncio

import pytest
from sink_fakes import FakeES, RecordingWriter, api_error, connection_error, failed, ok, pendings, response

from pipeline.config.sink import SinkSettings
from pipeline.sink.bulk import ElasticsearchSink
from pipeline.sink.items import DeadLetter

pytestmark = pytest.mark.timeout(10)

FAST = {"backoff_initial_s": 0.001, "backoff_max_s": 0.002, "pause_recheck_s": 0.01}


def sink_with(answer, writer=None, **settings) -> tuple[ElasticsearchSink, FakeES, RecordingWriter]:
    es = FakeES(answer)
    writer = writer or RecordingWriter()
    return ElasticsearchSink(SinkSettings(**{**FAST, **settings}), es, writer), es, writer


def all_ok(_: int, docs):
    return response([ok(d) for d in docs])


def assert_accounted(delivery, consumed: int) -> None:
    assert delivery.indexed + delivery.duplicates + delivery.dead_lettered == consumed


async def test_indexes_everything_in_bounded_requests() -> None:
    sink, es, writer = sink_with(all_ok, max_docs=3)
    delivery = await sink.deliver(pendings(7))
    assert [len(r) for r in es.requests] == [3, 3, 1]
    assert (delivery.indexed, delivery.dead_lettered, delivery.by_stream) == (
        7,
        0,
        {"logs-logtrace.unit-test": 7},
    )
    assert writer.calls == 0
    assert_accounted(delivery, 7)


async def test_items_answered_429_are_resent_alone() -> None:
    def answer(call: int, docs):
        return response(
            [
                failed(429, "es_rejected_execution_exception") if call == 1 and d["n"] % 2 else ok(d)
                for d in docs
            ]
        )

    sink, es, _ = sink_with(answer)
    delivery = await sink.deliver(pendings(4))
    assert [[d["n"] for d in r] for r in es.requests] == [[0, 1, 2, 3], [1, 3]]
    assert (delivery.indexed, delivery.retried) == (4, 2)


async def test_connection_errors_are_retried_until_elasticsearch_answers() -> None:
    def answer(call: int, docs):
        if call <= 5:
            raise connection_error()
        return all_ok(call, docs)

    sink, es, _ = sink_with(answer)
    delivery = await sink.deliver(pendings(3))
    assert len(es.requests) == 6 and delivery.indexed == 3
    assert sink.readiness() == (True, None)


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_retryable_request_statuses(status: int) -> None:
    def answer(call: int, docs):
        if call == 1:
            raise api_error(status)
        return all_ok(call, docs)

    sink, _, _ = sink_with(answer)
    assert (await sink.deliver(pendings(2))).indexed == 2


async def test_413_splits_until_it_fits_and_never_drops() -> None:
    def answer(call: int, docs):
        if len(docs) > 2:
            raise api_error(413, "request_entity_too_large")
        return all_ok(call, docs)

    sink, es, _ = sink_with(answer)
    delivery = await sink.deliver(pendings(8))
    assert delivery.indexed == 8
    assert sorted(d["n"] for r in es.requests if len(r) <= 2 for d in r) == list(range(8))


async def test_a_single_document_refused_with_413_is_dead_lettered() -> None:
    def answer(call: int, docs):
        if any(d["n"] == 2 for d in docs):
            raise api_error(413, "request_entity_too_large")
        return all_ok(call, docs)

    sink, _, writer = sink_with(answer)
    delivery = await sink.deliver(pendings(4))
    assert (delivery.indexed, delivery.dead_lettered) == (3, 1)
    assert [(letter.reason, letter.doc_id, letter.raw) for letter in writer.letters] == [
        ("document_too_large", "id2", b"raw2")
    ]


async def test_mapping_error_dead_letters_only_that_document() -> None:
    def answer(call: int, docs):
        return response(
            [
                failed(400, "document_parsing_exception", "failed to parse field [n]")
                if d["n"] == 3
                else ok(d)
                for d in docs
            ]
        )

    sink, _, writer = sink_with(answer)
    delivery = await sink.deliver(pendings(20))
    assert (delivery.indexed, delivery.dead_lettered) == (19, 1)
    letter = writer.letters[0]
    assert (letter.reason, letter.error_type, letter.doc_id, letter.source.offset) == (
        "document_parsing_exception",
        "document_parsing_exception",
        "id3",
        3,
    )
    assert letter.data_stream == "logs-logtrace.unit-test" and b'"n":3' in letter.document


async def test_409_counts_as_already_indexed() -> None:
    sink, _, _ = sink_with(
        lambda call, docs: response([failed(409, "version_conflict_engine_exception") for _ in docs])
    )
    delivery = await sink.deliver(pendings(3))
    assert (delivery.indexed, delivery.duplicates, delivery.dead_lettered) == (0, 3, 0)


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (403, "security_exception"),
        (401, "security_exception"),
        (403, "cluster_block_exception"),
        (429, "cluster_block_exception"),
        (404, "index_not_found_exception"),
        (500, "weird_exception"),
    ],
)
async def test_not_the_documents_fault_pauses_instead_of_dead_lettering(status: int, error_type: str) -> None:
    fixed = asyncio.Event()

    def answer(call: int, docs):
        if not fixed.is_set():
            return response([failed(status, error_type, "blocked") for _ in docs])
        return all_ok(call, docs)

    sink, _, writer = sink_with(answer)
    task = asyncio.create_task(sink.deliver(pendings(3)))
    for _ in range(200):
        await asyncio.sleep(0.005)
        if not sink.readiness()[0]:
            break
    ready, reason = sink.readiness()
    assert not ready and error_type in reason and not task.done()
    fixed.set()
    delivery = await task
    assert (delivery.indexed, delivery.dead_lettered, writer.letters) == (3, 0, [])
    assert sink.readiness() == (True, None)


async def test_request_level_401_pauses() -> None:
    calls = []

    def answer(call: int, docs):
        calls.append(call)
        if call < 3:
            raise api_error(401, "security_exception", "unable to authenticate with provided credentials")
        return all_ok(call, docs)

    sink, _, _ = sink_with(answer)
    assert (await sink.deliver(pendings(2))).indexed == 2 and len(calls) == 3


async def test_circuit_breaker_holds_a_batch_that_is_mostly_mapping_errors() -> None:
    fixed = asyncio.Event()

    def answer(call: int, docs):
        if fixed.is_set():
            return all_ok(call, docs)
        return response(
            [
                failed(400, "mapper_parsing_exception", "failed to parse field [message] of type [long]")
                if d["n"] % 4
                else ok(d)
                for d in docs
            ]
        )

    sink, _, writer = sink_with(answer)
    task = asyncio.create_task(sink.deliver(pendings(20)))
    for _ in range(200):
        await asyncio.sleep(0.005)
        if not sink.readiness()[0]:
            break
    ready, reason = sink.readiness()
    assert not ready and reason.startswith("circuit_open: 15 of 20")
    fixed.set()
    delivery = await task
    assert (delivery.indexed, delivery.dead_lettered, writer.letters) == (20, 0, [])


async def test_persistent_item_errors_on_a_healthy_cluster_are_capped() -> None:
    def answer(call: int, docs):
        return response([failed(503, "unavailable_shards_exception") if d["n"] == 0 else ok(d) for d in docs])

    sink, es, writer = sink_with(answer, max_item_retries=2)
    delivery = await sink.deliver(pendings(3))
    assert (delivery.indexed, delivery.dead_lettered) == (2, 1)
    assert writer.letters[0].reason == "retries_exhausted"
    assert writer.letters[0].error_type == "unavailable_shards_exception"
    # Singled out in the first request; each resend alone counts too: 1 + 2 retries, then dead-lettered.
    assert len(es.requests) == 3


async def test_dead_letter_write_failures_keep_the_batch_undone_until_durable() -> None:
    writer = RecordingWriter(failures=3)
    sink, _, _ = sink_with(
        lambda call, docs: response(
            [failed(400, "mapper_parsing_exception") if d["n"] == 0 else ok(d) for d in docs]
        ),
        writer=writer,
    )
    delivery = await sink.deliver(pendings(2))
    assert writer.calls == 4 and delivery.dead_lettered == 1 and len(writer.letters) == 1


async def test_record_level_dead_letters_and_unserializable_documents() -> None:
    items = pendings(2)
    items[1].doc["bad"] = {1, 2}  # a set: orjson cannot serialize it
    dead = [DeadLetter("otlp_proto_decode", "DecodeError", "truncated", b"\x00\x01", None, None)]
    sink, _, writer = sink_with(all_ok)
    delivery = await sink.deliver(items, dead)
    assert (delivery.indexed, delivery.dead_lettered) == (1, 2)
    assert sorted(letter.reason for letter in writer.letters) == [
        "document_serialization",
        "otlp_proto_decode",
    ]
    assert_accounted(delivery, 3)


async def test_concurrency_is_bounded() -> None:
    in_flight = 0
    peak = 0

    class SlowES(FakeES):
        async def bulk(self, operations: bytes, filter_path: str):
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.01)
            in_flight -= 1
            return await super().bulk(operations, filter_path)

    sink = ElasticsearchSink(
        SinkSettings(**FAST, max_docs=1, max_concurrent_requests=2), SlowES(all_ok), RecordingWriter()
    )
    assert (await sink.deliver(pendings(6))).indexed == 6
    assert peak == 2


async def test_cancellation_propagates() -> None:
    sink, _, _ = sink_with(lambda call, docs: (_ for _ in ()).throw(connection_error()))
    task = asyncio.create_task(sink.deliver(pendings(1)))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sink.readiness() == (True, None)


async def test_close_closes_the_client() -> None:
    sink, es, _ = sink_with(all_ok)
    await sink.close()
    assert es.closed


async def test_a_stream_outside_logtrace_is_never_written() -> None:
    items = pendings(2)
    items[0].data_stream = ".kibana"
    sink, es, writer = sink_with(all_ok)
    delivery = await sink.deliver(items)
    assert [len(r) for r in es.requests] == [1]
    assert (delivery.indexed, delivery.dead_lettered) == (1, 1)
    assert writer.letters[0].reason == "invalid_data_stream"


async def test_metrics_account_every_consumed_document() -> None:
    from pipeline import telemetry

    def value(metric, **labels) -> float:
        return telemetry.REGISTRY.get_sample_value(metric, labels) or 0.0

    def answer(call: int, docs):
        return response(
            [
                failed(400, "mapper_parsing_exception")
                if d["n"] == 1
                else failed(409, "version_conflict_engine_exception")
                if d["n"] == 2
                else ok(d)
                for d in docs
            ]
        )

    before = (
        value("logtrace_sink_documents_consumed_total"),
        value("logtrace_sink_documents_indexed_total", data_stream="logs-logtrace.unit-test"),
        value("logtrace_sink_documents_duplicate_total"),
        value("logtrace_sink_dead_lettered_total", reason="mapper_parsing_exception"),
    )
    sink, _, _ = sink_with(answer)
    delivery = await sink.deliver(pendings(10))
    after = (
        value("logtrace_sink_documents_consumed_total"),
        value("logtrace_sink_documents_indexed_total", data_stream="logs-logtrace.unit-test"),
        value("logtrace_sink_documents_duplicate_total"),
        value("logtrace_sink_dead_lettered_total", reason="mapper_parsing_exception"),
    )
    consumed, indexed, duplicates, dead = (a - b for a, b in zip(after, before, strict=True))
    assert (consumed, indexed, duplicates, dead) == (10, 8, 1, 1)
    assert consumed == indexed + duplicates + dead
    assert (delivery.indexed, delivery.duplicates, delivery.dead_lettered) == (8, 1, 1)
