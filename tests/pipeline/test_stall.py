"""The fetch-stall detector: which partitions it names, when, and when it never does."""

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.stall import MAX_BACKOFF_S, PartitionView, StallWatch

AFTER = 10.0


def view(end: int = 100, next: int = 40, idle_s: float = AFTER) -> PartitionView:
    return PartitionView(end=end, next=next, idle_s=idle_s)


def test_names_a_partition_two_checks_find_waiting_at_the_same_offset() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    assert watch.check(0.0, {"a": view(), "b": view(idle_s=AFTER - 0.1)}) == []
    assert watch.check(2.0, {"a": view(end=101), "b": view(idle_s=AFTER + 1.9)}) == ["a"]
    assert not watch.repeats("a")
    assert watch.check(4.0, {"a": view(), "b": view(idle_s=AFTER + 3.9)}) == ["b"]


def test_a_record_fetched_between_two_checks_is_no_stall() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    assert watch.check(0.0, {"a": view(end=41, next=40)}) == []  # produced just before the check
    assert watch.check(2.0, {"a": view(end=42, next=41)}) == []  # taken meanwhile; another one arrived
    assert watch.check(4.0, {}) == []  # taken and in the worker


@pytest.mark.parametrize(
    "quiet",
    [
        view(end=40),  # caught up: nothing waits
        view(end=39),  # the end offset read before a commit raced past it
        view(idle_s=AFTER - 0.01),  # records arrived or were acknowledged recently
    ],
)
def test_never_names_a_partition_that_is_not_stalled(quiet: PartitionView) -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    assert [watch.check(float(now), {"a": quiet}) for now in range(5)] == [[]] * 5


def test_a_partition_stuck_at_the_same_offset_is_named_again_after_a_doubling_delay() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    named_at = [now for now in range(0, 200) if watch.check(float(now), {"a": view()})]
    assert named_at == [1, 11, 31, 71, 151]
    assert watch.repeats("a")


def test_the_delay_between_repeats_is_capped() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    named_at = [now for now in range(0, 5000) if watch.check(float(now), {"a": view()})]
    gaps = [later - earlier for earlier, later in pairwise(named_at)]
    assert max(gaps) == MAX_BACKOFF_S


def test_progress_starts_a_new_stall() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    watch.check(0.0, {"a": view(next=40)})
    assert watch.check(1.0, {"a": view(next=40)}) == ["a"]
    # It moved (the re-seek worked, then it stalled again further on): confirmed once more, delay reset.
    assert watch.check(2.0, {"a": view(next=60)}) == []
    assert watch.check(3.0, {"a": view(next=60)}) == ["a"]
    assert not watch.repeats("a")


def test_recovery_in_between_resets_the_delay() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    watch.check(0.0, {"a": view()})
    assert watch.check(1.0, {"a": view()}) == ["a"]
    assert watch.check(2.0, {}) == []  # a batch is in the worker: the partition is not among the views
    watch.check(3.0, {"a": view()})
    assert watch.check(4.0, {"a": view()}) == ["a"]
    assert not watch.repeats("a")


def test_forget_and_unassigned_partitions_drop_their_history() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    watch.check(0.0, {"a": view(), "b": view()})
    assert watch.check(1.0, {"a": view()}) == ["a"]  # b was revoked
    assert watch.check(2.0, {"a": view(), "b": view()}) == []
    watch.forget()
    assert watch.check(3.0, {"a": view(), "b": view()}) == []
    assert watch.check(4.0, {"a": view(), "b": view()}) == ["a", "b"]


def test_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="after_s"):
        StallWatch(0)


@given(
    st.lists(
        st.tuples(st.integers(0, 1000), st.integers(0, 1000), st.floats(0, 100, allow_nan=False)),
        max_size=50,
    )
)
def test_only_partitions_seen_waiting_twice_at_one_offset_are_named(
    steps: list[tuple[int, int, float]],
) -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    previous: PartitionView | None = None
    for now, (end, next, idle_s) in enumerate(steps):
        current = PartitionView(end=end, next=next, idle_s=idle_s)
        for _ in watch.check(float(now), {"a": current}):
            assert current.end > current.next and current.idle_s >= AFTER
            assert previous is not None and previous.end > previous.next and previous.next == current.next
            assert previous.idle_s >= AFTER
        previous = current
