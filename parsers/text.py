"""Unstructured runtime lines: timestamp and level found without a pattern per application.

Sample inputs: `2026-12-03 08:18:49,123 ERROR [main] com.acme.Api - boom` (log4j),
`081109 203615 148 INFO dfs.DataNode$PacketResponder: Received block` (HDFS),
`03-17 16:13:38.811  1702  2395 D WindowManager: focus` (logcat), `I1203 08:18:49.1 7 main.go:42] up` (klog).
The header (timestamp, level, thread, pid, logger) is read off the first line; the message is the rest,
including any further lines of the record (stack traces).
"""

import re

import orjson

from parsers import correlation, keys, levels, timestamps
from parsers.context import ParseContext
from parsers.document import add_exception, decode, finish, new_doc
from parsers.result import Doc, Outcome, ParseError

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# How far past the timestamp a level word is looked for.
_LEVEL_WINDOW = 80
_KLOG_TAIL = re.compile(r"\s+(?P<tid>\d{1,18}) (?P<file>[^:\s\]]+):(?P<line>\d{1,18})\] ?")
_LOGCAT_TAIL = re.compile(
    r"\s+(?P<pid>\d{1,18})\s+(?P<tid>\d{1,18})\s+(?P<L>[VDIWEFA])\s+(?P<tag>[^:\n]*?)\s*: ?"
)
_LOGCAT_BRIEF = re.compile(r"(?P<L>[VDIWEFA])/(?P<tag>[^(:\n]+?)\s*\(\s*(?P<pid>\d{1,18})\): ?")
_BEFORE_TOKEN = re.compile(
    r"\s*(?:\[(?P<bracket>(?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]|(?P<number>\d{1,18})(?![\w.])|(?P<sep>[-|:,>]+)(?!\S)"
    r"|(?P<word>[^\s\[\]]+))"
)
_BRACKET = re.compile(r"\[(?P<content>(?:[^\[\]\n]|\[[^\[\]\n]*\])*)\]")
_PID_TID = re.compile(r"pid (?P<pid>\d{1,18})(?::tid (?P<tid>\d{1,18}))?$")
_CLIENT = re.compile(r"client (?P<address>[^\s\]]+?)(?::\d+)?$")
_NUMERIC_PID = re.compile(r"(?P<pid>\d{1,18})(?:#(?P<tid>\d{1,18}))?:?\s+(?:---\s+)?")
_SEPARATOR = re.compile(r"[\]>]?(?:\s*[-|:](?=\s)|[:|])?\s*")
# Go's log.Lshortfile, log4j's %F:%L: `main.go:12: `.
_CALLER = re.compile(r"(?P<file>[\w./\-]+\.[A-Za-z]{1,6}):(?P<line>\d{1,18})(?::|\s+-)?\s+")
# Python's default format: `INFO:name:message`.
_PYTHON_NAME = re.compile(r":(?P<logger>[\w.\-]+):")
_LOGGER = re.compile(
    r"(?P<logger>[A-Za-z_$][\w$.\-/\[\]]*)(?::(?P<lline>\d{1,18}))?(?P<sep>\s*:\s+|\s+-\s+|\s{2,}|\t|$)"
)


def parse(raw: bytes, ctx: ParseContext) -> Outcome:
    """Parse one record as an unstructured runtime line (never fails on non-empty input)."""
    decoded = decode(raw, ctx)
    if isinstance(decoded, ParseError):
        return [decoded]
    return from_text(*decoded, ctx)


def find_level(line: str, start: int = 0, end: int | None = None) -> tuple[str, str | None] | None:
    """The first level word in `line[start:end]`: (as written, normalized), or None."""
    match = levels.LEVEL_IN_TEXT.search(line, start, len(line) if end is None else end)
    if match is None:
        return None
    written = match.group("b") or match.group("w")
    return written, levels.normalize(written)


def _classify_bracket(content: str, doc: Doc) -> None:
    content = content.strip()
    pid = _PID_TID.match(content) if content.startswith("pid ") else None
    if pid is not None:
        doc["process.pid"] = int(pid.group("pid"))
        if pid.group("tid"):
            doc["process.thread.id"] = int(pid.group("tid"))
        return
    client = _CLIENT.match(content) if content.startswith("client ") else None
    if client is not None:
        doc["source.address"] = client.group("address")
        doc["source.ip"] = client.group("address")
        return
    if content:
        # Spring Boot 3 writes [app] [thread]: the last bracket is the thread.
        doc["process.thread.name"] = content


