"""JSON log lines: generic application logs, ECS documents and shipper envelopes.

Sample inputs: `{"level":30,"time":1733213929123,"pid":7,"hostname":"web-1","msg":"listening"}` (pino),
`{"@timestamp":"2026-12-03T08:18:49.123Z","log.level":"info","message":"ok","ecs.version":"1.6.0"}` (ECS),
`{"log":"GET / 200\\n","stream":"stdout","time":"2026-12-03T08:18:49.123456789Z"}` (Docker json-file).
"""

from typing import Any

import orjson

from parsers import correlation, envelopes, keys
from parsers.context import ParseContext
from parsers.document import add_exception, decode, finish, new_doc
from parsers.result import Outcome, ParseError


def parse(raw: bytes, ctx: ParseContext) -> Outcome:
    """Parse one record as JSON (invalid JSON still becomes a flagged document)."""
    decoded = decode(raw, ctx)
    if isinstance(decoded, ParseError):
        return [decoded]
    return from_text(*decoded, ctx)


def _too_deep(value: Any, limit: int) -> bool:
    """True when objects/arrays nest deeper than `limit` (iterative: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def from_text(line: str, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse decoded record text as JSON."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        if "depth" in str(err):
            return [ParseError("json_too_deep", str(err))]
        # Truncated or broken JSON: kept whole as the message (a text reading would cut it apart).
        problems.append("json_invalid")
        doc = new_doc("json", line)
        correlation.write(correlation.from_text(line), doc, problems)
        return [finish(doc, None, problems, ctx, line)]
    return _from_value(value, line, problems, ctx)


def parse_line(line: str, problems: list[str], ctx: ParseContext) -> Outcome | None:
    """Parse decoded record text as JSON; None when it is not JSON (for auto-detection to go on)."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return _from_value(value, line, problems, ctx)


def _from_value(value: Any, line: str, problems: list[str], ctx: ParseContext) -> Outcome:
    limit = ctx.limits.max_json_depth
    # Counting brackets is cheap and rules out deep nesting for nearly every line.
    if line.count("{") + line.count("[") > limit and _too_deep(value, limit):
        return [ParseError("json_too_deep", f"objects or arrays nest deeper than {limit} levels")]
    if not isinstance(value, dict):
        problems.append("json_not_object")
        return [finish(new_doc("json", line), None, problems, ctx, line)]
    envelope = envelopes.unwrap(value)
    if envelope is not None:
        return envelopes.parse(envelope, problems, ctx)
    return [from_object(value, line, problems, ctx)]


def from_object(obj: dict[str, Any], line: str, problems: list[str], ctx: ParseContext) -> dict[str, Any]:
    """The document of one JSON object (`line` is its text, the message when it has no message key)."""
    ecs = "ecs.version" in obj or isinstance(obj.get("ecs"), dict)
    doc = new_doc("ecs" if ecs else "json")
    ns = keys.apply(obj, doc, problems, ctx)
    if "trace.id" not in doc and "logtrace.raw_trace_id" not in doc:
        # Ids nested where no key mapping looks (`req.headers.traceparent`) are still found.
        correlation.write(correlation.from_text(line), doc, problems)
    if not doc["message"]:
        # Nothing names a message: the whole object is the readable form.
        doc["message"] = line
    add_exception(doc)
    return finish(doc, ns, problems, ctx, line)
