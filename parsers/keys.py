"""Structured events (JSON objects, logfmt pairs, custom pattern groups) mapped onto declared fields.

Sample input: `{"ts": 1733213929.123, "lvl": "WARNING", "msg": "slow", "traceId": "4bf9...", "user": "bob"}`.
Common key spellings map to their ECS field, ECS documents (nested or dotted) keep their declared fields,
and every other key goes under the bounded `attributes` object.
"""

import re
from collections.abc import Callable, Mapping
from datetime import UTC
from typing import Any

from parsers import correlation, http, levels, timestamps
from parsers.attributes import bounded
from parsers.context import ParseContext
from parsers.fields import declared
from parsers.result import Doc
from parsers.timefmt import ns_to_iso

# Source key -> the field (or `@slot` needing more than a copy) it holds. Nested ECS objects are
# flattened to dotted names before this lookup, so `{"log": {"level": ...}}` meets `log.level`.
_SPELLINGS: dict[str, tuple[str, ...]] = {
    "@time": (
        "@timestamp",
        "timestamp",
        "time",
        "ts",
        "t",
        "@t",
        "Timestamp",
        "datetime",
        "asctime",
        "eventTime",
        "time_local",
        "date",
    ),
    "@message": ("message", "msg", "@m", "RenderedMessage", "Message", "log", "short_message", "event"),
    # Serilog's templates (`Processed {OrderId}`): the message only when no rendered one comes.
    "@template": ("@mt", "MessageTemplate"),
    "@level": (
        "log.level",
        "level",
        "severity",
        "lvl",
        "loglevel",
        "log_level",
        "levelname",
        "level_name",
        "@l",
        "Level",
        "Severity",
        "severity_text",
    ),
    "log.logger": ("logger", "logger_name", "loggerName", "name", "SourceContext", "category", "channel"),
    "@service": ("service",),
    "service.name": ("service_name", "serviceName", "app", "application", "app_name"),
    "service.version": ("service_version", "serviceVersion", "app_version"),
    "service.environment": ("env", "environment", "deployment.environment"),
    "host.name": ("host", "hostname", "HOSTNAME", "host_name"),
    "process.pid": ("pid", "process_id", "processId", "ProcessId"),
    "process.thread.name": ("thread", "thread_name", "threadName", "ThreadName"),
    "process.thread.id": ("tid", "thread_id", "threadId", "ThreadId"),
    "@caller": ("caller",),
    "@file": ("file", "filename", "source_file"),
    "log.origin.file.line": ("line", "lineno", "line_number"),
    "log.origin.function": ("func", "function", "funcName", "method_name"),
    "@trace": (
        "trace.id",
        "trace_id",
        "traceId",
        "traceid",
        "TraceId",
        "traceID",
        "trace-id",
        "x-b3-traceid",
        "X-B3-TraceId",
        "logging.googleapis.com/trace_id",
    ),
    "@span": (
        "span.id",
        "span_id",
        "spanId",
        "spanid",
        "SpanId",
        "spanID",
        "span-id",
        "x-b3-spanid",
        "X-B3-SpanId",
    ),
    "@dd_trace": ("dd.trace_id",),
    "@dd_span": ("dd.span_id",),
    "@traceparent": ("traceparent",),
    "@b3": ("b3",),
    "@uber": ("uber-trace-id", "uber_trace_id"),
    "@stack": (
        "error.stack_trace",
        "stack_trace",
        "stacktrace",
        "stack",
        "exception",
        "exc_info",
        "exc_text",
        "@x",
        "Exception",
        "backtrace",
    ),
    "@error": ("err", "error"),
    "http.request.method": ("method", "request_method", "http_method", "httpMethod"),
    "http.response.status_code": ("status", "status_code", "statusCode", "http_status"),
    "url.original": ("url", "uri", "request_uri"),
    "user_agent.original": ("user_agent", "http_user_agent", "userAgent", "ua"),
    "http.request.referrer": ("referer", "referrer", "http_referer"),
    "http.response.body.bytes": ("bytes", "body_bytes_sent", "bytes_sent", "response_size"),
    "@client": ("remote_addr", "client_ip", "remote_ip", "clientip", "client_addr", "remote_host", "fwd"),
    "url.path": ("path", "request_path"),
    "log.iostream": ("stream",),
    "@request_line": ("request",),
    "@request_time": ("request_time",),
}
ALIASES: dict[str, str] = {key: target for target, keys in _SPELLINGS.items() for key in keys}

