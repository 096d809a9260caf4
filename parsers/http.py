"""HTTP pieces shared by access logs and structured events: the request line and client addresses.

Sample inputs: `GET /api/orders?id=7 HTTP/1.1`, `10.1.2.3`, `2001:db8::1`, `0.123` (request time, seconds).
"""

import re

from parsers.result import Doc
from parsers.timefmt import NS_PER_S

_REQUEST_LINE = re.compile(
    r"(?P<method>[A-Z][A-Z_\-]{1,19}) (?P<url>\S+)(?: HTTP/(?P<version>\d(?:\.\d)?))?$"
)
_IPV4 = re.compile(r"(?:\d{1,3}\.){3}\d{1,3}$")
_IPV6 = re.compile(r"[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+$")


def request_line(line: str, doc: Doc) -> bool:
    """Set method, url.* and http.version from `GET /p?q HTTP/1.1`; False when it is not one."""
    match = _REQUEST_LINE.match(line)
    if match is None:
        return False
    doc["http.request.method"] = match.group("method")
    url = match.group("url")
    doc["url.original"] = url
    path, question, query = url.partition("?")
    doc["url.path"] = path
    if question and query:
        doc["url.query"] = query
    version = match.group("version")
    if version is not None:
        doc["http.version"] = version
    return True


def is_ip(text: str) -> bool:
    """True for an IPv4 or IPv6 literal (cheap shape check; the `ip` mapping ignores the odd miss)."""
    return _IPV4.match(text) is not None or (":" in text and _IPV6.match(text) is not None)


def client(address: str, doc: Doc) -> None:
    """Set source.address, and source.ip when the address is an IP literal."""
    doc["source.address"] = address
    if is_ip(address):
        doc["source.ip"] = address


def seconds_to_ns(text: str) -> int | None:
    """Nanoseconds of a duration written in seconds (`0.123`, `2`), or None when it is not a number."""
    whole, _, frac = text.partition(".")
    # More than 9 digits of seconds (31 years) is no request duration.
    if not whole.isdecimal() or len(whole) > 9 or (frac and not frac.isdecimal()):
        return None
    return int(whole) * NS_PER_S + (int(frac[:9].ljust(9, "0")) if frac else 0)
