"""Auto-detection: one cheap look at the start of a record picks its format.

Sample inputs and picks: `{"msg":"hi"}` json, `<34>Dec  3 08:18:49 web-1 su: x` syslog,
`10.0.0.7 - - [03/Dec/2026:08:18:49 +0000] "GET / HTTP/1.1" 200 5` access, `level=info msg=hi` logfmt,
`2026-12-03T08:18:49.1Z stdout F hi` CRI, anything else text.
"""

from parsers import access, envelopes, json_log, logfmt, syslog, text
from parsers.context import ParseContext
from parsers.document import decode
from parsers.result import Outcome, ParseError

_MONTHS = frozenset(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"))


def parse_auto(raw: bytes, ctx: ParseContext) -> Outcome:
    """Parse one record in whatever supported format it has."""
    decoded = decode(raw, ctx)
    if isinstance(decoded, ParseError):
        return [decoded]
    return from_text(*decoded, ctx)


def from_text(line: str, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse decoded, non-empty record text in the format its first characters suggest."""
    line = line.lstrip()
    first = line[0]
    if first == "{":
        return json_log.from_text(line, problems, ctx)
    if first == "<" and line[1:2].isdecimal():
        return syslog.from_text(line, problems, ctx)
    if first.isdecimal() and line[10:11] == "T" and (" stdout " in line[:48] or " stderr " in line[:48]):
        envelope = envelopes.cri(line)
        if envelope is not None:
            return envelopes.parse(envelope, problems, ctx)
    if logfmt.looks_like(line):
        return logfmt.from_text(line, problems, ctx)
    outcome = None
    if first == "[" and line[-1] == "]":
        # A JSON array, or a text line in brackets (`[INFO] ...]`): only valid JSON is taken as JSON.
        outcome = json_log.parse_line(line, problems, ctx)
    elif access.looks_like(line):
        outcome = access.parse_line(line, problems, ctx)
    elif line[:3] in _MONTHS and line[3:4] == " ":
        outcome = syslog.parse_line(line, problems, ctx)
    return outcome or text.from_text(line, problems, ctx)