_LONG_MIN, _LONG_MAX = -(1 << 63), (1 << 63) - 1
# Digit strings this short always fit a `long`.
_LONG_DIGITS = 18
_DURATION = re.compile(r"\d+(?:\.\d+)?(?:ns|us|µs|ms|s)$")
# Declared fields an input may not set: pipeline bookkeeping, and fields other stages own.
_RESERVED_PREFIXES = ("logtrace.", "data_stream.", "event.ingested", "event.dataset")


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if (isinstance(value, str) and value.strip().lstrip("-").isdecimal()) or (
        isinstance(value, float) and value.is_integer()
    ):
        value = int(value)
    # Elasticsearch `long` is signed 64-bit; larger numbers stay attributes.
    return value if isinstance(value, int) and _LONG_MIN <= value <= _LONG_MAX else None


def _to_float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _to_str(value: Any) -> str | list[str] | None:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, list) and value and all(isinstance(item, str | int | float) for item in value):
        return [str(item) for item in value]
    return None


def _to_date(value: Any) -> str | None:
    # Dates other than @timestamp (event.created, ...) are rarely sent; UTC is assumed for zone-less ones.
    ns = timestamps.parse_value(value, UTC, 0)
    return ns_to_iso(ns) if ns is not None and ns >= 0 else None


_COERCE_BY_TYPE: dict[str, Callable[[Any], Any]] = {
    "long": _to_int,
    "float": _to_float,
    "date": _to_date,
    "date_nanos": _to_date,
}
# Object-typed fields are not copied from input: `labels` is handled on its own, the flattened ones
# (structured data, span events) only come from parsers that bound them; input values go to attributes.
_NOT_COPIED_TYPES = ("flattened", "object", "object_disabled")


def _settable_fields() -> tuple[dict[str, Callable[[Any], Any]], frozenset[str]]:
    fields: dict[str, Callable[[Any], Any]] = {}
    prefixes: set[str] = set()
    for name, entry in declared().items():
        parts = name.split(".")
        prefixes.update(".".join(parts[:i]) for i in range(1, len(parts)))
        if (
            not name.startswith(_RESERVED_PREFIXES)
            and name not in ALIASES
            and entry["type"] not in _NOT_COPIED_TYPES
        ):
            fields[name] = _COERCE_BY_TYPE.get(entry["type"], _to_str)
    return fields, frozenset(prefixes)


# Declared field -> coercion to its mapped type; names that are prefixes of declared fields (`log`,
# `http.request`), whose objects are flattened.
_FIELDS, _OBJECT_PREFIXES = _settable_fields()


class _Event:
    """One structured event being mapped: the document, and what it yields besides plain fields."""

    __slots__ = ("ctx", "doc", "ids", "leftovers", "ns", "problems", "template", "time_seen")

    def __init__(self, doc: Doc, problems: list[str], ctx: ParseContext) -> None:
        self.doc = doc
        self.problems = problems
        self.ctx = ctx
        self.ns: int | None = None
        self.time_seen = False
        self.template: tuple[str, Any] | None = None
        # Created when the first id key is met: most events carry none.
        self.ids: correlation.Ids | None = None
        self.leftovers: dict[str, Any] = {}


_Handler = Callable[[Any, str, _Event], None]


