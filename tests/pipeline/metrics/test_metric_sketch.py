"""DurationSketch: exact stats plus DDSketch quantiles at 1% relative accuracy, mergeable and JSON-able."""

import random

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.metrics.sketch import DurationSketch

QS = (0.0, 0.5, 0.9, 0.95, 0.99, 1.0)
DURATIONS = st.lists(st.integers(min_value=0, max_value=10**13), min_size=1, max_size=200)


def sketch_of(values: list[int]) -> DurationSketch:
    sketch = DurationSketch()
    for value in values:
        sketch.add(value)
    return sketch


def exact(values: list[int], q: float) -> int:
    """The value at rank floor(q * (n - 1)) of the sorted values, the rank DDSketch estimates."""
    return sorted(values)[int(q * (len(values) - 1))]


class TestDurationSketch:
    def test_quantiles_within_one_percent(self):
        """Quantiles are within 1% (plus integer rounding) of the exact sorted quantiles."""
        rng = random.Random(7)
        values = [int(rng.lognormvariate(15, 2)) for _ in range(5000)]
        sketch = sketch_of(values)
        for q in QS:
            assert abs(sketch.quantile(q) - exact(values, q)) <= 0.01 * exact(values, q) + 0.5

    def test_exact_stats(self):
        """Count, min, max and sum are exact integers."""
        sketch = sketch_of([5, 0, 10**15, 7])
        assert (sketch.count, sketch.min, sketch.max, sketch.sum) == (4, 0, 10**15, 10**15 + 12)

    def test_quantiles_stay_within_min_and_max(self):
        """A quantile never lies outside the exact min and max."""
        sketch = sketch_of([1001])
        assert sketch.quantile(0.5) == sketch.quantile(0.99) == 1001

    def test_empty(self):
        """An empty sketch has no quantiles and serializes to a count of zero."""
        assert DurationSketch().quantile(0.5) is None
        assert DurationSketch().to_json() == {"count": 0}

    def test_rejects_negative_durations(self):
        """A negative duration is a caller bug and raises."""
        with pytest.raises(ValueError):
            DurationSketch().add(-1)

    def test_json_is_sparse(self):
        """Only non-empty bins are written: a few values make a small JSON value."""
        assert len(orjson.dumps(sketch_of([10, 10**6, 10**12]).to_json())) < 200

    @given(DURATIONS, DURATIONS)
    def test_merge_equals_one_pass(self, left, right):
        """Merging two sketches gives the same stats and quantiles as one sketch over all values."""
        merged = sketch_of(left)
        merged.merge(sketch_of(right))
        single = sketch_of(left + right)
        assert merged.to_json() == single.to_json()
        assert [merged.quantile(q) for q in QS] == [single.quantile(q) for q in QS]

    @given(DURATIONS)
    def test_round_trip_keeps_quantiles(self, values):
        """from_json(to_json()) gives back the same stats and bit-identical quantiles."""
        sketch = sketch_of(values)
        restored = DurationSketch.from_json(orjson.loads(orjson.dumps(sketch.to_json())))
        assert restored.to_json() == sketch.to_json()
        assert [restored.quantile(q) for q in QS] == [sketch.quantile(q) for q in QS]
