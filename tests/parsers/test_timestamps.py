"""Timestamp layouts, zones, epoch units and year/date inference relative to the receive time."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from parsers import timestamps
from parsers.timefmt import datetime_to_ns, ns_to_iso


def ns(text: str) -> int:
    return datetime_to_ns(datetime.fromisoformat(text))


RECEIVED = ns("2026-12-03T08:00:00+00:00")


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("2026-12-03T08:18:49.123456789Z", "2026-12-03T08:18:49.123456789Z"),
        ("2026-12-03 08:18:49,123", "2026-12-03T08:18:49.123000000Z"),
        ("2026-12-03T09:18:49+01:00", "2026-12-03T08:18:49.000000000Z"),
        ("2026-12-03T01:18:49-0700", "2026-12-03T08:18:49.000000000Z"),
        ("2026/12/03 08:18:49", "2026-12-03T08:18:49.000000000Z"),
        ("20261203T081849Z", "2026-12-03T08:18:49.000000000Z"),
        ("10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000000000Z"),
        ("03-Dec-2026 08:18:49.5", "2026-12-03T08:18:49.500000000Z"),
        ("Thu Dec 03 08:18:49 2026", "2026-12-03T08:18:49.000000000Z"),
        ("Dec 3, 2026 8:18:49 PM", "2026-12-03T20:18:49.000000000Z"),
        ("081109 203615", "2008-11-09T20:36:15.000000000Z"),
        ("17/06/09 20:10:40", "2017-06-09T20:10:40.000000000Z"),
        (1796285929, "2026-12-03T08:18:49.000000000Z"),
        (1796285929123, "2026-12-03T08:18:49.123000000Z"),
        (1796285929123456, "2026-12-03T08:18:49.123456000Z"),
        (1796285929123456789, "2026-12-03T08:18:49.123456789Z"),
        (1796285929.25, "2026-12-03T08:18:49.250000000Z"),
        ("1796285929.000000001", "2026-12-03T08:18:49.000000001Z"),
    ],
)
def test_parse_value(value: object, iso: str) -> None:
    parsed = timestamps.parse_value(value, UTC, RECEIVED)
    assert parsed is not None
    assert ns_to_iso(parsed) == iso


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01T00:00:00Z",
        "2026-02-30 10:00:00",
        "yesterday",
        "",
        None,
        True,
        "2026-12-03T25:00:00Z",
        -5.0,
        {"t": 1},
    ],
)
def test_impossible_values(value: object) -> None:
    assert timestamps.parse_value(value, UTC, RECEIVED) is None


def test_default_zone_applies_to_zone_less_times_only() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    assert timestamps.parse_value("2026-12-03 09:00:00", berlin, RECEIVED) == ns("2026-12-03T08:00:00+00:00")
    # Summer time: +02:00.
    assert timestamps.parse_value("2026-07-01 10:00:00", berlin, RECEIVED) == ns("2026-07-01T08:00:00+00:00")
    assert timestamps.parse_value("2026-12-03T09:00:00Z", berlin, RECEIVED) == ns("2026-12-03T09:00:00+00:00")
    fixed = timezone(timedelta(hours=-5))
    assert timestamps.parse_value("2026-12-03 03:00:00", fixed, RECEIVED) == ns("2026-12-03T08:00:00+00:00")


@pytest.mark.parametrize(
    ("received", "line", "expected"),
    [
        # A December line received just after New Year belongs to the old year.
        ("2027-01-01T00:00:30+00:00", "Dec 31 23:59:59", "2026-12-31T23:59:59+00:00"),
        # A sender clock slightly ahead across New Year: the new year.
        ("2026-12-31T23:59:50+00:00", "Jan  1 00:00:05", "2027-01-01T00:00:05+00:00"),
        ("2026-12-03T08:00:00+00:00", "Mar 17 16:13:38", "2026-03-17T16:13:38+00:00"),
        ("2026-12-03T08:00:00+00:00", "Dec  3 07:59:00", "2026-12-03T07:59:00+00:00"),
        # Feb 29 only exists in leap years: the latest one before the receive time.
        ("2026-12-03T08:00:00+00:00", "Feb 29 12:00:00", "2024-02-29T12:00:00+00:00"),
    ],
)
def test_year_inference(received: str, line: str, expected: str) -> None:
    assert timestamps.parse_value(line, UTC, ns(received)) == ns(expected)


def test_time_of_day_only_takes_the_nearest_date() -> None:
    just_after_midnight = ns("2026-12-03T00:01:00+00:00")
    assert timestamps.parse_value("23:59:30", UTC, just_after_midnight) == ns("2026-12-02T23:59:30+00:00")
    assert timestamps.parse_value("7:54AM", UTC, RECEIVED) == ns("2026-12-03T07:54:00+00:00")


@pytest.mark.parametrize(
    ("line", "start", "layout"),
    [
        ("2026-12-03 08:18:49,123 INFO x", 0, "iso"),
        ("[2026-12-03 08:18:49,123] INFO x", 1, "iso"),
        ("- 1117838570 2005.06.03 R02", 2, "epoch"),
        ("INFO  2026-12-03 08:18:49 started", 6, "iso"),
        ("I1203 08:18:49.123456   1 main.go:1] x", 0, "klog"),
        ("03-17 16:13:38.811  1702  2395 D Tag: x", 0, "logcat"),
    ],
)
def test_find_in_line(line: str, start: int, layout: str) -> None:
    found = timestamps.find_in_line(line, UTC, RECEIVED)
    assert found is not None
    assert (found.start, found.layout) == (start, layout)


def test_no_timestamp_in_prose() -> None:
    assert timestamps.find_in_line("retrying in 5 seconds, attempt 3 of 10", UTC, RECEIVED) is None


def test_zone_offsets() -> None:
    assert timestamps.zone_offset_s("+05:30") == 19800
    assert timestamps.zone_offset_s("-0700") == -25200
    assert timestamps.zone_offset_s("Z") == 0
    assert timestamps.zone_offset_s("+25:00") is None
    assert timestamps.zone_offset_s("PST") is None