def _time(value: Any, key: str, event: _Event) -> None:
    if event.time_seen:
        event.leftovers[key] = value
        return
    event.time_seen = True
    event.ns = timestamps.parse_value(value, event.ctx.default_tz, event.ctx.received_ns)
    if event.ns is None:
        event.problems.append("timestamp_unparsed")


def _message(value: Any, key: str, event: _Event) -> None:
    if isinstance(value, str) and not event.doc["message"]:
        event.doc["message"] = value
    else:
        event.leftovers[key] = value


def _template(value: Any, key: str, event: _Event) -> None:
    if event.template is None and isinstance(value, str):
        event.template = (key, value)
    else:
        event.leftovers[key] = value


def _level(value: Any, key: str, event: _Event) -> None:
    kind = type(value)
    if "log.level" in event.doc or (kind is not str and kind is not int):
        event.leftovers[key] = value
        return
    set_level(str(value), levels.normalize(value), event.doc, event.problems)


def set_level(original: str, level: str | None, doc: Doc, problems: list[str]) -> None:
    """Set log.level, keeping the written value in logtrace.level_original when it differs."""
    if level is not None:
        doc["log.level"] = level
    else:
        problems.append("level_unrecognized")
    if original != level:
        doc["logtrace.level_original"] = original


def _service(value: Any, key: str, event: _Event) -> None:
    # Heroku's router writes `service=11ms` (time spent in the app), not a service name.
    if isinstance(value, str) and value and not _DURATION.match(value) and "service.name" not in event.doc:
        event.doc["service.name"] = value
    else:
        event.leftovers[key] = value


def _caller(value: Any, key: str, event: _Event) -> None:
    # zap and go-kit write `path/file.go:42`.
    file, _, line = str(value).rpartition(":")
    if file and line.isdecimal() and len(line) <= _LONG_DIGITS:
        event.doc["log.origin.file.name"] = file
        event.doc["log.origin.file.line"] = int(line)
    else:
        event.leftovers[key] = value


def _file(value: Any, key: str, event: _Event) -> None:
    # A source file name, which logrus writes with its line: `/app/publisher.go:77`.
    if not isinstance(value, str) or "log.origin.file.name" in event.doc:
        event.leftovers[key] = value
    elif value.rpartition(":")[2].isdecimal():
        _caller(value, key, event)
    else:
        event.doc["log.origin.file.name"] = value


def _id_setter(attribute: str, decimal: bool = False) -> _Handler:
    def store(value: Any, key: str, event: _Event) -> None:
        if decimal:
            value = correlation.decimal_id(value) or value
        if event.ids is None:
            event.ids = correlation.Ids()
        if getattr(event.ids, attribute) is None:
            setattr(event.ids, attribute, value)

    return store


def _stack(value: Any, key: str, event: _Event) -> None:
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        value = "\n".join(value)
    if isinstance(value, str) and "error.stack_trace" not in event.doc:
        event.doc["error.stack_trace"] = value
    else:
        event.leftovers[key] = value


def _error(value: Any, key: str, event: _Event) -> None:
    if isinstance(value, str):
        event.doc.setdefault("error.message", value)
        return
    if not isinstance(value, dict):
        event.leftovers[key] = value
        return
    # pino / bunyan serialize errors as {type|name, message, stack}; the rest stays an attribute.
    rest = dict(value)
    for field, names in (
        ("error.type", ("type", "name", "kind", "class")),
        ("error.message", ("message", "msg")),
        ("error.stack_trace", ("stack", "stack_trace", "stacktrace")),
    ):
        for name in names:
            if isinstance(rest.get(name), str):
                event.doc.setdefault(field, rest.pop(name))
                break
    if rest:
        event.leftovers[key] = rest


def _client(value: Any, key: str, event: _Event) -> None:
    if isinstance(value, str) and value:
        http.client(value, event.doc)
    else:
        event.leftovers[key] = value


