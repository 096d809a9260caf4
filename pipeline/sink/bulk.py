"""ElasticsearchSink: delivers documents with bulk requests until every one of them is durable.

`deliver()` returns only when each document is indexed (201), already there (409) or dead-lettered.
Everything else is retried in place, so the worker that awaits it stops pulling from Kafka meanwhile:

- connection errors and 429/502/503/504 answers: retried with exponential backoff and jitter, forever;
- items answered 429/5xx: retried item by item; one that failed while others in its request succeeded
  is retried at most `max_item_retries` times, then dead-lettered as `retries_exhausted`;
- 413: the request is split in halves; a single document refused so is `document_too_large`;
- errors that are not the document's fault (401/403, blocks, missing index, unknown errors): the sink
  pauses (readiness() says why) and re-checks every `pause_recheck_s`;
- mapping/parsing errors: dead-lettered — unless they are more than `breaker_deadletter_ratio` of a
  request, which means a broken template, not bad documents: then the circuit opens and the sink pauses.

The official helpers (async_streaming_bulk) are not used: they re-serialize documents, retry only 429
with a bounded count and cannot split on 413 or pause; the client's `bulk()` sends our bytes as they are.
"""

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from elasticsearch import ApiError, AsyncElasticsearch, TransportError

from pipeline import telemetry
from pipeline.config.sink import SinkSettings
from pipeline.sink import actions
from pipeline.sink.actions import Decision, Encoded, ItemError
from pipeline.sink.batching import chunks, halves
from pipeline.sink.deadletter import DeadLetterWriter, letter_for
from pipeline.sink.items import DeadLetter, Delivery, Pending
from pipeline.sink.routing import is_ours

# Only what classification needs: keeps the response (one entry per document) small to parse.
_FILTER_PATH = "errors,items.*.status,items.*.error.type,items.*.error.reason"
# Characters of an Elasticsearch error reason kept in a pause reason or a dead letter.
_MAX_REASON_CHARS = 2000


@dataclass(slots=True)
class _Answer:
    """One bulk request's result: item errors in request order, or the failure of the whole request."""

    items: list[ItemError | None] = field(default_factory=list)
    # HTTP status of a request that failed as a whole; 0 = no answer (connection error, timeout).
    failed_status: int | None = None
    failure: str = ""


