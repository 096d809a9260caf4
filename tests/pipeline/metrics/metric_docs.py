"""Builders of span, log and access-log documents at event time T0 + an offset in seconds."""

from parsers.result import Doc
from parsers.timefmt import NS_PER_S, ns_to_iso

# Start of a 10 s window (and of every shorter whole-second window).
T0 = 1_767_225_600 * NS_PER_S


def at(seconds: float) -> int:
    """Epoch ns of T0 + `seconds`."""
    return T0 + round(seconds * NS_PER_S)


def span(
    seconds: float = 0,
    duration: int = 1_000_000,
    *,
    service: str = "cart",
    name: str = "GET",
    kind: str = "server",
    outcome: str = "success",
    route: str | None = None,
) -> Doc:
    """A span starting at T0 + `seconds` lasting `duration` ns."""
    doc: Doc = {
        "@timestamp": ns_to_iso(at(seconds)),
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span.id": "00f067aa0ba902b7",
        "span.name": name,
        "span.kind": kind,
        "service.name": service,
        "event.duration": duration,
        "event.outcome": outcome,
    }
    if route is not None:
        doc["http.route"] = route
    return doc


def log(
    seconds: float = 0,
    level: str | None = "info",
    *,
    service: str | None = "cart",
    status: int | None = None,
    duration: int | None = None,
) -> Doc:
    """A log record at T0 + `seconds`; an access log when `status` is given."""
    doc: Doc = {"@timestamp": ns_to_iso(at(seconds)), "message": "m", "logtrace.format": "json"}
    optional = {
        "log.level": level,
        "service.name": service,
        "http.response.status_code": status,
        "event.duration": duration,
    }
    doc.update((name, value) for name, value in optional.items() if value is not None)
    return doc
