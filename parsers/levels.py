"""Log levels: every spelling runtimes write, normalized to trace, debug, info, warn, error, fatal.

Sample inputs: `WARNING` (Python), `SEVERE` (java.util.logging), `Information` (Serilog), `E` (logcat),
`ERRO` (logrus text), `INF` (zerolog console), `50` (pino/bunyan), `crit` (syslog), `fail` (.NET console).
"""

import re

_SPELLINGS: dict[str, tuple[str, ...]] = {
    "trace": ("trace", "trc", "trac", "trce", "finest", "finer", "verbose", "vrb", "v", "t", "all"),
    "debug": ("debug", "dbg", "debu", "dbug", "fine", "config", "d", "debug1", "debug2", "debug3"),
    "info": ("info", "inf", "information", "informational", "notice", "note", "i", "log"),
    "warn": ("warn", "warning", "wrn", "w"),
    "error": ("error", "err", "erro", "eror", "severe", "fail", "failure", "e"),
    "fatal": (
        "fatal",
        "ftl",
        "fata",
        "critical",
        "crit",
        "alert",
        "emerg",
        "emergency",
        "panic",
        "pnc",
        "pani",
        "dpanic",
        "f",
        "a",
    ),
}
_BY_SPELLING = {spelling: level for level, spellings in _SPELLINGS.items() for spelling in spellings}
# Apache httpd 2.4 writes trace1..trace8.
_BY_SPELLING.update({f"trace{n}": "trace" for n in range(1, 9)})
# The spellings as commonly cased, so most values are found without lower().
_AS_WRITTEN = {
    variant: level
    for spelling, level in _BY_SPELLING.items()
    for variant in (spelling, spelling.upper(), spelling.title())
}

# RFC 5424 severities 0..7: emerg, alert, crit, err, warning, notice, info, debug.
_SYSLOG = ("fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug")
SYSLOG_SEVERITY_NAMES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

# Level words as they stand in a text line: upper- or title-case words, or lower-case ones in brackets
# (`[error]`, Apache 2.4's `[core:error]`), so that "more info" inside a message is not a level.
_UPPER = (
    "TRACE|FINEST|FINER|FINE|VERBOSE|DEBUG|CONFIG|INFO|NOTICE|WARNING|WARN|ERROR|SEVERE|FATAL|CRITICAL|"
    "CRIT|ALERT|EMERG|PANIC|DPANIC|TRC|DBG|INF|WRN|ERR|FTL|PNC|TRAC|DEBU|ERRO|FATA|PANI"
)
_TITLE = "Trace|Verbose|Debug|Info|Information|Notice|Warning|Warn|Error|Severe|Fatal|Critical"
_BRACKETED = "trace[1-8]?|debug|info|notice|warn|warning|error|err|crit|critical|alert|emerg|fatal"
LEVEL_IN_TEXT = re.compile(
    rf"\[(?:[\w.]+:)?(?P<b>{_BRACKETED})\]"
    rf"|(?<![\w.\-/=])(?P<w>{_UPPER}|{_TITLE})(?![\w\-/=.]|\.\w)"
)
# .NET console and Python's default format put a lower-case or upper-case level first: `fail: `, `INFO:`.
LEVEL_AT_START = re.compile(r"(?P<w>trce|dbug|info|warn|fail|crit|debug|error|warning)(?=:\s)")


def normalize(value: object) -> str | None:
    """The normalized level of a level value (word, letter or pino/bunyan number), or None if unknown."""
    if isinstance(value, str):
        level = _AS_WRITTEN.get(value)
        if level is not None:
            return level
        text = value.strip()
        level = _BY_SPELLING.get(text.lower())
        if level is not None:
            return level
        if text.isdecimal():
            return from_number(int(text))
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return from_number(value)
    return None


def from_number(number: int) -> str | None:
    """pino / bunyan numeric levels (10 trace .. 60 fatal); None for small numbers whose scheme is unknown."""
    if number < 10:
        return None
    for bound, level in ((10, "trace"), (20, "debug"), (30, "info"), (40, "warn"), (50, "error")):
        if number <= bound:
            return level
    return "fatal"


def from_syslog_severity(severity: int) -> str:
    """The normalized level of a syslog severity 0..7."""
    return _SYSLOG[severity]
