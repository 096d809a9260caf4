"""HTTP access logs: Apache/Nginx common and combined, with optional request / upstream times after them.

Sample inputs: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326`,
`10.0.0.7 - - [03/Dec/2026:08:18:49 +0000] "POST /api HTTP/1.1" 502 157 "-" "curl/8.5.0" "-" 0.231 0.229`,
`... "curl/8.5.0" rt=0.231 uct="0.001" urt="0.229"` (nginx key=value timing variables).
"""

import re

from parsers import http, keys, timestamps
from parsers.context import ParseContext
from parsers.document import finish, line_or_text, new_doc, parse_record
from parsers.result import Doc, Outcome

# A quoted field with backslash escapes, written as an unrolled loop (much faster than an alternation).
_QUOTED = r'[^"\\]*(?:\\.[^"\\]*)*'
_LINE = re.compile(
    r"(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+|\"[^\"]*\") \[(?P<time>[^\]]+)\] "
    rf"\"(?P<request>{_QUOTED})\" (?P<status>\d{{3}}|-) (?P<bytes>\d{{1,18}}|-)"
    rf"(?: \"(?P<referrer>{_QUOTED})\" \"(?P<agent>{_QUOTED})\")?(?P<rest>.*)$"
)
_REST_TOKEN = re.compile(r"\s*(?:(?P<key>[\w\-]+)=)?(?:\"(?P<quoted>(?:[^\"\\]|\\.)*)\"|(?P<bare>\S+))")
_NUMBER = re.compile(r"\d+(?:\.\d+)?$")
# Keys nginx configs commonly use for $request_time and $upstream_response_time.
_REQUEST_TIME_KEYS = frozenset(("rt", "request_time", "reqtime", "rtime"))
_UPSTREAM_TIME_KEYS = frozenset(("urt", "upstream_response_time", "upstream_time", "uptime"))
_NIL = "-"


def parse(raw: bytes, ctx: ParseContext) -> Outcome:
    """Parse one record as an access log line (anything else becomes a flagged text document)."""
    return parse_record(raw, ctx, from_text)


def looks_like(line: str) -> bool:
    """Cheap sniff for auto-detection: the `] "` between time and request line early in the line."""
    return line.find('] "', 0, 200) > 0


def _seconds_sum(value: str) -> int | None:
    """ns of `0.120`, or the sum of nginx's upstream times `0.120, 0.050 : 0.010`; None if no number."""
    total, seen = 0, False
    for part in value.replace(":", ",").split(","):
        ns = http.seconds_to_ns(part.strip())
        if ns is not None:
            total, seen = total + ns, True
    return total if seen else None


def _timings(rest: str, doc: Doc, leftovers: dict[str, str]) -> None:
    """Request / upstream time after the combined fields: `key=value` pairs, or bare numbers in that order."""
    bare_times: list[str] = []
    for token in _REST_TOKEN.finditer(rest):
        key, value = token.group("key"), token.group("quoted") or token.group("bare") or ""
        if key in _REQUEST_TIME_KEYS:
            ns = _seconds_sum(value)
            if ns is not None:
                doc["event.duration"] = ns
                continue
        elif key in _UPSTREAM_TIME_KEYS:
            ns = _seconds_sum(value)
            if ns is not None:
                doc["http.upstream.duration"] = ns
                continue
        elif key is None and "." in value and _seconds_sum(value) is not None:
            # $request_time and $upstream_response_time always print a decimal point.
            bare_times.append(value)
            continue
        if value and value != _NIL:
            leftovers[key or f"field_{len(leftovers) + 1}"] = value
    if bare_times:
        doc.setdefault("event.duration", _seconds_sum(bare_times[0]))
    if len(bare_times) > 1:
        doc.setdefault("http.upstream.duration", _seconds_sum(bare_times[1]))


def _level(status: int) -> str:
    # Server errors are errors, client errors warnings: what an SRE filters on first.
    return "error" if status >= 500 else "warn" if status >= 400 else "info"


def from_text(line: str, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse decoded record text as an access log line."""
    return line_or_text(parse_line, "access_unparsed", line, problems, ctx)


def parse_line(line: str, problems: list[str], ctx: ParseContext) -> Outcome | None:
    """Parse decoded record text as an access log line; None when it is not one."""
    match = _LINE.match(line)
    if match is None:
        return None
    doc = new_doc("access", line)
    client, user, request, status, size = match.group("client", "user", "request", "status", "bytes")
    http.client(client, doc)
    if user != _NIL and user != '"-"':
        doc["user.name"] = user.strip('"')
    if not http.request_line(request, doc):
        problems.append("http_request_unparsed")
    if status != _NIL:
        doc["http.response.status_code"] = int(status)
        doc["log.level"] = _level(int(status))
    if size != _NIL:
        doc["http.response.body.bytes"] = int(size)
    referrer, agent = match.group("referrer", "agent")
    if referrer and referrer != _NIL:
        doc["http.request.referrer"] = referrer
    if agent and agent != _NIL:
        doc["user_agent.original"] = agent
    leftovers: dict[str, str] = {}
    if match.group("rest"):
        _timings(match.group("rest"), doc, leftovers)
    ns = timestamps.clf_to_ns(match.group("time"), ctx.default_tz, ctx.received_ns)
    if ns is None:
        problems.append("timestamp_unparsed")
    if leftovers:
        # Extra `key=value` variables (request ids, trace ids) map like any structured field.
        keys.apply(leftovers, doc, problems, ctx)
    return [finish(doc, ns, problems, ctx, line)]
