"""What one worker accumulates for one open trace, as a JSON-able dict for a changelog-backed table.

Bounded: at most `max_spans` spans are kept with their detail (for self time and the root fallback);
past it spans still count in the totals, start/end, errors and services, and `truncated` is set.
Services are capped at `MAX_SERVICES` the same way. A span id already kept is a redelivery and ignored
(past the cap a redelivered span cannot be recognized and counts twice).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pipeline.correlate.projection import LogRef, Ref, SpanRef

DEFAULT_MAX_SPANS = 2_000
MAX_SERVICES = 64


@dataclass(slots=True)
class TraceState:
    """Counts and kept spans of one trace; `first_seen_ns`/`last_seen_ns` are processing time."""

    first_seen_ns: int
    last_seen_ns: int
    span_count: int = 0
    error_spans: int = 0
    log_count: int = 0
    error_logs: int = 0
    # Earliest span start and latest span end (event time); None until a span arrives.
    start_ns: int | None = None
    end_ns: int | None = None
    services: set[str] = field(default_factory=set)
    # The earliest span without a parent, kept even past the span cap.
    root: SpanRef | None = None
    spans: list[SpanRef] = field(default_factory=list)
    truncated: bool = False
    _kept_ids: set[str] = field(default_factory=set, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._kept_ids = {span.span_id for span in self.spans}

    def add(self, ref: Ref, now_ns: int, *, max_spans: int = DEFAULT_MAX_SPANS) -> None:
        """Account one span or log ref seen at processing time `now_ns`."""
        if isinstance(ref, SpanRef):
            self.add_span(ref, now_ns, max_spans=max_spans)
        else:
            self.add_log(ref, now_ns)

    def add_span(self, ref: SpanRef, now_ns: int, *, max_spans: int = DEFAULT_MAX_SPANS) -> None:
        """Count a span, keep its detail while under `max_spans`, and track the root."""
        self._touch(now_ns)
        if ref.span_id in self._kept_ids or (self.root is not None and self.root.span_id == ref.span_id):
            return
        self.span_count += 1
        self.error_spans += ref.error
        self.start_ns = ref.start_ns if self.start_ns is None else min(self.start_ns, ref.start_ns)
        self.end_ns = ref.end_ns if self.end_ns is None else max(self.end_ns, ref.end_ns)
        if ref.service is not None and ref.service not in self.services:
            if len(self.services) < MAX_SERVICES:
                self.services.add(ref.service)
            else:
                self.truncated = True
        if ref.parent_id is None and (self.root is None or _order(ref) < _order(self.root)):
            self.root = ref
        if len(self.spans) < max_spans:
            self.spans.append(ref)
            self._kept_ids.add(ref.span_id)
        else:
            self.truncated = True

    def add_log(self, ref: LogRef, now_ns: int) -> None:
        """Count a log of this trace, and whether it is an error log."""
        self._touch(now_ns)
        self.log_count += 1
        self.error_logs += ref.error

    def is_idle(self, now_ns: int, idle_ns: int) -> bool:
        """True when nothing arrived for `idle_ns` of processing time."""
        return now_ns - self.last_seen_ns >= idle_ns

    def _touch(self, now_ns: int) -> None:
        self.last_seen_ns = max(self.last_seen_ns, now_ns)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (spans as arrays), the value the worker's table stores."""
        return {
            "first_seen_ns": self.first_seen_ns,
            "last_seen_ns": self.last_seen_ns,
            "span_count": self.span_count,
            "error_spans": self.error_spans,
            "log_count": self.log_count,
            "error_logs": self.error_logs,
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
            "services": sorted(self.services),
            "root": None if self.root is None else list(self.root),
            "spans": [list(span) for span in self.spans],
            "truncated": self.truncated,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TraceState":
        """The state a `to_dict()` value describes."""
        root = data["root"]
        return cls(
            first_seen_ns=data["first_seen_ns"],
            last_seen_ns=data["last_seen_ns"],
            span_count=data["span_count"],
            error_spans=data["error_spans"],
            log_count=data["log_count"],
            error_logs=data["error_logs"],
            start_ns=data["start_ns"],
            end_ns=data["end_ns"],
            services=set(data["services"]),
            root=None if root is None else SpanRef(*root),
            spans=[SpanRef(*row) for row in data["spans"]],
            truncated=data["truncated"],
        )

    @staticmethod
    def root_service_of(data: Mapping[str, Any]) -> str | None:
        """The root span's service in a `to_dict()` value, read without decoding the whole state."""
        root = data.get("root")
        return None if root is None else SpanRef(*root).service


def _order(span: SpanRef) -> tuple[int, str]:
    """Earliest start first; the span id breaks ties so the choice does not depend on arrival order."""
    return span.start_ns, span.span_id
