"""The fetch-stall detector: which partitions it names, when, and when it never does."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.stall import MAX_BACKOFF_S, PartitionView, StallWatch

AFTER = 10.0


def view(end: int = 100, next: int = 40, idle_s: float = AFTER) -> PartitionView:
    return PartitionView(end=end, next=next, idle_s=idle_s)


def test_names_a_partition_whose_records_wait_while_nothing_arrives() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    assert watch.check(0.0, {"a": view(), "b": view(idle_s=AFTER - 0.1)}) == ["a"]
    assert not watch.repeats("a")


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
    assert watch.check(0.0, {"a": quiet}) == []


def test_a_partition_stuck_at_the_same_offsets_is_named_again_after_a_doubling_delay() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    named_at = [now for now in range(0, 200) if watch.check(float(now), {"a": view()})]
    assert named_at == [0, 10, 30, 70, 150]
    assert watch.repeats("a")


def test_the_delay_between_repeats_is_capped() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    now = 0.0
    gaps = []
    last = None
    while now < 5000:
        if watch.check(now, {"a": view()}):
            if last is not None:
                gaps.append(now - last)
            last = now
        now += 1.0
    assert max(gaps) == MAX_BACKOFF_S


def test_progress_starts_a_new_stall() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    assert watch.check(0.0, {"a": view(next=40)}) == ["a"]
    # It moved (the re-seek worked, then it stalled again further on): named at once, delay reset.
    assert watch.check(1.0, {"a": view(next=60)}) == ["a"]
    assert not watch.repeats("a")


def test_recovery_in_between_resets_the_delay() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    assert watch.check(0.0, {"a": view()}) == ["a"]
    assert watch.check(1.0, {}) == []  # a batch is in the worker: the partition is not among the views
    assert watch.check(2.0, {"a": view()}) == ["a"]


def test_forget_and_unassigned_partitions_drop_their_history() -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    watch.check(0.0, {"a": view(), "b": view()})
    watch.check(1.0, {"a": view()})  # b was revoked
    assert watch.check(2.0, {"a": view(), "b": view()}) == ["b"]
    watch.forget()
    assert watch.check(3.0, {"a": view()}) == ["a"]


def test_after_must_be_positive() -> None:
    with pytest.raises(ValueError, match="after_s"):
        StallWatch(0)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 1000),
            st.integers(0, 1000),
            st.floats(0, 100, allow_nan=False),
        ),
        max_size=50,
    )
)
def test_only_waiting_idle_partitions_are_ever_named(steps: list[tuple[int, int, float]]) -> None:
    watch: StallWatch[str] = StallWatch(AFTER)
    for now, (end, next, idle_s) in enumerate(steps):
        current = PartitionView(end=end, next=next, idle_s=idle_s)
        for key in watch.check(float(now), {"a": current}):
            assert current.end > current.next and current.idle_s >= AFTER, key
