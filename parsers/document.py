"""The steps every format shares: bytes to text under the limits, and finishing a document.

Every document leaves here with `@timestamp`, `message` and `logtrace.format`, and with
`logtrace.parse.problems` listing what was only partly understood.
"""

from collections.abc import Callable

from parsers.context import ParseContext
from parsers.exceptions import find as find_exception
from parsers.result import Doc, Outcome, ParseError
from parsers.timefmt import is_plausible, ns_to_iso

# UTF-8 continuation bytes look like 0b10xxxxxx; a cut must not split a character.
_CONTINUATION_MASK, _CONTINUATION = 0xC0, 0x80
_NUL = "\x00"


def decode(raw: bytes, ctx: ParseContext) -> tuple[str, list[str]] | ParseError:
    """The record as text without trailing whitespace, and the problems met (truncated, bad UTF-8, NUL)."""
    problems: list[str] = []
    limit = ctx.limits.max_record_bytes
    if len(raw) > limit:
        cut = limit
        while cut > 0 and cut > limit - 4 and raw[cut] & _CONTINUATION_MASK == _CONTINUATION:
            cut -= 1
        raw = raw[:cut]
        problems.append("record_truncated")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        text = raw.decode(errors="replace")
        problems.append("invalid_utf8")
    text = text.rstrip()
    if not text:
        return ParseError("empty_record", "the record is empty or only whitespace")
    if _NUL in text:
        problems.append("binary_content")
    return text, problems


# Parses decoded record text (line, problems so far, context) into documents; None when the line is not
# of the parser's format.
LineParser = Callable[[str, list[str], ParseContext], Outcome | None]
TextParser = Callable[[str, list[str], ParseContext], Outcome]


def parse_record(
    raw: bytes, ctx: ParseContext, from_text: Callable[[str, list[str], ParseContext], Outcome]
) -> Outcome:
    """Decode one record and hand its text to `from_text`; an undecodable record is its ParseError."""
    decoded = decode(raw, ctx)
    if isinstance(decoded, ParseError):
        return [decoded]
    return from_text(*decoded, ctx)


def line_or_text(
    parse_line: LineParser, unparsed: str, line: str, problems: list[str], ctx: ParseContext
) -> Outcome:
    """`parse_line`'s documents for `line`, or, when the line is not of that format, the text parser's
    document flagged with problem `unparsed` (a line a fixed-format topic cannot read is still kept)."""
    outcome = parse_line(line, problems, ctx)
    if outcome is not None:
        return outcome
    from parsers import text  # the text parser builds on this module

    problems.append(unparsed)
    return text.from_text(line, problems, ctx)


def new_doc(fmt: str, message: str = "") -> Doc:
    """A document with the always-present keys first, so printed documents read top-down."""
    return {"@timestamp": "", "message": message, "logtrace.format": fmt}


def add_exception(doc: Doc) -> None:
    """Set error.* from a stack trace inside a multi-line message, unless error fields came explicitly."""
    stack = doc.get("error.stack_trace")
    if isinstance(stack, str):
        if "error.type" in doc and "error.message" in doc:
            return
        # An explicit stack trace field still names the exception (its header, or Python's last line).
        found = find_exception(stack if "\n" in stack else f"{stack}\n")
    else:
        found = find_exception(doc["message"])
    if found is None:
        return
    doc.setdefault("error.stack_trace", found.stack_trace)
    if found.type is not None:
        doc.setdefault("error.type", found.type)
    if found.message:
        doc.setdefault("error.message", found.message)


def finish(doc: Doc, ns: int | None, problems: list[str], ctx: ParseContext, original: str) -> Doc:
    """Set @timestamp (the receive time, flagged, when `ns` is missing or absurd) and the problem list."""
    if ns is None:
        if not any(problem.startswith("timestamp_") for problem in problems):
            problems.append("timestamp_missing")
        ns = ctx.received_ns
    elif not is_plausible(ns, ctx.received_ns):
        problems.append("timestamp_out_of_range")
        ns = ctx.received_ns
    doc["@timestamp"] = ns_to_iso(ns)
    limit = ctx.limits.max_message_chars
    if len(doc["message"]) > limit:
        doc["message"] = doc["message"][:limit]
        problems.append("message_truncated")
    stack = doc.get("error.stack_trace")
    if isinstance(stack, str) and len(stack) > limit:
        doc["error.stack_trace"] = stack[:limit]
    if problems:
        doc["logtrace.parse.problems"] = problems
        # The input as it came helps whoever reads a partly understood event; skip it when message is it.
        if doc["message"] != original:
            doc["event.original"] = original[:limit]
    return doc
