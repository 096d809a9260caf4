"""OTLP log records → one document per record, shaped like the raw-log parsers' documents.

Sample input (one record, OTLP/JSON form): `{"timeUnixNano": "1544712660300000000", "severityNumber": 17,
"severityText": "ERROR", "body": {"stringValue": "payment declined"}, "traceId":
"5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174", "attributes": [{"key":
"exception.type", "value": {"stringValue": "CardError"}}]}` → `log.level: error`, `message`,
`trace.id`, `span.id`, `error.type`. A structured body is also kept as `body.structured`. A bad id on
a log record is not fatal: it is kept raw (`logtrace.raw_trace_id`) and flagged.
"""

from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord

from parsers import levels
from parsers.attributes import bounded
from parsers.context import ParseContext
from parsers.ids import from_bytes
from parsers.limits import Limits
from parsers.otlp.decode import LOGS
from parsers.otlp.resource import Shared, attach_attributes, scopes
from parsers.otlp.semconv import RULES, apply
from parsers.otlp.times import iso, set_timestamp
from parsers.otlp.values import any_value
from parsers.result import Doc, Outcome

# SeverityNumber ranges of the OTel log data model: 1-4 TRACE .. 21-24 FATAL.
_LEVEL_BY_NUMBER = tuple(
    level for level in ("trace", "debug", "info", "warn", "error", "fatal") for _ in range(4)
)
# (record field, bytes it must have, document field, field for a rejected value, problem as the
# raw-log parsers name it).
_IDS = (
    ("trace_id", 16, "trace.id", "logtrace.raw_trace_id", "trace_id_invalid"),
    ("span_id", 8, "span.id", "logtrace.raw_span_id", "span_id_invalid"),
)


def _level(record: LogRecord, doc: Doc, limits: Limits) -> None:
    number, text = record.severity_number, record.severity_text
    if 1 <= number <= 24:
        doc["log.level"] = _LEVEL_BY_NUMBER[number - 1]
        doc["otel.severity_number"] = number
    elif text:
        # The same spellings the raw-log parsers accept (WARNING, SEVERE, Information, crit, ...).
        level = levels.normalize(text)
        if level is not None:
            doc["log.level"] = level
    if text:
        doc["logtrace.level_original"] = text[: limits.max_value_chars]


def _ids(record: LogRecord, doc: Doc, problems: list[str]) -> None:
    for name, size, field, raw_field, problem in _IDS:
        raw = getattr(record, name)
        if not raw:
            continue
        value = from_bytes(raw) if len(raw) == size else None
        if value is None:
            doc[raw_field] = raw[:64].hex()
            problems.append(problem)
        else:
            doc[field] = value


def _body(record: LogRecord, doc: Doc, limits: Limits) -> int:
    """`message` from the body; a structured body is also kept whole, bounded, as `body.structured`.

    Returns the body values dropped over the limits.
    """
    body = record.body
    if body.WhichOneof("value") == "string_value":
        doc["message"] = body.string_value[: limits.max_message_chars]
        return 0
    value = any_value(body, limits.max_attributes)
    if value is None:
        return 0
    message = value if isinstance(value, str) else orjson.dumps(value).decode()
    doc["message"] = message[: limits.max_message_chars]
    if not isinstance(value, dict | list):
        return 0
    # A flattened field's root must be an object: an array body goes under one key.
    structured, dropped = bounded(
        {"body.structured": value if isinstance(value, dict) else {"array": value}}, limits
    )
    doc.update(structured)
    return dropped


def _log_doc(record: LogRecord, shared: Shared, ctx: ParseContext) -> Doc:
    limits = ctx.limits
    doc = dict(shared.fields)
    problems: list[str] = []
    observed = iso(record.observed_time_unix_nano)
    if observed is not None:
        doc["event.created"] = observed
    set_timestamp(doc, record.time_unix_nano or record.observed_time_unix_nano, ctx.received_ns, problems)
    _level(record, doc, limits)
    _ids(record, doc, problems)
    rest, dropped = apply(record.attributes, RULES, doc, limits)
    dropped += _body(record, doc, limits)
    attach_attributes(doc, shared, rest, dropped)
    if record.event_name:
        doc["otel.event_name"] = record.event_name[: limits.max_value_chars]
    if record.dropped_attributes_count:
        doc["otel.dropped_attributes_count"] = record.dropped_attributes_count
    trace_flags = record.flags & 0xFF
    if trace_flags:
        doc["otel.trace_flags"] = trace_flags
    if problems:
        doc["logtrace.parse.problems"] = problems
    return doc


def map_logs(request: Any, ctx: ParseContext, encoding: str) -> Outcome:
    """One document per log record of a decoded ExportLogsServiceRequest."""
    extra = {"event.kind": "event", "logtrace.format": encoding}

    def with_logger(scope: InstrumentationScope) -> Doc:
        # OTel SDKs name a log record's scope after the logger, which is what log.logger holds.
        return {**extra, "log.logger": scope.name[: ctx.limits.max_value_chars]} if scope.name else extra

    return [
        _log_doc(record, shared, ctx)
        for _, shared, log_records in scopes(request, LOGS, with_logger, ctx.limits)
        for record in log_records
    ]