def _before_level(region: str, doc: Doc) -> bool:
    """Read thread / pid / logger between timestamp and level; False when the region is message words."""
    found: Doc = {}
    words: list[str] = []
    separated = False
    for token in _BEFORE_TOKEN.finditer(region):
        if token.group("bracket") is not None:
            _classify_bracket(token.group("bracket"), found)
        elif token.group("number") is not None:
            found["process.pid"] = int(token.group("number"))
        elif token.group("sep") is not None:
            separated = True
        elif token.group("word") is not None:
            words.append(token.group("word"))
    # One name between separators is a logger (Python's `asctime - name - LEVEL`); more words are prose.
    if len(words) > 1 or (words and not separated and "." not in words[0]):
        return False
    if words:
        found["log.logger"] = words[0].rstrip(":")
    doc.update(found)
    return True


def _after_level(line: str, pos: int, doc: Doc) -> int:
    """Read bracketed thread/pid/client, a pid, then a logger or caller after the level; returns where
    the message starts."""
    pos = _SEPARATOR.match(line, pos).end()  # type: ignore[union-attr]  # matches the empty string
    for _ in range(4):
        bracket = _BRACKET.match(line, pos) if line.startswith("[", pos) else None
        if bracket is not None:
            _classify_bracket(bracket.group("content"), doc)
            pos = _SEPARATOR.match(line, bracket.end()).end()  # type: ignore[union-attr]
            continue
        number = _NUMERIC_PID.match(line, pos) if line[pos : pos + 1].isdecimal() else None
        if number is not None and "process.pid" not in doc:
            doc["process.pid"] = int(number.group("pid"))
            if number.group("tid"):
                doc["process.thread.id"] = int(number.group("tid"))
            pos = number.end()
            continue
        break
    caller = _caller(line, pos, doc)
    if caller != pos:
        return caller
    found = _LOGGER.match(line, pos)
    if found is None:
        return pos
    logger, sep = found.group("logger"), found.group("sep")
    # A dotted name is a class or module. A bare word is a logger only before ` - ` or a column gap:
    # before `: ` or at the line end it is prose ("Server: started"), and none after a logger was read.
    dotted = "." in logger or "$" in logger
    if not dotted and ("log.logger" in doc or not sep or sep.strip() == ":"):
        return pos
    doc["log.logger"] = logger
    if found.group("lline"):
        doc["log.origin.file.line"] = int(found.group("lline"))
    return found.end()


def _caller(line: str, pos: int, doc: Doc) -> int:
    """Read a `file.ext:line` caller at `pos`; returns the position after it (`pos` when there is none)."""
    # Cheap pre-check: a caller has its `:line` within the next few dozen characters.
    caller = _CALLER.match(line, pos) if line.find(":", pos, pos + 100) >= 0 else None
    if caller is None:
        return pos
    doc["log.origin.file.name"] = caller.group("file")
    doc["log.origin.file.line"] = int(caller.group("line"))
    return caller.end()


def _tabbed(line: str, pos: int, doc: Doc, problems: list[str], ctx: ParseContext) -> str:
    """zap's console encoder: LEVEL<TAB>[logger<TAB>]caller<TAB>message[<TAB>{json fields}]."""
    parts = line[pos:].lstrip("\t").split("\t")
    if len(parts) > 1 and parts[-1].startswith("{") and parts[-1].endswith("}"):
        try:
            fields = orjson.loads(parts[-1])
        except orjson.JSONDecodeError:
            fields = None
        if isinstance(fields, dict):
            parts.pop()
            keys.apply(fields, doc, problems, ctx)
    for index, part in enumerate(parts[:-1]):
        file, _, number = part.rpartition(":")
        if file and number.isdecimal() and len(number) <= 18 and "." in file:
            doc["log.origin.file.name"], doc["log.origin.file.line"] = file, int(number)
            if index == 1:
                doc["log.logger"] = parts[0]
            return "\t".join(parts[index + 1 :])
    return "\t".join(parts)