class _Backoff:
    """Exponential backoff with jitter: the n-th wait is uniform in [d/2, d], d = initial * 2^(n-1) <= max."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self._initial_s = initial_s
        self._max_s = max_s
        self.failures = 0

    def reset(self) -> None:
        self.failures = 0

    async def wait(self) -> None:
        self.failures += 1
        delay = min(self._max_s, self._initial_s * 2 ** min(self.failures - 1, 30))
        await asyncio.sleep(random.uniform(delay / 2, delay))


class ElasticsearchSink:
    """Bulk-indexes `Pending` documents into their data streams, dead-letters what they caused."""

    def __init__(self, settings: SinkSettings, es: AsyncElasticsearch, deadletters: DeadLetterWriter) -> None:
        self._settings = settings
        self._es = es
        self._deadletters = deadletters
        self._requests = asyncio.Semaphore(settings.max_concurrent_requests)
        # Why each stuck unit of work (a chunk or a dead-letter write) is waiting; empty = ready.
        self._blocked: dict[object, str] = {}
        telemetry.SINK_READY.set(1)

    def readiness(self) -> tuple[bool, str | None]:
        """(True, None) when documents flow; (False, reason) while paused, blocked or the circuit is open."""
        for reason in self._blocked.values():
            return False, reason
        return True, None

    async def close(self) -> None:
        """Close the Elasticsearch client (deliveries in progress should be cancelled first)."""
        await self._es.close()

    async def deliver(self, items: Sequence[Pending], dead: Sequence[DeadLetter] = ()) -> Delivery:
        """Index `items` and dead-letter `dead`; returns when every one is durable (see module doc)."""
        delivery = Delivery()
        letters = list(dead)
        telemetry.SINK_CONSUMED.inc(len(items) + len(dead))
        async with asyncio.TaskGroup() as group:
            for batch in chunks(_encoded(items, letters), self._settings.max_docs, self._settings.max_bytes):
                group.create_task(self._deliver_chunk(batch, delivery, letters))
                # Let that request go out before encoding the next chunk: encoding overlaps Elasticsearch.
                await asyncio.sleep(0)
        await self._write_letters(letters)
        delivery.dead_lettered = len(letters)
        for letter in letters:
            telemetry.SINK_DEAD_LETTERED.labels(letter.reason).inc()
        return delivery

    async def _deliver_chunk(
        self, chunk: list[Encoded], delivery: Delivery, letters: list[DeadLetter]
    ) -> None:
        """Send `chunk` and whatever of it must be sent again until no document is left undecided."""
        token = object()
        backoff = _Backoff(self._settings.backoff_initial_s, self._settings.backoff_max_s)
        work = [chunk]
        try:
            while work:
                batch = work.pop()
                answer = await self._request(batch)
                if answer.failed_status is not None:
                    delivery.retried += await self._on_request_failure(
                        batch, answer, work, letters, token, backoff
                    )
                    continue
                again, pause_reason = self._settle(batch, answer.items, delivery, letters)
                if not again:
                    self._unblock(token)
                    backoff.reset()
                    continue
                work.append(again)
                delivery.retried += len(again)
                if pause_reason is not None:
                    self._block(token, pause_reason)
                    await asyncio.sleep(self._settings.pause_recheck_s)
                else:
                    self._unblock(token)
                    await backoff.wait()
        finally:
            self._unblock(token)

    async def _on_request_failure(
        self,
        batch: list[Encoded],
        answer: _Answer,
        work: list[list[Encoded]],
        letters: list[DeadLetter],
        token: object,
        backoff: _Backoff,
    ) -> int:
        """Handle a request refused as a whole: split on 413, back off on 429/5xx/no answer, else pause.

        Returns how many documents will be sent again.
        """
        status = answer.failed_status or 0
        if status == 413:
            if len(batch) == 1:
                letters.append(
                    letter_for(
                        batch[0].pending,
                        "document_too_large",
                        "request_entity_too_large",
                        f"{len(batch[0].body)} bytes refused with 413 even alone",
                        body=batch[0].body,
                    )
                )
                return 0
            work.extend(halves(batch))
            return len(batch)
        work.append(batch)
        label = str(status) if status else "connection"
        if status == 0 or actions.classify_request(status) is Decision.RETRY:
            telemetry.SINK_RETRIES.labels(label).inc(len(batch))
            self._block(token, f"elasticsearch_unavailable: {answer.failure}")
            await backoff.wait()
        else:
            telemetry.SINK_REJECTIONS.labels(label).inc()
            self._block(token, f"paused: bulk request refused with {status}: {answer.failure}")
            await asyncio.sleep(self._settings.pause_recheck_s)
        return len(batch)

    def _settle(
        self,
        batch: list[Encoded],
        errors: list[ItemError | None],
        delivery: Delivery,
        letters: list[DeadLetter],
    ) -> tuple[list[Encoded], str | None]:
        """Account one answered request; returns the items to send again and a pause reason if any."""
        decided = [
            (item, error, actions.classify_item(error)) for item, error in zip(batch, errors, strict=True)
        ]
        to_dead = sum(1 for _, _, decision in decided if decision is Decision.DEAD_LETTER)
        too_many = to_dead > self._settings.breaker_deadletter_ratio * len(batch)
        breaker_open = too_many and len(batch) >= self._settings.breaker_min_docs
        # Items that went through prove the cluster is healthy: an item failing beside them is singled out,
        # and from then on each of its failures counts toward max_item_retries (even when resent alone).
        # Failures of every item at once (overload) count for none.
        healthy = any(decision in (Decision.INDEXED, Decision.DUPLICATE) for _, _, decision in decided)
        again: list[Encoded] = []
        pause_reason: str | None = None
        indexed = Counter(item.pending.data_stream for item, _, d in decided if d is Decision.INDEXED)
        for stream, docs in indexed.items():
            delivery.by_stream[stream] = delivery.by_stream.get(stream, 0) + docs
            telemetry.SINK_INDEXED.labels(stream).inc(docs)
        delivery.indexed += indexed.total()
        for item, error, decision in decided:
            if decision is Decision.INDEXED:
                continue
            if decision is Decision.DUPLICATE:
                delivery.duplicates += 1
                telemetry.SINK_DUPLICATES.inc()
                continue
            assert error is not None
            if decision is Decision.RETRY:
                telemetry.SINK_RETRIES.labels(str(error.status)).inc()
                item.attempts += healthy or item.attempts > 0
                if item.attempts > self._settings.max_item_retries:
                    self._dead_letter(item, "retries_exhausted", error, letters)
                else:
                    again.append(item)
                continue
            telemetry.SINK_REJECTIONS.labels(str(error.status)).inc()
            if decision is Decision.DEAD_LETTER and not breaker_open:
                self._dead_letter(item, error.type, error, letters)
                continue
            again.append(item)
            if pause_reason is None:
                pause_reason = (
                    _circuit_reason(to_dead, len(batch), error)
                    if decision is Decision.DEAD_LETTER
                    else f"paused: {error.type} ({error.status}): {error.reason[:_MAX_REASON_CHARS]}"
                )
        return again, pause_reason

    @staticmethod
    def _dead_letter(item: Encoded, reason: str, error: ItemError, letters: list[DeadLetter]) -> None:
        letters.append(
            letter_for(item.pending, reason, error.type, error.reason[:_MAX_REASON_CHARS], body=item.body)
        )

    async def _request(self, batch: list[Encoded]) -> _Answer:
        """One bulk request, under the concurrency bound; never raises except on cancellation."""
        payload = actions.body(batch)
        async with self._requests:
            telemetry.SINK_IN_FLIGHT.inc()
            telemetry.SINK_BULK_DOCS.observe(len(batch))
            telemetry.SINK_BULK_BYTES.observe(len(payload))
            started = time.perf_counter()
            try:
                response = await self._es.bulk(operations=payload, filter_path=_FILTER_PATH)
            except ApiError as exc:
                telemetry.SINK_ES_UP.set(1)
                return _Answer(failed_status=exc.meta.status, failure=_api_failure(exc))
            except TransportError as exc:
                telemetry.SINK_ES_UP.set(0)
                return _Answer(
                    failed_status=0, failure=f"{type(exc).__name__}: {exc.message}"[:_MAX_REASON_CHARS]
                )
            finally:
                telemetry.SINK_BULK_SECONDS.observe(time.perf_counter() - started)
                telemetry.SINK_IN_FLIGHT.dec()
        telemetry.SINK_ES_UP.set(1)
        body = response.body
        if not body.get("errors"):
            return _Answer(items=[None] * len(batch))
        return _Answer(items=[actions.item_error(entry) for entry in body["items"]])

    async def _write_letters(self, letters: list[DeadLetter]) -> None:
        """Write dead letters until the writer confirms them durable (the batch is not done before)."""
        if not letters:
            return
        token = object()
        backoff = _Backoff(self._settings.backoff_initial_s, self._settings.backoff_max_s)
        try:
            while True:
                try:
                    await self._deadletters.write(letters)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the writer's failures are many kinds; all mean "not durable"
                    self._block(
                        token, f"deadletter_unavailable: {type(exc).__name__}: {exc}"[:_MAX_REASON_CHARS]
                    )
                    await backoff.wait()
        finally:
            self._unblock(token)

    def _block(self, token: object, reason: str) -> None:
        self._blocked[token] = reason
        telemetry.SINK_READY.set(0)

    def _unblock(self, token: object) -> None:
        if self._blocked.pop(token, None) is not None and not self._blocked:
            telemetry.SINK_READY.set(1)


def _encoded(items: Iterable[Pending], letters: list[DeadLetter]) -> Iterator[Encoded]:
    """Each item serialized once; one that cannot be serialized becomes a dead letter instead.

    A data stream name that pipeline.sink.routing could not have made is refused here too (kept as a
    dead letter), so no caller can write outside logtrace's own streams.
    """
    for pending in items:
        if not is_ours(pending.data_stream):
            detail = f"data stream {pending.data_stream[:300]!r} is not a logtrace stream"
            letters.append(letter_for(pending, "invalid_data_stream", "routing_error", detail))
            continue
        try:
            yield actions.encode(pending)
        except actions.EncodeError as exc:
            letters.append(letter_for(pending, "document_serialization", "serialization_error", str(exc)))


def _circuit_reason(rejected: int, total: int, error: ItemError) -> str:
    return (
        f"circuit_open: {rejected} of {total} documents would be dead-lettered, likely a broken template "
        f"({error.type}: {error.reason[:_MAX_REASON_CHARS]})"
    )


def _api_failure(exc: ApiError) -> str:
    """`type: reason` of an Elasticsearch error response, bounded."""
    body = exc.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"[:_MAX_REASON_CHARS]
    return str(exc.message)[:_MAX_REASON_CHARS]
