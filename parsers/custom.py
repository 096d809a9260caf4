"""Per-topic custom patterns: named-group regular expressions or grok-style patterns, tried before the
topic's format, for layouts the detector does not know.

Sample patterns: `(?P<timestamp>\\S+ \\S+) \\| (?P<level>\\w+) \\| (?P<message>.*)` (regex; `__` in a
group name stands for a dot: `(?P<source__ip>...)`),
`%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}` (grok).
Group names are mapped like JSON keys: common spellings, declared fields, the rest under `attributes`.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from parsers import correlation, keys
from parsers.context import ParseContext
from parsers.document import add_exception, decode, finish, new_doc
from parsers.raw import Parser, TextParser
from parsers.result import Outcome, ParseError

# A small grok library (names and meanings as in Logstash's core patterns).
GROK: dict[str, str] = {
    "WORD": r"\b\w+\b",
    "NOTSPACE": r"\S+",
    "SPACE": r"\s*",
    "DATA": r".*?",
    "GREEDYDATA": r".*",
    "INT": r"[+-]?\d+",
    "POSINT": r"\b[1-9]\d*\b",
    "NONNEGINT": r"\b\d+\b",
    "NUMBER": r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)",
    "BASE16NUM": r"(?:0[xX])?[0-9A-Fa-f]+",
    "QUOTEDSTRING": r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'",
    "QS": r"%{QUOTEDSTRING}",
    "UUID": r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    "USERNAME": r"[a-zA-Z0-9._-]+",
    "USER": r"%{USERNAME}",
    "IPV4": r"(?:\d{1,3}\.){3}\d{1,3}",
    "IPV6": r"[0-9A-Fa-f]*:[0-9A-Fa-f:.]+",
    "IP": r"(?:%{IPV4}|%{IPV6})",
    "HOSTNAME": r"\b[0-9A-Za-z][0-9A-Za-z-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z-]{0,62})*\.?",
    "IPORHOST": r"(?:%{IP}|%{HOSTNAME})",
    "HOSTPORT": r"%{IPORHOST}:%{POSINT}",
    "PATH": r"(?:/[^\s]*)+",
    "URIPATHPARAM": r"/[^\s?#]*(?:\?[^\s#]*)?",
    "URI": r"[A-Za-z][A-Za-z0-9+\-.]*://\S+",
    "JAVACLASS": r"(?:[a-zA-Z$_][a-zA-Z$_0-9]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*",
    "LOGLEVEL": (
        r"(?:[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?|[Ww]arn(?:ing)?"
        r"|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE"
        r"|[Aa]lert|ALERT|[Ee]merg(?:ency)?|EMERG(?:ENCY)?)"
    ),
    "MONTH": r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b",
    "MONTHNUM": r"(?:0?[1-9]|1[0-2])",
    "MONTHDAY": r"(?:0[1-9]|[12]\d|3[01]|[1-9])",
    "YEAR": r"\d{2,4}",
    "HOUR": r"(?:2[0123]|[01]?\d)",
    "MINUTE": r"[0-5]\d",
    "SECOND": r"(?:[0-5]?\d|60)(?:[.,]\d+)?",
    "TIME": r"%{HOUR}:%{MINUTE}(?::%{SECOND})?",
    "ISO8601_TIMEZONE": r"(?:Z|[+-]%{HOUR}(?::?%{MINUTE})?)",
    "TIMESTAMP_ISO8601": r"\d{4}-\d\d-\d\d[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?%{ISO8601_TIMEZONE}?",
    "HTTPDATE": r"%{MONTHDAY}/%{MONTH}/\d{4}:%{TIME} [+-]\d{4}",
    "SYSLOGTIMESTAMP": r"%{MONTH} +%{MONTHDAY} %{TIME}",
}
_REFERENCE = re.compile(r"%\{(?P<name>\w+)(?::(?P<field>[\w.@\-]+))?(?::(?P<type>int|float))?\}")
# Oniguruma / PCRE named groups `(?<name>...)`, as Logstash patterns write them.
_PCRE_GROUP = re.compile(r"\(\?<(?![=!])(\w+)>")
_MAX_NESTING = 16
_CONVERT: dict[str, Callable[[str], Any]] = {"int": int, "float": float}


@dataclass(frozen=True, slots=True)
class CustomPattern:
    """One compiled pattern: its configured name, regex, group -> field name, and group -> type."""

    name: str
    regex: re.Pattern[str]
    fields: dict[str, str]
    types: dict[str, str]


def _expand(
    source: str, definitions: Mapping[str, str], fields: dict[str, str], types: dict[str, str]
) -> str:
    """Replace `%{NAME[:field[:type]]}` references until none is left."""

    def replace(match: re.Match[str]) -> str:
        name, field, kind = match.group("name", "field", "type")
        if name not in definitions:
            raise ValueError(f"unknown grok pattern %{{{name}}}")
        body = definitions[name]
        if field is None:
            return f"(?:{body})"
        group = f"g{len(fields)}"
        fields[group] = field
        if kind is not None:
            types[group] = kind
        return f"(?P<{group}>{body})"

    for _ in range(_MAX_NESTING):
        expanded = _REFERENCE.sub(replace, source)
        if expanded == source:
            return expanded
        source = expanded
    raise ValueError(f"grok references nest deeper than {_MAX_NESTING} levels")


def compile_patterns(
    patterns: Mapping[str, str] | Iterable[tuple[str, str]], definitions: Mapping[str, str] | None = None
) -> tuple[CustomPattern, ...]:
    """Compile configured patterns (name -> regex or grok), in order; a ValueError names one that fails."""
    library = {**GROK, **(definitions or {})}
    compiled = []
    for name, source in patterns.items() if isinstance(patterns, Mapping) else patterns:
        fields: dict[str, str] = {}
        types: dict[str, str] = {}
        try:
            expanded = _expand(_PCRE_GROUP.sub(r"(?P<\1>", source), library, fields, types)
            regex = re.compile(expanded)
        except (re.error, ValueError, RecursionError) as err:
            raise ValueError(f"custom pattern {name!r} does not compile: {err}") from err
        for group in regex.groupindex:
            fields.setdefault(group, group.replace("__", "."))
        if not fields:
            raise ValueError(f"custom pattern {name!r} has no named group, so it would extract nothing")
        compiled.append(CustomPattern(name, regex, fields, types))
    return tuple(compiled)


def _values(pattern: CustomPattern, match: re.Match[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for group, value in match.groupdict().items():
        if value is None or group not in pattern.fields:
            continue
        kind = pattern.types.get(group)
        if kind is not None:
            # A value the type does not fit (`%{DATA:n:int}` on "abc") stays text.
            with suppress(ValueError):
                value = _CONVERT[kind](value)
        values.setdefault(pattern.fields[group], value)
    return values


def parse_line(
    patterns: tuple[CustomPattern, ...], line: str, problems: list[str], ctx: ParseContext
) -> Outcome | None:
    """The document of the first pattern that matches the first line, or None when none does."""
    first = line.partition("\n")[0]
    for pattern in patterns:
        match = pattern.regex.match(first)
        if match is None:
            continue
        doc = new_doc("custom")
        doc["logtrace.pattern"] = pattern.name
        ns = keys.apply(_values(pattern, match), doc, problems, ctx)
        if not doc["message"]:
            doc["message"] = line
        elif "\n" in line:
            doc["message"] += line[len(first) :]
        if "trace.id" not in doc and "logtrace.raw_trace_id" not in doc:
            correlation.write(correlation.from_text(line), doc, problems)
        add_exception(doc)
        return [finish(doc, ns, problems, ctx, line)]
    return None


def with_patterns(patterns: tuple[CustomPattern, ...], fallback: TextParser) -> Parser:
    """A parser trying `patterns` first, then `fallback` (a format's `from_text`) for lines none matches."""

    def parse(raw: bytes, ctx: ParseContext) -> Outcome:
        decoded = decode(raw, ctx)
        if isinstance(decoded, ParseError):
            return [decoded]
        line, problems = decoded
        return parse_line(patterns, line, problems, ctx) or fallback(line, problems, ctx)

    return parse