def _special_tail(found: timestamps.Found | None, first: str, doc: Doc) -> int | None:
    """klog and logcat carry level and ids in fixed places; returns the message start when they match."""
    if found is not None and found.level_letter is not None:
        keys.set_level(found.level_letter, levels.normalize(found.level_letter), doc, [])
        tail = _KLOG_TAIL.match(first, found.end)
        if tail is None:
            return found.end
        doc["process.thread.id"] = int(tail.group("tid"))
        doc["log.origin.file.name"] = tail.group("file")
        doc["log.origin.file.line"] = int(tail.group("line"))
        return tail.end()
    logcat = _LOGCAT_TAIL.match(first, found.end) if found is not None else _LOGCAT_BRIEF.match(first)
    if logcat is None:
        return None
    keys.set_level(logcat.group("L"), levels.normalize(logcat.group("L")), doc, [])
    doc["process.pid"] = int(logcat.group("pid"))
    if "tid" in logcat.re.groupindex:
        doc["process.thread.id"] = int(logcat.group("tid"))
    if logcat.group("tag"):
        doc["log.logger"] = logcat.group("tag")
    return logcat.end()


def _header(
    first: str, found: timestamps.Found | None, doc: Doc, problems: list[str], ctx: ParseContext
) -> tuple[int, str | None]:
    """Parse the header of the first line; returns where the message starts (and the message itself when
    a layout rebuilt it)."""
    special = _special_tail(found, first, doc)
    if special is not None:
        return special, None
    ts_start, ts_end = (found.start, found.end) if found is not None else (0, 0)
    at_start = levels.LEVEL_AT_START.match(first) if found is None else None
    if at_start is not None:
        level = at_start.group("w")
        keys.set_level(level, levels.normalize(level), doc, problems)
        return _after_level(first, at_start.end(), doc), None
    match = levels.LEVEL_IN_TEXT.search(first, 0, ts_end + _LEVEL_WINDOW)
    if match is not None and match.start() >= ts_end:
        region = first[ts_end : match.start()]
    elif match is not None and match.end() <= ts_start:
        region = first[: match.start()]
    else:
        region, match = "", None
    if match is None or not _before_level(region, doc):
        return _caller(first, _SEPARATOR.match(first, ts_end).end(), doc), None  # type: ignore[union-attr]
    written = match.group("b") or match.group("w")
    keys.set_level(written, levels.normalize(written), doc, problems)
    pos = max(match.end(), ts_end)
    python = _PYTHON_NAME.match(first, pos) if match.start() == 0 else None
    if python is not None:
        doc["log.logger"] = python.group("logger")
        return python.end(), None
    if first.startswith("\t", pos):
        return pos, _tabbed(first, pos, doc, problems, ctx)
    return _after_level(first, pos, doc), None


def from_text(text: str, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse decoded record text as an unstructured runtime line."""
    if "\x1b[" in text:
        # Console loggers color levels (`\x1b[32mINFO\x1b[0m`); the codes only get in the way.
        text = _ANSI.sub("", text)
    first, _, more = text.partition("\n")
    doc = new_doc("text")
    found = timestamps.find_in_line(first, ctx.default_tz, ctx.received_ns)
    ns = None
    if found is not None:
        ns = found.ns
        if ns is None:
            problems.append("timestamp_unparsed")
    start, rebuilt = _header(first, found, doc, problems, ctx)
    message = rebuilt if rebuilt is not None else first[start:]
    if more:
        if "log.level" not in doc:
            # java.util.logging puts the level first on the second line: `SEVERE: message`.
            second = levels.LEVEL_IN_TEXT.match(more)
            if second is not None and more[second.end() : second.end() + 1] == ":":
                written = second.group("b") or second.group("w")
                keys.set_level(written, levels.normalize(written), doc, problems)
        message = f"{message}\n{more}" if message else more.lstrip()
    doc["message"] = message or text
    if "trace.id" not in doc:
        correlation.write(correlation.from_text(text), doc, problems)
    add_exception(doc)
    return [finish(doc, ns, problems, ctx, text)]
