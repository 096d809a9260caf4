"""Timestamp layouts found in log lines and JSON values, turned into epoch nanoseconds.

Sample inputs: `2026-12-03 08:18:49,123`, `081109 203615`, `17/06/09 20:10:40`, `[Sun Dec 04 04:47:44 2005]`,
`10/Oct/2000:13:55:36 -0700`, `03-17 16:13:38.811` (year-less), `I1203 08:18:49.123456` (klog),
`1733213929123` (epoch millis). Year-less and date-less layouts are placed next to the receive time.
"""

import re
from datetime import datetime, timedelta, tzinfo
from typing import NamedTuple

from parsers.timefmt import NS_PER_S

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1
    )
}
_MONTH = r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]{0,6}\.?"
_FRAC = r"(?:[.,](?P<f>\d{1,9}))?"
_ZONE = r"(?P<z>\s?(?:Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)(?![\w:]))?"
_DAYS_BEFORE_MONTH = (0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_SECONDS_PER_DAY = 86_400
# Clock skew tolerated when placing a year-less time: a sender's clock may run ahead of ours.
_SKEW_NS = _SECONDS_PER_DAY * NS_PER_S

# One entry per layout family: (name, pattern). Group names are bare here (Y year, y2 two-digit year,
# M month number, mon month name, D day, h m s, f fraction, z zone, ap AM/PM, L klog level letter,
# E epoch) and get the layout name as prefix when compiled, since one regex holds all layouts.
_LAYOUTS: tuple[tuple[str, str], ...] = (
    # 2026-12-03T08:18:49.123+01:00, 2026-12-03 08:18:49,123, 2009/11/10 23:00:00, 2005-06-03-15.42.50.675872
    (
        "iso",
        r"(?P<Y>\d{4})(?P<sep>[-/.])(?P<M>\d\d?)(?P=sep)(?P<D>\d\d?)(?:T|\s{1,2}|-|_)"
        r"(?P<h>\d\d?)([:.])(?P<m>\d\d)\2(?P<s>\d\d)(?:[.,:](?P<f>\d{1,9}))?" + _ZONE,
    ),
    # 20261203T081849Z, 20171223-22:15:29:606 (basic ISO and its colon-separated cousins)
    (
        "compact",
        r"(?P<Y>\d{4})(?P<M>\d\d)(?P<D>\d\d)(?:T(?P<h>\d\d)(?P<m>\d\d)(?P<s>\d\d)"
        r"|[T-](?P<h2>\d\d):(?P<m2>\d\d):(?P<s2>\d\d))(?:[.,:](?P<f>\d{1,9}))?" + _ZONE,
    ),
    # [Sun Dec 04 04:47:44 2005] (Apache error log, ctime), Thu Jun 27 12:34:56.123456 UTC 2019
    (
        "ctime",
        r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? " + _MONTH + r" {1,2}(?P<D>\d\d?),? "
        r"(?P<h>\d\d?):(?P<m>\d\d):(?P<s>\d\d)"
        + _FRAC
        + r"(?: (?P<z>UTC|GMT|Z))?(?: [A-Z]{3,4})? (?P<Y>\d{4})",
    ),
    # 10/Oct/2000:13:55:36 -0700 (access logs), 03-Dec-2026 08:18:49.123 (Tomcat), 3 Dec 2026 08:18:49
    (
        "dmy",
        r"(?P<D>\d\d?)[-/ ]"
        + _MONTH
        + r"[-/ ](?P<Y>\d{4})[: ](?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)"
        + _FRAC
        + _ZONE,
    ),
    # Dec  3 08:18:49 (BSD syslog, year inferred), Dec 3, 2026 8:18:49 AM (java.util.logging)
    (
        "bsd",
        _MONTH
        + r" {1,2}(?P<D>\d\d?),? (?:(?P<Y>\d{4}) )?(?P<h>\d\d?):(?P<m>\d\d):(?P<s>\d\d)"
        + _FRAC
        + r"(?: ?(?P<ap>[AP]M))?(?: (?P<Y2>\d{4})(?!\d))?",
    ),
)

# Layouts too ambiguous to look for anywhere but the start of a line (after an optional `[` or `- `).
_START_LAYOUTS: tuple[tuple[str, str], ...] = (
    # 081109 203615 (HDFS: yyMMdd HHmmss)
    ("hdfs", r"(?P<y2>\d\d)(?P<M>\d\d)(?P<D>\d\d) (?P<h>\d\d)(?P<m>\d\d)(?P<s>\d\d)(?!\d)"),
    # 17/06/09 20:10:40 (Spark, Hadoop: yy/MM/dd HH:mm:ss)
    ("yymmdd", r"(?P<y2>\d\d)/(?P<M>\d\d)/(?P<D>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)" + _FRAC),
    # 03-17 16:13:38.811 (Android logcat threadtime: year inferred)
    ("logcat", r"(?P<M>\d\d)-(?P<D>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)" + _FRAC),
    # I1203 08:18:49.123456 (klog / glog: level letter, MMdd, time)
    ("klog", r"(?P<L>[IWEF])(?P<M>\d\d)(?P<D>\d\d) (?P<h>\d\d):(?P<m>\d\d):(?P<s>\d\d)" + _FRAC),
    # 1733213929, 1733213929.123, 1733213929123 (epoch seconds, millis, micros, nanos: 2001..2033)
    ("epoch", r"(?P<E>1\d{9}(?:\d{3}){0,3}(?:\.\d{1,9})?)(?![\d.])"),
    # 08:18:49.123, 8:18PM (time of day only: logback's HH:mm:ss.SSS, zerolog's Kitchen; date inferred)
    ("clock", r"(?P<h>\d\d?):(?P<m>\d\d)(?::(?P<s>\d\d)" + _FRAC + r")?(?: ?(?P<ap>[AP]M))?(?![\d:])"),
)

_FIELDS = ("Y", "y2", "M", "mon", "D", "h", "m", "s", "h2", "m2", "s2", "f", "z", "ap", "L", "E", "Y2")


def _prefixed(name: str, pattern: str) -> str:
    pattern = re.sub(r"\(\?P<(\w+)>", lambda m: f"(?P<{name}_{m.group(1)}>", pattern)
    pattern = re.sub(r"\(\?P=(\w+)\)", lambda m: f"(?P={name}_{m.group(1)})", pattern)
    # Unnamed back-references (\2 in iso) become named ones so numbering across layouts cannot clash.
    return pattern.replace(r"([:.])", f"(?P<{name}_tsep>[:.])").replace(r"\2", f"(?P={name}_tsep)")


def _compile(layouts: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    # The last alternative never matches: its group is the stand-in for fields a layout lacks.
    return re.compile(
        "|".join(f"(?P<{name}>{_prefixed(name, pattern)})" for name, pattern in layouts) + "|(?P<absent>(?!))"
    )


def _group_indices(regex: re.Pattern[str]) -> dict[str, tuple[int, ...]]:
    """Layout -> the group number of each field in _FIELDS order, so one `match.group(*indices)` call
    reads them all."""
    index = regex.groupindex
    return {
        name: tuple(index.get(f"{name}_{field}", index["absent"]) for field in _FIELDS)
        for name, _ in _START_LAYOUTS + _LAYOUTS
        if name in index
    }


_ANYWHERE = _compile(_LAYOUTS)
_AT_START = _compile(_START_LAYOUTS + _LAYOUTS)
_GROUPS = {id(regex): _group_indices(regex) for regex in (_ANYWHERE, _AT_START)}
# ISO 8601 at a line start, the most common text layout: taken by the C parser, without the alternation.
_ISO_PREFIX = re.compile(
    r"(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d{1,9})?)(\s?(?:Z|[+-]\d\d:?\d\d))?(?![\w:.]|\s?(?:UTC|GMT))"
)
_LEADER = re.compile(r"[\[(]|- ")
# How far into a line a timestamp is looked for (prefixes like `- 1117838570 2005.06.03 host` fit).
_SEARCH_CHARS = 80


class Found(NamedTuple):
    """A timestamp found in a line: epoch ns (None when its fields are impossible) and its span."""

    ns: int | None
    start: int
    end: int
    layout: str
    # The klog level letter, which the timestamp token carries.
    level_letter: str | None


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (fields must already be valid)."""
    leap = month > 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    y = year - 1
    return y * 365 + y // 4 - y // 100 + y // 400 + _DAYS_BEFORE_MONTH[month] + leap + day - 719_163


def _valid_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or day < 1:
        return False
    if month == 2:
        return day <= (29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28)
    return day <= (30 if month in (4, 6, 9, 11) else 31)


def zone_offset_s(zone: str) -> int | None:
    """Seconds east of UTC for `Z`, `UTC`, `GMT`, `+01:00`, `-0700`, `+05`; None when unknown."""
    zone = zone.strip()
    if zone in ("Z", "UTC", "GMT", "z"):
        return 0
    digits = zone[1:].replace(":", "")
    if zone[:1] not in "+-" or not digits.isdecimal() or len(digits) not in (2, 4):
        return None
    minutes = int(digits[:2]) * 60 + (int(digits[2:]) if len(digits) == 4 else 0)
    if minutes > 18 * 60:
        return None
    return -minutes * 60 if zone[0] == "-" else minutes * 60


def local_to_ns(
    year: int,
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    frac: str | None,
    offset_s: int | None,
    tz: tzinfo,
) -> int | None:
    """Epoch ns of wall-clock fields at `offset_s` east of UTC (or in `tz` when None); None if invalid."""
    if not _valid_date(year, month, day) or hour > 23 or minute > 59 or second > 60 or year < 1:
        return None
    if offset_s is None:
        # Leap second 60 is not a valid datetime field; the offset of :59 is the same.
        offset = tz.utcoffset(datetime(year, month, day, hour, minute, min(second, 59)))
        offset_s = int(offset.total_seconds()) if offset is not None else 0
    seconds = days_from_civil(year, month, day) * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second
    nanos = int(frac[:9].ljust(9, "0")) if frac else 0
    return (seconds - offset_s) * NS_PER_S + nanos


def epoch_text_to_ns(text: str) -> int | None:
    """Epoch ns of a decimal epoch (`1733213929`, `1733213929.5`, `1733213929123`): unit by magnitude."""
    whole, _, frac = text.partition(".")
    if not whole.isdecimal() or (frac and not frac.isdecimal()):
        return None
    # Seconds until year 5138, then millis, micros, nanos: no real log time is ambiguous across these.
    digits = len(whole.lstrip("0"))
    scale = 9 if digits <= 11 else 6 if digits <= 14 else 3 if digits <= 17 else 0
    value = int(whole) * 10**scale
    if frac and scale:
        value += int(frac[:scale].ljust(scale, "0"))
    return value


def _nearest(candidates: list[int | None], received_ns: int) -> int | None:
    valid = [ns for ns in candidates if ns is not None]
    return min(valid, key=lambda ns: abs(ns - received_ns)) if valid else None


def _infer_year(
    month: int,
    day: int,
    hour: int,
    minute: int,
    second: int,
    frac: str | None,
    offset: int | None,
    tz: tzinfo,
    received_ns: int,
) -> int | None:
    """The latest year that does not put the time after the receive time (give or take a day of clock
    skew), so a `Dec 31` line received on Jan 1 lands in the previous year; Feb 29 looks back to a
    leap year."""
    received_year = datetime.fromtimestamp(received_ns // NS_PER_S, tz).year
    for year in range(received_year + 1, received_year - 8, -1):
        ns = local_to_ns(year, month, day, hour, minute, second, frac, offset, tz)
        if ns is not None and ns <= received_ns + _SKEW_NS:
            return ns
    return None


def _hour24(hour: int, ampm: str | None) -> int:
    if ampm is None:
        return hour
    return hour % 12 + (12 if ampm == "PM" else 0)


def _from_match(match: re.Match[str], tz: tzinfo, received_ns: int) -> int | None:
    fields = match.group(*_GROUPS[id(match.re)][match.lastgroup or ""])
    year, y2, month, mon, day, hour, minute, second, h2, m2, s2, frac, zone, ampm, _, epoch, year2 = fields
    if epoch is not None:
        return epoch_text_to_ns(epoch)
    offset = zone_offset_s(zone) if zone else None
    hh, mm, ss = (hour, minute, second) if hour is not None else (h2, m2, s2)
    h, mi, s = _hour24(int(hh), ampm), int(mm), int(ss) if ss else 0
    if day is None:
        # Time of day only: the day closest to the receive time.
        base = datetime.fromtimestamp(received_ns // NS_PER_S, tz)
        days = (base + timedelta(days=delta) for delta in (-1, 0, 1))
        return _nearest(
            [local_to_ns(d.year, d.month, d.day, h, mi, s, frac, offset, tz) for d in days], received_ns
        )
    mo = _MONTHS[mon[:3]] if mon else int(month)
    d = int(day)
    year = year or year2
    if year is not None:
        return local_to_ns(int(year), mo, d, h, mi, s, frac, offset, tz)
    if y2 is not None:
        # Two-digit years: 69..99 are 1900s (POSIX strptime's pivot), the rest 2000s.
        yy = int(y2)
        return local_to_ns(yy + (1900 if yy >= 69 else 2000), mo, d, h, mi, s, frac, offset, tz)
    # Year-less: BSD syslog, logcat, klog.
    return _infer_year(mo, d, h, mi, s, frac, offset, tz, received_ns)


def find_in_line(line: str, tz: tzinfo, received_ns: int) -> Found | None:
    """The first timestamp near the start of `line` (any known layout), or None."""
    start = 0
    leader = _LEADER.match(line)
    if leader is not None:
        start = leader.end()
    iso = _ISO_PREFIX.match(line, start)
    if iso is not None:
        base, zone = iso.groups()
        ns = _iso_to_ns(base if zone is None else base + zone.lstrip(), tz)
        if ns is not None:
            return Found(ns, start, iso.end(), "iso", None)
    match = _AT_START.match(line, start)
    if match is None:
        match = _ANYWHERE.search(line, 0, _SEARCH_CHARS)
        if match is None:
            return None
    layout = match.lastgroup or ""
    letter = match.group("klog_L") if layout == "klog" else None
    return Found(_from_match(match, tz, received_ns), match.start(), match.end(), layout, letter)


def _iso_to_ns(text: str, tz: tzinfo) -> int | None:
    """RFC 3339 / ISO 8601 date-times, the layout of nearly every structured log, by the C parser."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    # Exact: timestamp() is whole microseconds over 1e6, far below 2**53 for plausible years.
    ns = round(moment.timestamp() * 1_000_000) * 1_000
    # fromisoformat keeps microseconds; nanosecond digits (Docker, CRI, OTel) are read here.
    if len(text) > 26 and text[19:20] in (".", ",") and text[20:27].isdecimal():
        end = 27
        while end < 29 and text[end : end + 1].isdecimal():
            end += 1
        ns += int(text[26:end].ljust(3, "0"))
    return ns


def clf_to_ns(text: str, tz: tzinfo, received_ns: int) -> int | None:
    """Epoch ns of an access log time `10/Oct/2000:13:55:36 -0700` (read by position: it is fixed-width)."""
    month = _MONTHS.get(text[3:6])
    if len(text) == 26 and month is not None and text[2] == "/" and text[6] == "/" and text[11] == ":":
        digits = text[:2] + text[7:11] + text[12:14] + text[15:17] + text[18:20]
        if digits.isdecimal():
            return local_to_ns(
                int(text[7:11]),
                month,
                int(text[:2]),
                int(text[12:14]),
                int(text[15:17]),
                int(text[18:20]),
                None,
                zone_offset_s(text[21:]),
                tz,
            )
    return parse_value(text, tz, received_ns)


def parse_value(value: object, tz: tzinfo, received_ns: int) -> int | None:
    """Epoch ns of a timestamp value from a structured event (string in any layout, or epoch number)."""
    if type(value) is str:
        return _text_to_ns(value, tz, received_ns)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return epoch_text_to_ns(str(value))
    if isinstance(value, float):
        # repr keeps exactly the digits that were written; float arithmetic would lose nanoseconds.
        return epoch_text_to_ns(repr(value)) if value >= 0 and "e" not in repr(value) else None
    if not isinstance(value, str):
        return None
    return _text_to_ns(value, tz, received_ns)


def _text_to_ns(value: str, tz: tzinfo, received_ns: int) -> int | None:
    text = value.strip()
    if text[:1].isdecimal():
        if text[4:5] == "-" and text[10:11] in ("T", " "):
            ns = _iso_to_ns(text, tz)
            if ns is not None:
                return ns
        elif text.replace(".", "", 1).isdecimal():
            return epoch_text_to_ns(text)
    match = _AT_START.match(text)
    if match is None:
        return None
    return _from_match(match, tz, received_ns)
