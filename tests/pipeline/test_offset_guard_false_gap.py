"""OffsetGuard and faust's false read gaps after a rebalance (found by tests/integration/reliability/
test_rebalance.py: one record lost in about one run of six before the fix)."""

from types import SimpleNamespace

from intervaltree import IntervalTree

from pipeline.app import OffsetGuard

TP = ("t", 1)


def _event(offset: int) -> SimpleNamespace:
    return SimpleNamespace(message=SimpleNamespace(tp=TP, offset=offset, topic="t", partition=1))


def _offsets(events: list) -> list[int]:
    return [event.message.offset for event in events]


def test_a_gap_that_starts_before_the_hole_is_not_taken_for_kafkas() -> None:
    # What a worker saw after its partition was assigned: committed 291, faust recorded a read gap
    # 292..317 (its read position was reset to the committed offset while later records were still being
    # delivered), the guard processed 291..315, then 317 came without 316.
    gaps = IntervalTree.from_tuples([(292, 318)])
    consumer = SimpleNamespace(_committed_offset={TP: 291}, _gap={TP: gaps})
    guard = OffsetGuard()
    assert _offsets(guard.split([_event(n) for n in range(291, 316)], consumer, 0.0)[0]) == list(
        range(291, 316)
    )
    process, _, seeks = guard.split([_event(317)], consumer, 0.1)
    assert process == [] and seeks == {TP: 316}
    # faust's commit merges gap offsets up to the highest acknowledged one: 316 must not be among them.
    assert not gaps.overlaps_point(316) and gaps.overlaps_point(300)
    process, _, seeks = guard.split([_event(316), _event(317)], consumer, 1.2)
    assert _offsets(process) == [316, 317] and seeks == {}


def test_a_gap_that_starts_at_the_hole_is_still_accepted() -> None:
    gaps = IntervalTree.from_tuples([(6, 7)])  # offset 6: a transaction marker
    consumer = SimpleNamespace(_committed_offset={TP: 0}, _gap={TP: gaps})
    process, _, seeks = OffsetGuard().split([_event(n) for n in (0, 1, 2, 3, 4, 5, 7)], consumer, 0.0)
    assert _offsets(process) == [0, 1, 2, 3, 4, 5, 7] and seeks == {}