def _request_line(value: Any, key: str, event: _Event) -> None:
    if not (isinstance(value, str) and http.request_line(value, event.doc)):
        event.leftovers[key] = value


def _request_time(value: Any, key: str, event: _Event) -> None:
    # nginx's $request_time: seconds with millisecond resolution.
    ns = http.seconds_to_ns(str(value)) if isinstance(value, str | int | float) else None
    if ns is None:
        event.leftovers[key] = value
    else:
        event.doc["event.duration"] = ns


def _copy_to(field: str, coerce: Callable[[Any], Any]) -> _Handler:
    """A handler copying a value into declared `field`, coerced to its type (else it is an attribute)."""

    def copy(value: Any, key: str, event: _Event) -> None:
        if field in event.doc:
            event.leftovers[key] = value
            return
        coerced = coerce(value)
        if coerced is None:
            event.leftovers[key] = value
        else:
            event.doc[field] = coerced

    return copy


def _attributes(value: Any, key: str, event: _Event) -> None:
    if isinstance(value, dict):
        event.leftovers.update(value)
    else:
        event.leftovers[key] = value


def _labels(value: Any, key: str, event: _Event) -> None:
    if isinstance(value, dict):
        event.doc.update(
            (f"labels.{k}", str(v)) for k, v in value.items() if isinstance(v, str | int | float)
        )
    else:
        event.leftovers[key] = value


_SLOTS: dict[str, _Handler] = {
    "@time": _time,
    "@message": _message,
    "@template": _template,
    "@service": _service,
    "@level": _level,
    "@caller": _caller,
    "@file": _file,
    "@trace": _id_setter("trace"),
    "@span": _id_setter("span"),
    "@dd_trace": _id_setter("trace", decimal=True),
    "@dd_span": _id_setter("span", decimal=True),
    "@traceparent": _id_setter("traceparent"),
    "@b3": _id_setter("b3"),
    "@uber": _id_setter("uber"),
    "@stack": _stack,
    "@error": _error,
    "@client": _client,
    "@request_line": _request_line,
    "@request_time": _request_time,
}
# Every key with a mapping -> its handler: declared fields copy themselves, spellings go to their field.
_DISPATCH: dict[str, _Handler] = {
    **{name: _copy_to(name, coerce) for name, coerce in _FIELDS.items()},
    **{
        key: _SLOTS[target] if target[0] == "@" else _copy_to(target, _FIELDS[target])
        for key, target in ALIASES.items()
    },
    "attributes": _attributes,
    "labels": _labels,
}


def _walk(obj: Mapping[Any, Any], prefix: str, event: _Event) -> None:
    dispatch, prefixes = _DISPATCH, _OBJECT_PREFIXES
    for raw_key, value in obj.items():
        key = raw_key if type(raw_key) is str else str(raw_key)
        if prefix:
            key = prefix + key
        if type(value) is dict and key in prefixes:
            _walk(value, key + ".", event)
            continue
        handler = dispatch.get(key)
        if handler is None:
            event.leftovers[key] = value
        else:
            handler(value, key, event)


def apply(obj: Mapping[Any, Any], doc: Doc, problems: list[str], ctx: ParseContext) -> int | None:
    """Map the keys of one structured event onto `doc`; returns its time in epoch ns (None when absent).

    `doc["message"]` must be empty when the event may carry one: the first non-empty message key wins.
    """
    event = _Event(doc, problems, ctx)
    _walk(obj, "", event)
    if event.template is not None:
        key, template = event.template
        if doc["message"]:
            event.leftovers[key] = template
        else:
            doc["message"] = template
    if event.ids is not None:
        correlation.write(event.ids, doc, problems)
    if event.leftovers:
        attributes, dropped = bounded(event.leftovers, ctx.limits)
        if attributes:
            doc["attributes"] = attributes
        if dropped:
            doc["logtrace.attributes_dropped"] = dropped
    return event.ns
