"""Trace and span id normalization: W3C, B3, Jaeger and 64-bit ids to lower-case hex.

Sample inputs: `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01` (traceparent),
`80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1` (single b3), `7b34da6a3ce92:1a2b3c:0:1` (Jaeger).
"""

import re
from typing import NamedTuple

_HEX = frozenset("0123456789abcdef")
# Ids already in canonical form (the usual case) are recognized by one regex call.
_CANONICAL = {32: re.compile(r"[0-9a-f]{32}"), 16: re.compile(r"[0-9a-f]{16}")}
_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


def _hex_id(value: object, width: int) -> str | None:
    """`value` as exactly `width` lower-case hex chars, or None if malformed or all zeros."""
    if not isinstance(value, str):
        return None
    if len(value) == width and _CANONICAL[width].fullmatch(value) is not None:
        return value if value.count("0") != width else None
    text = value.strip().lower().removeprefix("0x")
    # 64-bit trace ids (B3, Zipkin, Jaeger) are left-padded to 128 bits, as W3C specifies.
    if width == 32 and len(text) == 16:
        text = text.rjust(32, "0")
    if len(text) != width or not _HEX.issuperset(text) or text.count("0") == width:
        return None
    return text


def trace_id(value: object) -> str | None:
    """A 32-hex trace id, or None when `value` is malformed or all zeros."""
    return _hex_id(value, 32)


def span_id(value: object) -> str | None:
    """A 16-hex span id, or None when `value` is malformed or all zeros."""
    return _hex_id(value, 16)


class TraceContext(NamedTuple):
    """Ids found in one propagation header; either may be None."""

    trace_id: str | None
    span_id: str | None


def from_traceparent(value: str) -> TraceContext:
    """Parse a W3C `traceparent` header value (version 00 layout; future versions keep the prefix)."""
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None or match.group(1) == "ff":
        return TraceContext(None, None)
    return TraceContext(trace_id(match.group(2)), span_id(match.group(3)))


def from_b3(value: str) -> TraceContext:
    """Parse a single `b3` header: `{trace}-{span}[-{sampled}[-{parent}]]`."""
    parts = value.strip().split("-")
    if len(parts) < 2:
        return TraceContext(None, None)
    return TraceContext(trace_id(parts[0]), span_id(parts[1]))


def from_uber_trace_id(value: str) -> TraceContext:
    """Parse Jaeger's `uber-trace-id`: `{trace}:{span}:{parent}:{flags}` with unpadded hex."""
    parts = value.strip().split(":")
    if len(parts) != 4:
        return TraceContext(None, None)
    # Jaeger writes its ids without leading zeros.
    trace, span = parts[0].strip(), parts[1]
    if len(trace) > 32 or len(span) > 16:
        return TraceContext(None, None)
    return TraceContext(trace_id(trace.rjust(32, "0")), span_id(span.rjust(16, "0")))


def from_bytes(raw: bytes) -> str | None:
    """Hex of a binary OTLP id (16 or 8 bytes), or None when empty, all-zero or the wrong length."""
    if len(raw) not in (8, 16) or not any(raw):
        return None
    return raw.hex()
