"""pipeline.app: the faust App factory, the changelog partition view and the offset guard (no broker)."""

from types import SimpleNamespace

from intervaltree import IntervalTree

from pipeline.app import AckGate, OffsetGuard, PartitionState, create_app
from pipeline.config.worker import WorkerSettings


def _event(offset: int, partition: int = 0, topic: str = "t") -> SimpleNamespace:
    tp = (topic, partition)
    return SimpleNamespace(message=SimpleNamespace(tp=tp, offset=offset, topic=topic, partition=partition))


def _consumer(committed: dict | None = None, gaps: dict | None = None) -> SimpleNamespace:
    return SimpleNamespace(_committed_offset=committed or {}, _gap=gaps or {})


def test_guard_passes_a_contiguous_run_from_the_committed_offset() -> None:
    guard = OffsetGuard()
    process, again, seeks = guard.split([_event(n) for n in range(5, 9)], _consumer({("t", 0): 5}), 0.0)
    assert [e.message.offset for e in process] == [5, 6, 7, 8] and again == [] and seeks == {}


def test_guard_seeks_back_to_a_skipped_record_and_holds_the_rest() -> None:
    guard = OffsetGuard()
    consumer = _consumer({("t", 0): 10})
    process, _, seeks = guard.split([_event(n) for n in (10, 11, 13, 14)], consumer, 0.0)
    assert [e.message.offset for e in process] == [10, 11] and seeks == {("t", 0): 12}
    # Stale records past the hole keep coming: no second seek within a second, nothing processed.
    process, _, seeks = guard.split([_event(15)], consumer, 0.5)
    assert process == [] and seeks == {}
    assert guard.due_seeks(1.5) == {("t", 0): 12}
    # The re-read starts at the hole: duplicates of processed records are acknowledged, not processed.
    process, again, seeks = guard.split([_event(n) for n in (11, 12, 13)], consumer, 2.0)
    assert [e.message.offset for e in process] == [12, 13] and [e.message.offset for e in again] == [11]
    assert guard.due_seeks(10.0) == {}


def test_guard_accepts_a_gap_kafka_has() -> None:
    guard = OffsetGuard(accept_after_s=10)
    gaps = {("t", 0): IntervalTree.from_tuples([(2, 4)])}  # offsets 2 and 3 are transaction markers
    process, _, seeks = guard.split([_event(n) for n in (0, 1, 4)], _consumer({("t", 0): 0}, gaps), 0.0)
    assert [e.message.offset for e in process] == [0, 1, 4] and seeks == {}
    # A hole nobody fills is accepted after `accept_after_s` (never a stall forever).
    guard = OffsetGuard(accept_after_s=10)
    assert guard.split([_event(0), _event(3)], _consumer({("t", 0): 0}), 0.0)[2] == {("t", 0): 1}
    process, _, seeks = guard.split([_event(3)], _consumer({("t", 0): 0}), 11.0)
    assert [e.message.offset for e in process] == [3] and seeks == {}


def test_guard_partitions_are_independent_and_reset_forgets() -> None:
    guard = OffsetGuard()
    events = [_event(0, 0), _event(5, 1), _event(2, 0), _event(6, 1)]
    process, _, seeks = guard.split(events, _consumer({("t", 0): 0, ("t", 1): 5}), 0.0)
    assert [(e.message.partition, e.message.offset) for e in process] == [(0, 0), (1, 5), (1, 6)]
    assert seeks == {("t", 0): 1}
    guard.reset()
    assert guard.split([_event(7, 0)], _consumer({("t", 0): 7}), 0.0)[2] == {}


def test_ack_gate_forwards_only_allowed_acks() -> None:
    calls = []
    consumer = SimpleNamespace(ack=lambda message: calls.append(message.offset) or True)
    gate = AckGate()
    gate.install(consumer)
    allowed, skipped = _event(1).message, _event(2).message
    gate.allow(allowed)
    assert consumer.ack(allowed) is True and consumer.ack(skipped) is False
    assert calls == [1] and gate.refused == 1


class _Table:
    def __init__(self) -> None:
        self.data: dict = {}
        self.sent: list = []

    def send_changelog(self, partition, key, value, value_serializer=None) -> None:
        self.sent.append((partition, key, value))


def test_partition_state_coalesces_writes_and_defers_deletes() -> None:
    table = _Table()
    state = PartitionState(table, 3)
    state["a"] = {"n": 0}
    state["a"] = {"n": 1}
    # The store is written at once; the changelog only at flush, once per key, with its last value.
    assert table.data == {"3|a": {"n": 1}} and table.sent == []
    assert state.flush() == 1 and table.sent == [(3, "3|a", {"n": 1})]
    state["a"] = {"n": 1}  # unchanged: no second changelog record
    assert state.flush() == 0 and table.sent == [(3, "3|a", {"n": 1})]
    state["c"] = {"n": 9}
    del state["c"]  # written and deleted before a flush: only its tombstone is written
    assert state.flush_deletes() == 1 and table.sent[-1] == (3, "3|c", None)
    assert (3, "3|c", {"n": 9}) not in table.sent
    del state["a"]
    assert "a" not in state and table.sent[-1] == (3, "3|c", None)
    assert state.flush_deletes() == 1 and table.sent[-1] == (3, "3|a", None)
    state["b"] = {"n": 2}
    del state["b"]
    state["b"] = {"n": 3}  # re-created before the flush: its tombstone is not written, its value is
    assert state.flush_deletes() == 0 and table.sent[-1] == (3, "3|b", {"n": 3})
    other = PartitionState(table, 4)
    assert list(other) == [] and list(PartitionState(table, 3)) == ["b"]


def test_create_app_bounds_buffers_and_serves_web() -> None:
    settings = WorkerSettings(web_port=6099, stream_buffer_records=123, max_poll_records=45)
    conf = create_app(settings).conf
    assert conf.stream_buffer_maxsize == 123 and conf.broker_max_poll_records == 45
    assert conf.stream_wait_empty is False and conf.web_port == 6099 and conf.web_enabled
