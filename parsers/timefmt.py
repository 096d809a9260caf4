"""Timestamps as integer nanoseconds since the epoch, and their one ISO 8601 rendering.

`@timestamp` is `2026-12-03T08:18:49.123456789Z`: UTC, nanosecond digits kept (mapped as `date_nanos`).
"""

from datetime import UTC, datetime

NS_PER_S = 1_000_000_000
# Plausible event times: nothing before 1970 (date_nanos cannot hold it) or after 2262 (int64 ns overflow).
MIN_NS = 0
MAX_NS = 9_223_372_036_854_775_807


def ns_to_iso(ns: int) -> str:
    """Render epoch nanoseconds as ISO 8601 UTC with 9 fractional digits."""
    seconds, frac = divmod(ns, NS_PER_S)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def datetime_to_ns(value: datetime) -> int:
    """Epoch nanoseconds of an aware datetime (microsecond precision, as datetime holds)."""
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def is_plausible(ns: int, received_ns: int, *, max_future_s: int = 86_400) -> bool:
    """False for times before 1970 or more than `max_future_s` after the record was received."""
    return MIN_NS <= ns <= min(MAX_NS, received_ns + max_future_s * NS_PER_S)
