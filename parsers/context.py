"""What a parser may know besides the bytes: injected, so parsing stays pure and deterministic."""

from dataclasses import dataclass, field
from datetime import UTC, tzinfo

from parsers.limits import DEFAULT_LIMITS, Limits


@dataclass(frozen=True, slots=True)
class ParseContext:
    """Per-record context: receive time (epoch ns), limits, and the zone for zone-less timestamps."""

    # Kafka record time (or read time for files): the fallback @timestamp and the base of year inference.
    received_ns: int
    limits: Limits = field(default=DEFAULT_LIMITS)
    # Zone assumed for timestamps written without one (per-topic setting, UTC by default).
    default_tz: tzinfo = UTC
