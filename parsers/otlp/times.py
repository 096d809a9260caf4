"""OTLP `fixed64` nanosecond timestamps → the ISO strings documents carry, with `@timestamp` fallback.

Sample input: `startTimeUnixNano: "1544712660000000000"` → `2018-12-13T14:51:00.000000000Z`; 0 means unset.
"""

from parsers.result import Doc
from parsers.timefmt import MAX_NS, is_plausible, ns_to_iso


def iso(ns: int) -> str | None:
    """ISO of a proto timestamp, or None when unset (0) or past what date_nanos holds."""
    return ns_to_iso(ns) if 0 < ns <= MAX_NS else None


def set_timestamp(doc: Doc, ns: int, received_ns: int, problems: list[str]) -> str | None:
    """`@timestamp` from `ns`, or from the receive time with the raw-log parsers' problem names when `ns`
    is unset or implausible.

    Returns `iso(ns)`, so a caller also writing `ns` elsewhere (a span's `event.start`) renders it once.
    """
    text = iso(ns)
    if text is not None and is_plausible(ns, received_ns):
        doc["@timestamp"] = text
    else:
        doc["@timestamp"] = ns_to_iso(received_ns)
        problems.append("timestamp_missing" if ns == 0 else "timestamp_out_of_range")
    return text
