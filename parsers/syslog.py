"""Syslog lines: RFC 5424 and RFC 3164 (BSD), with or without the `<PRI>` part.

Sample inputs: `<165>1 2026-12-03T08:18:49.003Z web-1 api 4242 ID47 [ex@32473 iut="3"] started`,
`<34>Dec  3 08:18:49 web-1 su[812]: 'su root' failed for bob`, `Dec  3 08:18:49 web-1 CRON[5]: (root) CMD`.
"""

import re
from typing import Any

import orjson

from parsers import correlation, keys, levels, text, timestamps
from parsers.context import ParseContext
from parsers.document import add_exception, finish, line_or_text, new_doc, parse_record
from parsers.result import Doc, Outcome

_FACILITIES = (
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
)
_PRI = re.compile(r"<(\d{1,3})>")
_RFC5424 = re.compile(
    r"(?P<version>[1-9]\d?) (?P<time>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) "
    r"(?P<sd>-|(?:\[[^\]\"\\]*(?:(?:\\.|\"[^\"\\]*(?:\\.[^\"\\]*)*\")[^\]\"\\]*)*\])+)(?: (?P<msg>.*))?$",
    re.DOTALL,
)
# BSD syslog: time (BSD layout, or ISO from rsyslog's high-precision template), host, then TAG[pid]: .
_RFC3164 = re.compile(
    r"(?P<time>(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d\d? (?:\d{4} )?"
    r"\d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\dT\S+) (?:(?P<host>[\w.\-]+) )?"
    r"(?:(?P<tag>[\w.\-/()@]{1,64}?)(?:\[(?P<pid>\w+)\])?: ?)?"
    r"(?P<msg>.*)$",
    re.DOTALL,
)
_SD_ELEMENT = re.compile(r"\[(?P<id>[^ \]]+)(?P<params>(?: [^=\] ]+=\"(?:[^\"\\]|\\.)*\")*) ?\]")
_SD_PARAM = re.compile(r"([^=\] ]+)=\"((?:[^\"\\]|\\.)*)\"")
_SD_UNESCAPE = re.compile(r"\\([\"\\\]])")
_NIL = "-"


def parse(raw: bytes, ctx: ParseContext) -> Outcome:
    """Parse one record as syslog (a line that is not syslog becomes a flagged text document)."""
    return parse_record(raw, ctx, from_text)


def _pri(doc: Doc, value: int) -> None:
    facility, severity = divmod(value, 8)
    doc["log.syslog.priority"] = value
    doc["log.syslog.facility.code"] = facility
    if facility < len(_FACILITIES):
        doc["log.syslog.facility.name"] = _FACILITIES[facility]
    doc["log.syslog.severity.code"] = severity
    doc["log.syslog.severity.name"] = levels.SYSLOG_SEVERITY_NAMES[severity]
    doc["log.level"] = levels.from_syslog_severity(severity)


def _structured_data(sd: str, ids: correlation.Ids) -> dict[str, dict[str, str]]:
    data: dict[str, dict[str, str]] = {}
    for element in _SD_ELEMENT.finditer(sd):
        params = {
            name: _SD_UNESCAPE.sub(r"\1", value) for name, value in _SD_PARAM.findall(element.group("params"))
        }
        data[element.group("id")] = params
        # OpenTelemetry and others put trace context into structured data params.
        for name, value in params.items():
            slot = keys.ALIASES.get(name)
            if slot == "@trace" and ids.trace is None:
                ids.trace = value
            elif slot == "@span" and ids.span is None:
                ids.span = value
            elif slot == "@traceparent" and ids.traceparent is None:
                ids.traceparent = value
    return data


def _message(msg: str, doc: Doc, problems: list[str], ctx: ParseContext) -> tuple[bool, int | None]:
    """Set message; a JSON object message (common from containers and apps) adds its fields and time."""
    msg = msg.removeprefix("\ufeff")
    if msg.startswith("{") and msg.endswith("}"):
        try:
            obj: Any = orjson.loads(msg)
        except orjson.JSONDecodeError:
            obj = None
        if isinstance(obj, dict):
            level = doc.pop("log.level", None)
            ns = keys.apply(obj, doc, problems, ctx)
            if "log.level" not in doc and level is not None:
                doc["log.level"] = level
            if not doc["message"]:
                doc["message"] = msg
            return True, ns
    doc["message"] = msg
    return False, None


def from_text(line: str, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse decoded record text as syslog."""
    return line_or_text(parse_line, "syslog_unparsed", line, problems, ctx)


def parse_line(line: str, problems: list[str], ctx: ParseContext) -> Outcome | None:
    """Parse decoded record text as syslog; None when it is not syslog (for auto-detection to go on)."""
    doc = new_doc("syslog3164")
    rest = line
    pri = _PRI.match(line)
    if pri is not None and int(pri.group(1)) < 192:
        _pri(doc, int(pri.group(1)))
        rest = line[pri.end() :]
    ids = correlation.Ids()
    five = _RFC5424.match(rest) if pri is not None else None
    if five is not None:
        doc["logtrace.format"] = "syslog5424"
        doc["log.syslog.version"] = five.group("version")
        time, host, app, procid = five.group("time", "host", "app", "procid")
        if five.group("msgid") != _NIL:
            doc["log.syslog.msgid"] = five.group("msgid")
        if five.group("sd") != _NIL:
            doc["log.syslog.structured_data"] = _structured_data(five.group("sd"), ids)
        msg = five.group("msg") or ""
    else:
        three = _RFC3164.match(rest)
        if three is None:
            return None
        time, host, app, procid = three.group("time", "host", "tag", "pid")
        msg = three.group("msg")
        if pri is None:
            # No PRI, no severity: look for a level word like any text line.
            level = text.find_level(msg)
            if level is not None:
                keys.set_level(level[0], level[1], doc, problems)
    if host and host != _NIL and "host.name" not in doc:
        doc["host.name"] = host
    if app and app != _NIL:
        doc["log.syslog.appname"] = app
        doc["process.name"] = app
    if procid and procid.isdecimal() and len(procid) <= 18:
        doc["process.pid"] = int(procid)
    ns = None
    if time != _NIL:
        ns = timestamps.parse_value(time, ctx.default_tz, ctx.received_ns)
        if ns is None:
            problems.append("timestamp_unparsed")
    structured, inner_ns = _message(msg, doc, problems, ctx)
    if not structured:
        ids.fill(correlation.from_text(msg))
    correlation.write(ids, doc, problems)
    add_exception(doc)
    return [finish(doc, ns if ns is not None else inner_ns, problems, ctx, line)]
