"""Timing fields: when logtrace ingested an event, how late it was, how long it spent in the worker."""

from datetime import UTC, datetime

from parsers.result import Doc
from parsers.timefmt import iso_to_ns

NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


def ms_iso(ns: int) -> str:
    """ISO 8601 UTC with millisecond precision (the `date` fields)."""
    seconds, rest = divmod(ns, NS_PER_S)
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{rest // NS_PER_MS:03d}Z"


class Timing:
    """Sets `event.ingested` (now) and `logtrace.lag_ms` (now - @timestamp) on every document.

    One instance per batch: `now_ns` is the moment the batch was enriched.
    """

    __slots__ = ("_ingested", "_now_ns")

    def __init__(self, now_ns: int) -> None:
        self._now_ns = now_ns
        self._ingested = ms_iso(now_ns)

    def __call__(self, doc: Doc) -> Doc:
        doc["event.ingested"] = self._ingested
        stamp = doc.get("@timestamp")
        if isinstance(stamp, str):
            event_ns = iso_to_ns(stamp)
            if event_ns is not None:
                doc["logtrace.lag_ms"] = (self._now_ns - event_ns) // NS_PER_MS
        return doc

    def lag_seconds(self, doc: Doc) -> float | None:
        """The lag just set on `doc`, in seconds (for the event-time lag histogram)."""
        lag = doc.get("logtrace.lag_ms")
        return None if lag is None else lag / 1000.0


def set_pipeline_ms(doc: Doc, started_ns: int, now_ns: int) -> Doc:
    """`logtrace.pipeline_ms`: time from the batch leaving Kafka's client to the bulk request."""
    doc["logtrace.pipeline_ms"] = round((now_ns - started_ns) / NS_PER_MS, 3)
    return doc
