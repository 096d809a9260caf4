"""WindowStore: merges partials on the key owner and closes windows on an event-time watermark."""

import orjson
from metric_docs import T0, at, log, span

from parsers.timefmt import NS_PER_S, ns_to_iso
from pipeline.metrics.keys import OVERFLOW
from pipeline.metrics.partials import aggregate
from pipeline.metrics.windows import Added, WindowStore

# Processing time: an hour after the events (processing time only bounds how far ahead they may be).
NOW = T0 + 3600 * NS_PER_S


def feed(store: WindowStore, docs: list[dict], now: int = NOW, **options) -> list[Added]:
    """Aggregate `docs` as one worker batch and add the partials to `store`."""
    return [store.add(partial, now) for partial in aggregate(docs, window_s=10, **options)]


def windows_iso(offset_s: int) -> str:
    """@timestamp of the window starting at T0 + offset_s."""
    return ns_to_iso(at(offset_s))


def summary(emitted) -> list[tuple[str, int, bool]]:
    """(@timestamp, metrics.count, metrics.late) of each emitted document."""
    return [(e.doc["@timestamp"], e.doc["metrics.count"], e.doc["metrics.late"]) for e in emitted]


def store(**options) -> WindowStore:
    return WindowStore({}, window_s=10, allowed_lateness_s=5, **options)


class TestWatermark:
    def test_window_closes_when_watermark_passes_its_end(self):
        """A window closes once the newest event time minus the allowed lateness reaches its end."""
        windows = store()
        feed(windows, [log(3)])
        feed(windows, [log(14.9)])
        assert windows.watermark_ns == at(9.9)
        assert windows.advance(NOW) == []
        feed(windows, [log(15)])
        assert summary(windows.advance(NOW)) == [(windows_iso(0), 1, False)]

    def test_stragglers_within_lateness_count_on_time(self):
        """An event older than the newest one but within the lateness joins its still-open window."""
        windows = store()
        feed(windows, [log(3), log(12)])
        assert feed(windows, [log(8)]) == [Added(late=False, overflowed=False)]
        feed(windows, [log(30)])
        assert summary(windows.advance(NOW))[0] == (windows_iso(0), 2, False)

    def test_backfill_lands_in_its_own_windows(self):
        """Old data replayed into a fresh store is aggregated into its own windows, none of it late."""
        windows = store()
        yesterday = -86_400
        emitted = []
        for second in range(0, 60, 3):
            feed(windows, [log(yesterday + second), log(yesterday + second + 1)], now=NOW + second * NS_PER_S)
            emitted += windows.advance(NOW + second * NS_PER_S)
        emitted += windows.advance(NOW + 3600 * NS_PER_S)
        assert [count for _, count, _ in summary(emitted)] == [7, 7, 6, 7, 7, 6]
        assert not any(late for _, _, late in summary(emitted))

    def test_watermark_never_goes_back(self):
        """Older events after newer ones leave the watermark where it was."""
        windows = store()
        feed(windows, [log(100)])
        feed(windows, [log(50)])
        assert windows.watermark_ns == at(95)

    def test_future_clock_moves_the_watermark_only_so_far(self):
        """An event time far ahead of processing time moves the watermark at most max_future_s past now."""
        windows = store(max_future_s=60)
        feed(windows, [log(0)], now=T0)
        feed(windows, [log(86_400)], now=T0)
        assert windows.watermark_ns == at(55)
        assert feed(windows, [log(30)], now=T0) == [Added(late=True, overflowed=False)]
        assert feed(windows, [log(58)], now=T0) == [Added(late=False, overflowed=False)]

    def test_quiet_stream_closes_open_windows(self):
        """With no partial for max(lateness, window) of processing time, every open window closes."""
        windows = store()
        feed(windows, [log(1), log(12)], now=NOW)
        assert windows.advance(NOW + 9 * NS_PER_S) == []
        assert summary(windows.advance(NOW + 10 * NS_PER_S)) == [
            (windows_iso(0), 1, False),
            (windows_iso(10), 1, False),
        ]
        assert feed(windows, [log(13)]) == [Added(late=True, overflowed=False)]


class TestLateBucket:
    def test_late_data_is_marked_and_never_dropped(self):
        """A partial for a closed window goes to the late bucket and is emitted as a late document."""
        windows = store()
        feed(windows, [log(1)])
        feed(windows, [log(40)])
        on_time = windows.advance(NOW)
        assert feed(windows, [log(2), log(3)]) == [Added(late=True, overflowed=False)]
        late = windows.advance(NOW)
        assert summary(late) == [(windows_iso(0), 2, True)]
        assert late[0].id_input != on_time[0].id_input

    def test_each_late_flush_has_its_own_id(self):
        """Two late flushes for the same window and key get different id inputs."""
        windows = store()
        feed(windows, [log(1), log(40)])
        windows.advance(NOW)
        feed(windows, [log(2)])
        first = windows.advance(NOW)
        feed(windows, [log(3)])
        second = windows.advance(NOW)
        assert first[0].id_input != second[0].id_input
        assert windows.advance(NOW) == []


class TestCardinality:
    def test_overflow_key_past_the_cap(self):
        """Keys past max_keys_per_window in a window merge into the overflow key, and add() reports it."""
        windows = store(max_keys_per_window=2)
        added = [
            windows.add(partial, NOW)
            for partial in aggregate([log(1, service=f"svc{n}") for n in range(4)], window_s=10)
        ]
        assert [a.overflowed for a in added] == [False, False, True, True]
        feed(windows, [log(60)])
        docs = [e.doc for e in windows.advance(NOW) if e.doc["@timestamp"] == windows_iso(0)]
        assert [(d["service.name"], d["metrics.count"]) for d in docs] == [
            (OVERFLOW, 2),
            ("svc0", 1),
            ("svc1", 1),
        ]


class TestState:
    def test_state_is_json_and_survives_a_restart(self):
        """The mapping holds JSON-able state; a new store over it closes windows as if never stopped."""
        table: dict = {}
        windows = WindowStore(table, window_s=10, allowed_lateness_s=5)
        feed(windows, [span(1, 100), span(2, 300), log(3)])
        restored_table = orjson.loads(orjson.dumps(table))
        again = WindowStore(restored_table, window_s=10, allowed_lateness_s=5)
        feed(again, [span(4, 200), log(30)])
        reference = WindowStore({}, window_s=10, allowed_lateness_s=5)
        feed(reference, [span(1, 100), span(2, 300), log(3)])
        feed(reference, [span(4, 200), log(30)])
        assert again.advance(NOW) == reference.advance(NOW)
        assert again.table == reference.table
