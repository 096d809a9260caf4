"""The raw log formats by name, as configuration and `logtrace parse --format` spell them.

`RAW_FORMATS` entries have the one parser signature `parse(raw: bytes, ctx: ParseContext) -> Outcome`;
`TEXT_FORMATS` are the same parsers after decoding, for composing (custom patterns fall back to them).
"""

from collections.abc import Callable

from parsers import access, detect, json_log, logfmt, syslog, text
from parsers.context import ParseContext
from parsers.result import Outcome

Parser = Callable[[bytes, ParseContext], Outcome]
TextParser = Callable[[str, list[str], ParseContext], Outcome]

RAW_FORMATS: dict[str, Parser] = {
    "auto": detect.parse_auto,
    "json": json_log.parse,
    "logfmt": logfmt.parse,
    "syslog": syslog.parse,
    "access": access.parse,
    "text": text.parse,
}
TEXT_FORMATS: dict[str, TextParser] = {
    "auto": detect.from_text,
    "json": json_log.from_text,
    "logfmt": logfmt.from_text,
    "syslog": syslog.from_text,
    "access": access.from_text,
    "text": text.from_text,
}
