"""Fetch-stall watchdog: names a partition whose records wait while none reach the worker.

Why: faust-streaming can leave an assigned partition without records after a worker joins its group
(upstream faust-streaming/faust#629): the worker is ready, the partition has records, and none reach
the agent until the worker restarts. In our runs (1 in ~2 full test runs, always right after a
restart into a group whose old member had not left yet) aiokafka's fetch position stood at the log end
while faust's read offset was behind the committed one: records fetched around the rebalance were
dropped by faust and, the fetch position having moved past them, never fetched again. Nothing is lost
(nothing is committed past them), but the partition's data stops. pipeline/refetch.py feeds this
detector what it sees and re-seeks the partitions it names to their committed offset.

A partition is stalled when records wait past its next offset (the log end offset is greater), none of
its records is in the worker (fetched and not yet acknowledged: an Elasticsearch outage holding a batch
is not a stall), none arrived or was acknowledged for `after_s` seconds, and two checks in a row see
it so at the same offset. Offsets a consumer can never read (transaction markers at the end of a log)
look the same; so a partition that stays stalled at the same offset after a re-seek is named again
only after a doubling delay.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

# The longest delay between two re-seeks of a partition stuck at the same offset, in seconds.
MAX_BACKOFF_S = 600.0


@dataclass(frozen=True)
class PartitionView:
    """What the worker sees of one assigned partition at a check."""

    end: int  # log end offset (the next offset Kafka would write)
    next: int  # next offset the worker has to read (its committed offset)
    idle_s: float  # seconds since a record of it last arrived or was acknowledged


@dataclass
class _Stuck:
    next: int
    named_at: float | None  # None: seen waiting once, not named yet
    delay_s: float


class StallWatch(Generic[K]):
    """Names stalled partitions (see the module doc); `forget()` after a rebalance."""

    def __init__(self, after_s: float) -> None:
        if after_s <= 0:
            raise ValueError("after_s must be > 0")
        self.after_s = after_s
        self._stuck: dict[K, _Stuck] = {}

    def check(self, now: float, views: Mapping[K, PartitionView]) -> list[K]:
        """The partitions to re-seek now, of `views`: the assigned partitions with none of their records in
        the worker (any other partition is not stalled). A partition is named only when a second check
        finds it waiting at the same offset: a record produced to an idle partition just before a check
        looks waiting for the moment it takes to fetch it."""
        named: list[K] = []
        for key in [key for key in self._stuck if key not in views]:
            del self._stuck[key]
        for key, view in views.items():
            waiting = view.end > view.next and view.idle_s >= self.after_s
            stuck = self._stuck.get(key)
            if not waiting:
                self._stuck.pop(key, None)
            elif stuck is None or stuck.next != view.next:  # first seen, or it moved since: a new stall
                self._stuck[key] = _Stuck(view.next, None, self.after_s)
            elif stuck.named_at is None or now - stuck.named_at >= stuck.delay_s:
                if stuck.named_at is not None:
                    stuck.delay_s = min(stuck.delay_s * 2, MAX_BACKOFF_S)
                stuck.named_at = now
                named.append(key)
        return named

    def repeats(self, key: K) -> bool:
        """Whether `key` was named before at the same offset (a re-seek did not help)."""
        stuck = self._stuck.get(key)
        return stuck is not None and stuck.delay_s > self.after_s

    def forget(self) -> None:
        self._stuck.clear()
