"""OTLP request bytes → protobuf request messages, in the two encodings the collector's Kafka exporter writes.

`otlp_proto`: one serialized ExportTraceServiceRequest / ExportLogsServiceRequest per record (the
exporter's default). `otlp_json`: the OTLP/JSON mapping, one request per record, e.g.
`{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "5b8efff798038103d269b633813fc60c",
"spanId": "eee19b7ec3c1b174", "startTimeUnixNano": "1544712660000000000", "kind": 2}]}]}]}`.
Failures come back as one ParseError with a specific reason; nothing here raises on bad input.
"""

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.protobuf.unknown_fields import UnknownFieldSet
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from parsers.limits import Limits
from parsers.result import ParseError

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _span_plausible(span: Any) -> bool:
    return len(span.trace_id) == 16 and len(span.span_id) == 8 and not len(UnknownFieldSet(span))


def _log_plausible(record: Any) -> bool:
    has_content = record.time_unix_nano or record.observed_time_unix_nano or record.HasField("body")
    ids_fit = len(record.trace_id) in (0, 16) and len(record.span_id) in (0, 8)
    return bool(has_content) and ids_fit and not len(UnknownFieldSet(record))


def _metric_plausible(metric: Any) -> bool:
    return bool(metric.name) and metric.WhichOneof("data") is not None and not len(UnknownFieldSet(metric))


@dataclass(frozen=True, slots=True)
class Signal:
    """One OTLP signal: its request message, the path down to its records and its hex id fields."""

    name: str
    request: type[Message]
    # Proto field names from the request down to the records: resource, scope, records.
    levels: tuple[str, str, str]
    # Record fields OTLP/JSON writes as hex, and the same for each item of a nested record list.
    ids: tuple[str, ...]
    nested_ids: tuple[tuple[str, tuple[str, ...]], ...]
    # Whether a decoded first record looks like this signal (protobuf parses some foreign bytes fine).
    plausible: Callable[[Any], bool]


TRACES = Signal(
    "traces",
    ExportTraceServiceRequest,
    ("resource_spans", "scope_spans", "spans"),
    ("trace_id", "span_id", "parent_span_id"),
    (("links", ("trace_id", "span_id")),),
    _span_plausible,
)
LOGS = Signal(
    "logs",
    ExportLogsServiceRequest,
    ("resource_logs", "scope_logs", "log_records"),
    ("trace_id", "span_id"),
    (),
    _log_plausible,
)
# Never mapped: known only to name it when a metrics request lands on a traces or logs topic.
METRICS = Signal(
    "metrics",
    ExportMetricsServiceRequest,
    ("resource_metrics", "scope_metrics", "metrics"),
    (),
    (),
    _metric_plausible,
)
_SIGNALS = (TRACES, LOGS, METRICS)


def _camel(name: str) -> str:
    head, *tail = name.split("_")
    return head + "".join(part.title() for part in tail)


@cache
def _json_names(name: str) -> tuple[str, ...]:
    # OTLP/JSON writes lowerCamelCase; json_format (and some producers) also use the proto field name.
    camel = _camel(name)
    return (camel, name) if camel != name else (name,)


def records(request: Any, signal: Signal) -> Iterator[tuple[int, int, Any, Any, Any]]:
    """(resource index, scope index, resource entry, scope entry, records) for every scope entry."""
    resource_field, scope_field, record_field = signal.levels
    for i, resource_entry in enumerate(getattr(request, resource_field)):
        for j, scope_entry in enumerate(getattr(resource_entry, scope_field)):
            yield i, j, resource_entry, scope_entry, getattr(scope_entry, record_field)


def _first_record(request: Message, signal: Signal) -> Any:
    return next((recs[0] for *_, recs in records(request, signal) if recs), None)


def _parse_proto(raw: bytes, signal: Signal) -> Message | None:
    request = signal.request()
    try:
        request.ParseFromString(raw)
    except DecodeError:
        return None
    return request


def _foreign_signal(raw: bytes, signal: Signal) -> Signal | None:
    """The other signal `raw` decodes to with a plausible first record, if any."""
    for other in _SIGNALS:
        if other is signal:
            continue
        request = _parse_proto(raw, other)
        first = None if request is None else _first_record(request, other)
        if first is not None and other.plausible(first):
            return other
    return None


def _wrong_type(found: Signal, signal: Signal, how: str) -> ParseError:
    return ParseError(
        "otlp_wrong_message_type",
        f"{how} is an OTLP {found.name} request, but this input is configured for {signal.name}",
    )


def _decode_proto(raw: bytes, signal: Signal) -> Message | ParseError:
    request = _parse_proto(raw, signal)
    first = None if request is None else _first_record(request, signal)
    if first is None or not signal.plausible(first):
        found = _foreign_signal(raw, signal)
        if found is not None:
            return _wrong_type(found, signal, "the protobuf")
    if request is None:
        hint = " (it looks like JSON: is the encoding otlp_json?)" if raw.lstrip()[:1] == b"{" else ""
        return ParseError(
            "otlp_proto_decode", f"{len(raw)} bytes are not an OTLP {signal.name} request{hint}"
        )
    return request


