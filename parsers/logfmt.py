"""logfmt lines: `key=value key2="quoted value"` pairs (Heroku router, Go kit, logrus text, Grafana).

Sample input: `ts=2026-12-03T08:18:49.123Z level=info caller=main.go:42 msg="request served" status=200`.
"""

import re

from parsers import keys
from parsers.context import ParseContext
from parsers.document import add_exception, decode, finish, new_doc
from parsers.result import Outcome, ParseError

# Keys start at the line start or after whitespace and are bounded: an unbounded `[^\s=]+` tried at
# every position of a long `=`-less run would be quadratic.
_PAIR = re.compile(r"(?<!\S)([^\s=\"]{1,256})=(?:\"([^\"\\]*(?:\\.[^\"\\]*)*)\"|(\S*))")
_ESCAPE = re.compile(r"\\(.)")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
# A line is logfmt when it starts with `key=` and has at least this many pairs.
_MIN_PAIRS = 2
_LEADING_KEY = re.compile(r"[A-Za-z_@][\w.\-@/]*=")


def parse(raw: bytes, ctx: ParseContext) -> Outcome:
    """Parse one record as logfmt (words outside pairs stay in the message)."""
    decoded = decode(raw, ctx)
    if isinstance(decoded, ParseError):
        return [decoded]
    return from_text(*decoded, ctx)


def looks_like(line: str) -> bool:
    """Cheap sniff for auto-detection: a leading `key=` (fails at once on most lines) and enough `=` signs."""
    return _LEADING_KEY.match(line) is not None and line.count("=") >= _MIN_PAIRS


def _unquote(value: str) -> str:
    if "\\" not in value:
        return value
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), value)


def pairs(line: str) -> dict[str, str]:
    """The key/value pairs of a logfmt line (first occurrence of a key wins)."""
    found: dict[str, str] = {}
    for key, quoted, bare in _PAIR.findall(line):
        if key not in found:
            found[key] = _unquote(quoted) if quoted else bare
    return found


def from_text(line: str, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse decoded record text as logfmt."""
    doc = new_doc("logfmt")
    first, _, more = line.partition("\n")
    ns = keys.apply(pairs(first), doc, problems, ctx)
    if not doc["message"]:
        # No msg key (Heroku router lines): the line itself reads best.
        doc["message"] = first
    if more:
        doc["message"] = f"{doc['message']}\n{more}"
    add_exception(doc)
    return [finish(doc, ns, problems, ctx, line)]
