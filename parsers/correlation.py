"""Trace and span ids found in an event's fields or text, normalized, with rejected values kept aside.

Sample inputs: `{"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}`, `traceparent=00-4bf9...-00f0...-01`,
`X-B3-TraceId: 80f198ee56343ba8`, `uber-trace-id=7b34da6a3ce92:1a2b3c:0:1`, `dd.trace_id=1234567890`.
"""

import re
from dataclasses import dataclass

from parsers import ids
from parsers.result import Doc

# Longest raw id value kept in logtrace.raw_*_id (its mapping ignores longer values anyway).
_RAW_CHARS = 256

# A key and its value, matched in the lower-cased text where an anchor word was found. Every key holds
# one of the anchors, so finding them with str.find first keeps lines without ids cheap.
_ANCHORS = ("trace", "span", "b3")
_KEY_VALUE = re.compile(
    r"(?P<key>traceparent|trace[_.\-]?id|span[_.\-]?id|b3)[\"']?\s*[=:]\s*[\"']?"
    r"(?P<value>[0-9a-fx]+(?:[-:][0-9a-f]+){0,4})"
)
# Prefixes that belong to a key: B3 multi-header names, Jaeger's header, Datadog's decimal ids.
_PREFIXES = ("x-b3-", "uber-", "dd.")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


@dataclass(slots=True)
class Ids:
    """Candidate id values collected from one event, before validation."""

    trace: object = None
    span: object = None
    traceparent: object = None
    b3: object = None
    uber: object = None

    def empty(self) -> bool:
        """True when no candidate at all was seen (the common case: nothing to write)."""
        return (
            self.trace is None
            and self.span is None
            and self.traceparent is None
            and self.b3 is None
            and self.uber is None
        )

    def fill(self, other: "Ids") -> None:
        """Take `other`'s candidates where this one has none."""
        for name in self.__slots__:
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))


def decimal_id(value: object) -> str | None:
    """Datadog writes 64-bit ids as decimal numbers: their hex form, or None when not decimal."""
    text = str(value)
    if not text.isdecimal() or int(text) >= 1 << 64:
        return None
    return f"{int(text):016x}"


def _store(found: Ids, key: str, prefix: str, value: str) -> None:
    if prefix == "dd.":
        value = decimal_id(value) or value
    if key == "traceparent":
        found.traceparent = found.traceparent or value
    elif key == "b3":
        found.b3 = found.b3 or value
    elif prefix == "uber-":
        found.uber = found.uber or value
    elif key.startswith("trace"):
        found.trace = found.trace or value
    else:
        found.span = found.span or value


def from_text(text: str) -> Ids:
    """Id candidates written as `key=value` / `key: value` / `"key":"value"` anywhere in a text line."""
    found = Ids()
    lowered = text.lower()
    # Values are taken from the original text when lower() kept every position (it does for ASCII).
    source = text if len(lowered) == len(text) else lowered
    for anchor in _ANCHORS:
        pos = lowered.find(anchor)
        while pos >= 0:
            match = _KEY_VALUE.match(lowered, pos)
            if match is not None:
                prefix = next(
                    (p for p in _PREFIXES if pos >= len(p) and lowered.startswith(p, pos - len(p))), ""
                )
                start = pos - len(prefix)
                if start == 0 or lowered[start - 1] not in _KEY_CHARS:
                    _store(
                        found, match.group("key"), prefix, source[match.start("value") : match.end("value")]
                    )
            pos = lowered.find(anchor, pos + 1)
    return found


def write(found: Ids, doc: Doc, problems: list[str]) -> None:
    """Set trace.id / span.id from the first valid candidate; keep a rejected value in logtrace.raw_*_id."""
    if found.empty():
        return
    trace, span = ids.trace_id(found.trace), ids.span_id(found.span)
    for header, decode in (
        (found.traceparent, ids.from_traceparent),
        (found.b3, ids.from_b3),
        (found.uber, ids.from_uber_trace_id),
    ):
        if isinstance(header, str) and (trace is None or span is None):
            context = decode(header)
            trace, span = trace or context.trace_id, span or context.span_id
    if trace is not None:
        doc["trace.id"] = trace
    else:
        raw = next((v for v in (found.trace, found.traceparent, found.b3, found.uber) if v is not None), None)
        if raw is not None:
            doc["logtrace.raw_trace_id"] = str(raw)[:_RAW_CHARS]
            problems.append("trace_id_invalid")
    if span is not None:
        doc["span.id"] = span
    elif found.span is not None:
        doc["logtrace.raw_span_id"] = str(found.span)[:_RAW_CHARS]
        problems.append("span_id_invalid")