def _hex_to_base64(value: str) -> str | None:
    """An OTLP/JSON hex id as the base64 json_format reads bytes as; None when it is not hex."""
    if len(value) % 2 or not _HEX_DIGITS.issuperset(value):
        return None
    return base64.b64encode(bytes.fromhex(value)).decode("ascii")


def _items(obj: Any, field: str) -> list[Any]:
    if not isinstance(obj, dict):
        return []
    found = [obj[key] for key in _json_names(field) if key in obj]
    return [item for value in found if isinstance(value, list) for item in value]


def _convert_ids(obj: Any, fields: tuple[str, ...]) -> str | None:
    """Rewrite `obj`'s hex id fields in place; the first non-hex one as `key 'value'`, or None."""
    if not isinstance(obj, dict):
        return None
    for field in fields:
        for key in _json_names(field):
            value = obj.get(key)
            if isinstance(value, str):
                converted = _hex_to_base64(value)
                if converted is None:
                    return f"{key} {value[:64]!r}"
                obj[key] = converted
    return None


def _ids_to_base64(request: dict[str, Any], signal: Signal) -> str | None:
    """Rewrite every id of an OTLP/JSON request for json_format; where a non-hex id is, or None.

    OTLP/JSON deviates from the protobuf JSON mapping here: ids are hex, not base64. A non-hex id (e.g.
    base64 from a producer following the generic mapping) fails the whole request: it is an encoding
    error, and reading its characters as bytes could forge a valid-looking id.
    """
    resource_field, scope_field, record_field = signal.levels
    for i, resource_entry in enumerate(_items(request, resource_field)):
        for j, scope_entry in enumerate(_items(resource_entry, scope_field)):
            for k, record in enumerate(_items(scope_entry, record_field)):
                where = (
                    f"{_camel(resource_field)}[{i}].{_camel(scope_field)}[{j}].{_camel(record_field)}[{k}]"
                )
                bad = _convert_ids(record, signal.ids)
                if bad is not None:
                    return f"{where}.{bad}"
                for nested_field, fields in signal.nested_ids:
                    for n, item in enumerate(_items(record, nested_field)):
                        bad = _convert_ids(item, fields)
                        if bad is not None:
                            return f"{where}.{_camel(nested_field)}[{n}].{bad}"
    return None


def _decode_json(raw: bytes, signal: Signal) -> Message | ParseError:
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        hint = (
            ""
            if raw.lstrip()[:1] in (b"{", b"[")
            else " (it does not look like JSON: is the encoding otlp_proto?)"
        )
        return ParseError("otlp_json_decode", f"not JSON: {exc}{hint}")
    if not isinstance(obj, dict):
        return ParseError("otlp_json_decode", f"an OTLP/JSON request is an object, not {type(obj).__name__}")
    own_key = signal.levels[0]
    if not any(key in obj for key in _json_names(own_key)):
        for other in _SIGNALS:
            if other is not signal and any(key in obj for key in _json_names(other.levels[0])):
                return _wrong_type(other, signal, "the JSON")
    bad = _ids_to_base64(obj, signal)
    if bad is not None:
        return ParseError(
            "otlp_json_decode", f"{bad} is not a hex id (OTLP/JSON writes ids as hex, not base64)"
        )
    try:
        return json_format.ParseDict(obj, signal.request(), ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as exc:
        return ParseError("otlp_json_decode", f"not an OTLP/JSON {signal.name} request: {str(exc)[:500]}")


_DECODERS: dict[str, Callable[[bytes, Signal], Message | ParseError]] = {
    "otlp_proto": _decode_proto,
    "otlp_json": _decode_json,
}
ENCODINGS: tuple[str, ...] = tuple(_DECODERS)


def decode(raw: bytes, signal: Signal, encoding: str, limits: Limits) -> Message | ParseError:
    """The request message in `raw`, or one ParseError; a request without records is an error too.

    Raises ValueError only for an `encoding` that is not one of ENCODINGS (a configuration error).
    """
    decoder = _DECODERS.get(encoding)
    if decoder is None:
        raise ValueError(f"unknown OTLP encoding {encoding!r}; expected one of {', '.join(ENCODINGS)}")
    if len(raw) > limits.max_request_bytes:
        return ParseError(
            "otlp_too_large", f"{len(raw)} bytes exceed the {limits.max_request_bytes}-byte request limit"
        )
    decoded = decoder(raw, signal)
    if isinstance(decoded, ParseError):
        return decoded
    if _first_record(decoded, signal) is None:
        return ParseError("otlp_empty_request", f"{len(raw)} bytes hold no {signal.levels[2]}")
    return decoded
