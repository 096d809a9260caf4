"""Two-stage correctness: partials from several workers merge into exactly the single-pass result."""

import random
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st
from metric_docs import T0, span

from parsers.timefmt import NS_PER_S, iso_to_ns, ns_to_iso
from pipeline.metrics.partials import Partial, aggregate
from pipeline.metrics.windows import WindowStore

NOW = T0 + 3600 * NS_PER_S
WINDOW = 10 * NS_PER_S
QUANTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


def close_all(batches: list[list[dict]]) -> list[dict]:
    """Aggregate each batch as one worker would, ship the partials over the wire, merge, close everything.

    The lateness covers the whole stream: workers' batches are merged one after the other here, while
    in a live pipeline they interleave in event time (late data has its own tests).
    """
    windows = WindowStore({}, window_s=10, allowed_lateness_s=3600)
    for batch in batches:
        for partial in aggregate(batch, window_s=10):
            windows.add(Partial.from_bytes(partial.to_bytes()), NOW)
    return [emitted.doc for emitted in windows.advance(NOW + 3600 * NS_PER_S)]


def random_spans(rng: random.Random, n: int) -> list[dict]:
    return [
        span(
            rng.uniform(0, 30),
            int(rng.lognormvariate(14, 1.5)),
            service=rng.choice(["cart", "pay"]),
            name=rng.choice(["GET", "POST"]),
            outcome=rng.choice(["success", "success", "failure"]),
        )
        for _ in range(n)
    ]


class TestTwoWorkers:
    def test_split_stream_merges_to_single_pass(self):
        """Two arbitrary halves aggregated apart and merged give the single-pass counts and quantiles."""
        rng = random.Random(42)
        docs = random_spans(rng, 3000)
        halves: list[list[dict]] = [[], []]
        for doc in docs:
            halves[rng.randrange(2)].append(doc)
        merged = close_all(halves)
        assert merged == close_all([docs])
        assert sum(doc["metrics.count"] for doc in merged) == 3000

    def test_merged_quantiles_within_one_percent_of_exact(self):
        """Quantiles of the merged windows are within 1% of the exact sorted quantiles of each key."""
        rng = random.Random(3)
        docs = random_spans(rng, 3000)
        merged = close_all([docs[0::2], docs[1::2]])
        groups: dict[tuple, list[int]] = defaultdict(list)
        for d in docs:
            start = iso_to_ns(d["@timestamp"]) // WINDOW * WINDOW
            key = (ns_to_iso(start), d["service.name"], d["span.name"], d["event.outcome"])
            groups[key].append(d["event.duration"])
        for doc in merged:
            durations = sorted(
                groups[doc["@timestamp"], doc["service.name"], doc["span.operation"], doc["event.outcome"]]
            )
            assert len(durations) == doc["metrics.count"]
            for name, q in QUANTILES.items():
                exact = durations[int(q * (len(durations) - 1))]
                assert abs(doc[f"metrics.duration.{name}"] - exact) <= 0.01 * exact + 0.5

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.integers(0, 3), st.floats(0, 40), st.integers(0, 10**12), st.booleans(), st.integers(0, 3)
            ),
            min_size=1,
            max_size=120,
        )
    )
    def test_any_split_merges_to_single_pass(self, events):
        """For random keys, times, durations and any split over four workers, merged equals single pass."""
        batches: list[list[dict]] = [[], [], [], []]
        for key, seconds, duration, failed, worker in events:
            outcome = "failure" if failed else "success"
            batches[worker].append(span(seconds, duration, service=f"svc{key}", outcome=outcome))
        assert close_all(batches) == close_all([[doc for batch in batches for doc in batch]])
