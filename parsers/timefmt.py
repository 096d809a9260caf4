"""Timestamps as integer nanoseconds since the epoch, and their one ISO 8601 rendering.

`@timestamp` is `2026-12-03T08:18:49.123456789Z`: UTC, nanosecond digits kept (mapped as `date_nanos`).
"""

import re
from datetime import UTC, datetime
from functools import lru_cache

NS_PER_S = 1_000_000_000
# Plausible event times: nothing before 1970 (date_nanos cannot hold it) or after 2262 (int64 ns overflow).
MIN_NS = 0
MAX_NS = 9_223_372_036_854_775_807


@lru_cache(maxsize=4096)
def _second_prefix(seconds: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` of one epoch second; cached, as a batch of events shares few seconds."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def ns_to_iso(ns: int) -> str:
    """Render epoch nanoseconds as ISO 8601 UTC with 9 fractional digits."""
    seconds, frac = divmod(ns, NS_PER_S)
    return f"{_second_prefix(seconds)}.{frac:09d}Z"


def datetime_to_ns(value: datetime) -> int:
    """Epoch nanoseconds of an aware datetime (microsecond precision, as datetime holds)."""
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1_000


def is_plausible(ns: int, received_ns: int, *, max_future_s: int = 86_400) -> bool:
    """False for times before 1970 or more than `max_future_s` after the record was received."""
    return MIN_NS <= ns <= min(MAX_NS, received_ns + max_future_s * NS_PER_S)


_ISO = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})"
)


def iso_to_ns(text: str) -> int | None:
    """Epoch nanoseconds of an ISO 8601 time with a zone (the inverse of `ns_to_iso`); None if malformed."""
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    base, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(base + ("+00:00" if zone == "Z" else zone))
    except ValueError:
        return None
    # The fraction is read as digits, not through datetime, which would cut it to microseconds.
    return datetime_to_ns(moment) + int((fraction or "").ljust(9, "0"))
