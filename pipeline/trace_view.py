"""One trace as a terminal waterfall: span and log documents in, a display model and its rendering out.

Pure (no Elasticsearch): `build()` turns the documents `pipeline.trace_query` fetched into a `Waterfall`
whose rows are in display order — spans nested under their parent by `parent.id`, and under each span its
child spans and its log lines (matched by `span.id`) merged by time. Spans whose parent is not in the trace
(lost, sampled out, still in flight) and logs whose span is unknown stay at the top level, also by time.
`render()` draws the rows with a time axis; `to_json()` is the same model for machines.
"""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.text import Text

from parsers.timefmt import NS_PER_S, ns_to_iso

Doc = dict[str, Any]

_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?$")
_ERROR_LEVELS = frozenset({"error", "fatal"})
# Service colours, assigned in order of first appearance; errors are always red.
_PALETTE = ("cyan", "green", "magenta", "yellow", "blue", "bright_cyan", "bright_green", "bright_magenta")
_LABEL_MAX = 48
_SERVICE_MAX = 18
_BAR_MIN = 20


def parse_time_ns(value: object) -> int | None:
    """Epoch nanoseconds of an ISO 8601 string (up to 9 fractional digits) or epoch milliseconds."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value * 1_000_000)
    if not isinstance(value, str):
        return None
    match = _ISO.match(value.strip())
    if match is None:
        return None
    seconds_part, fraction, zone = match.groups()
    moment = datetime.fromisoformat(seconds_part + (zone or "Z").replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp()) * NS_PER_S + int((fraction or "0").ljust(9, "0"))


def format_duration(ns: int) -> str:
    """A short human duration: `850 ns`, `12.3 µs`, `412.5 ms`, `2.04 s`, `3m 05s`."""
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.1f} µs"
    if ns < NS_PER_S:
        return f"{ns / 1_000_000:.1f} ms"
    if ns < 60 * NS_PER_S:
        return f"{ns / NS_PER_S:.2f} s"
    minutes, seconds = divmod(ns // NS_PER_S, 60)
    return f"{minutes}m {seconds:02d}s"


@dataclass(slots=True)
class LogLine:
    """One log document of the trace."""

    time_ns: int
    level: str
    message: str
    service: str
    span_id: str | None
    doc: Doc

    @property
    def is_error(self) -> bool:
        return self.level in _ERROR_LEVELS


@dataclass(slots=True)
class SpanNode:
    """One span document of the trace, with what nests under it."""

    span_id: str
    parent_id: str | None
    name: str
    service: str
    kind: str
    start_ns: int
    duration_ns: int
    error: bool
    error_text: str
    doc: Doc
    children: list["SpanNode"] = field(default_factory=list)
    logs: list[LogLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Row:
    """One display line: a span or a log, its nesting depth, its tree prefix (`│  ├─ `) and the prefix
    of the lines below it (`│  │  `)."""

    item: SpanNode | LogLine
    depth: int
    prefix: str
    inner: str


@dataclass(slots=True)
class Waterfall:
    """The display model of one trace."""

    trace_id: str
    start_ns: int
    end_ns: int
    rows: list[Row]
    spans: list[SpanNode]
    logs: list[LogLine]
    summary: Doc | None
    # Parent span ids referenced by spans of this trace but absent from it.
    missing_parents: list[str]

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def services(self) -> list[str]:
        """Services in order of first appearance in the rows."""
        seen: dict[str, None] = {}
        for row in self.rows:
            if row.item.service:
                seen.setdefault(row.item.service, None)
        return list(seen)

    @property
    def error_count(self) -> int:
        return sum(1 for span in self.spans if span.error) + sum(1 for log in self.logs if log.is_error)


def _text(doc: Doc, key: str) -> str:
    value = doc.get(key)
    return "" if value is None else str(value)


def _span(doc: Doc) -> SpanNode | None:
    """A SpanNode from a span document, or None without a span id or a start time."""
    span_id = _text(doc, "span.id")
    start = parse_time_ns(doc.get("event.start")) or parse_time_ns(doc.get("@timestamp"))
    if not span_id or start is None:
        return None
    duration = doc.get("event.duration")
    if not isinstance(duration, int) or isinstance(duration, bool):
        end = parse_time_ns(doc.get("event.end"))
        duration = end - start if end is not None else 0
    error_type, error_message = _text(doc, "error.type"), _text(doc, "error.message")
    status_message = _text(doc, "span.status.message")
    error = (
        doc.get("event.outcome") == "failure" or doc.get("span.status.code") == "error" or bool(error_type)
    )
    return SpanNode(
        span_id=span_id,
        parent_id=_text(doc, "parent.id") or None,
        name=_text(doc, "span.name") or "(unnamed span)",
        service=_text(doc, "service.name"),
        kind=_text(doc, "span.kind"),
        start_ns=start,
        duration_ns=max(duration, 0),
        error=error,
        error_text=": ".join(part for part in (error_type, error_message or status_message) if part),
        doc=doc,
    )


def _log(doc: Doc) -> LogLine | None:
    time_ns = parse_time_ns(doc.get("@timestamp"))
    if time_ns is None:
        return None
    return LogLine(
        time_ns=time_ns,
        level=_text(doc, "log.level") or "-",
        message=_text(doc, "message") or _text(doc, "error.message"),
        service=_text(doc, "service.name"),
        span_id=_text(doc, "span.id") or None,
        doc=doc,
    )


def _time_of(item: SpanNode | LogLine) -> tuple[int, int]:
    # At the same instant a span comes before a log, so a span's first log reads under it.
    return (item.start_ns, 0) if isinstance(item, SpanNode) else (item.time_ns, 1)


def _flatten(items: list[SpanNode | LogLine], depth: int, prefix: str, out: list[Row]) -> None:
    """Append `items` (already time-ordered) and everything under them to `out`, depth first."""
    for index, item in enumerate(items):
        last = index == len(items) - 1
        connector = "" if depth == 0 else ("└─ " if last else "├─ ")
        inner = prefix + ("" if depth == 0 else ("   " if last else "│  "))
        out.append(Row(item, depth, prefix + connector, inner))
        if isinstance(item, SpanNode):
            _flatten(sorted([*item.children, *item.logs], key=_time_of), depth + 1, inner, out)


def build(trace_id: str, spans: list[Doc], logs: list[Doc], summary: Doc | None = None) -> Waterfall:
    """The waterfall of one trace from its span and log documents (any order; repeated span ids dropped)."""
    nodes: dict[str, SpanNode] = {}
    for doc in spans:
        node = _span(doc)
        if node is not None and node.span_id not in nodes:
            nodes[node.span_id] = node
    lines = sorted((line for line in map(_log, logs) if line is not None), key=lambda line: line.time_ns)

    top: list[SpanNode | LogLine] = []
    missing: dict[str, None] = {}
    for node in nodes.values():
        parent = nodes.get(node.parent_id) if node.parent_id else None
        if parent is None or _is_ancestor(node, parent, nodes):
            if node.parent_id and node.parent_id not in nodes:
                missing.setdefault(node.parent_id, None)
            top.append(node)
        else:
            parent.children.append(node)
    for line in lines:
        owner = nodes.get(line.span_id) if line.span_id else None
        (owner.logs if owner is not None else top).append(line)

    rows: list[Row] = []
    _flatten(sorted(top, key=_time_of), 0, "", rows)
    times = [node.start_ns for node in nodes.values()] + [line.time_ns for line in lines]
    ends = [node.start_ns + node.duration_ns for node in nodes.values()] + [line.time_ns for line in lines]
    start = min(times, default=0)
    return Waterfall(
        trace_id=trace_id,
        start_ns=start,
        end_ns=max(ends, default=start),
        rows=rows,
        spans=[row.item for row in rows if isinstance(row.item, SpanNode)],
        logs=lines,
        summary=summary,
        missing_parents=list(missing),
    )


def _is_ancestor(node: SpanNode, candidate: SpanNode, nodes: dict[str, SpanNode]) -> bool:
    """True when `node` is among `candidate`'s ancestors: a parent cycle, broken by making `node` a root."""
    seen = {candidate.span_id}
    current: SpanNode | None = candidate
    while current is not None and current.parent_id:
        if current.parent_id == node.span_id:
            return True
        if current.parent_id in seen:
            return False
        seen.add(current.parent_id)
        current = nodes.get(current.parent_id)
    return False


def _log_json(line: LogLine, start_ns: int) -> dict[str, Any]:
    return {
        "time": ns_to_iso(line.time_ns),
        "offset_ns": line.time_ns - start_ns,
        "level": line.level,
        "service": line.service,
        "span_id": line.span_id,
        "message": line.message,
    }


def _span_json(span: SpanNode, depth: int, start_ns: int) -> dict[str, Any]:
    return {
        "span_id": span.span_id,
        "parent_id": span.parent_id,
        "depth": depth,
        "name": span.name,
        "service": span.service,
        "kind": span.kind,
        "start": ns_to_iso(span.start_ns),
        "offset_ns": span.start_ns - start_ns,
        "duration_ns": span.duration_ns,
        "error": span.error,
        "error_text": span.error_text or None,
        "logs": [_log_json(line, start_ns) for line in span.logs],
    }


def to_json(waterfall: Waterfall, discover_url: str | None = None) -> dict[str, Any]:
    """The model for machines: spans in display order with depth and their logs, plus unattached logs."""
    spans, unattached = [], []
    for row in waterfall.rows:
        if isinstance(row.item, SpanNode):
            spans.append(_span_json(row.item, row.depth, waterfall.start_ns))
        elif row.depth == 0:
            unattached.append(_log_json(row.item, waterfall.start_ns))
    return {
        "trace_id": waterfall.trace_id,
        "start": ns_to_iso(waterfall.start_ns) if waterfall.rows else None,
        "duration_ns": waterfall.duration_ns,
        "services": waterfall.services,
        "errors": waterfall.error_count,
        "spans": spans,
        "unattached_logs": unattached,
        "missing_parents": waterfall.missing_parents,
        "summary": waterfall.summary,
        "discover_url": discover_url,
    }


def _summary_counts(summary: Doc | None) -> tuple[int, int] | None:
    """(spans, logs) the correlator counted for the trace, when there is a summary saying so."""
    if summary is None:
        return None
    spans, logs = summary.get("trace.summary.span_count"), summary.get("trace.summary.log_count")
    return (spans, logs) if isinstance(spans, int) and isinstance(logs, int) else None


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _row_label(row: Row) -> str:
    item = row.item
    if isinstance(item, SpanNode):
        return item.name
    first_line = item.message.splitlines()[0] if item.message else ""
    return f"· {item.level.upper():<5} {first_line}"


class _Painter:
    """Lays out the columns for one console width and draws each line of a waterfall."""

    DURATION = 9
    GAPS = 6

    def __init__(self, waterfall: Waterfall, width: int) -> None:
        self.waterfall = waterfall
        self.width = width
        widest = max((len(row.prefix) + len(_row_label(row)) for row in waterfall.rows), default=0)
        self.label = min(max(widest, 10), _LABEL_MAX)
        self.service = min(max((len(span.service) for span in waterfall.spans), default=7), _SERVICE_MAX)
        # Two cells after the bars for the ✖ of failed spans.
        self.bar = max(width - self.label - self.service - self.DURATION - self.GAPS - 2, _BAR_MIN)
        self.colours = {name: _PALETTE[i % len(_PALETTE)] for i, name in enumerate(waterfall.services)}

    def column(self, ns: int) -> int:
        """Bar column of an instant."""
        total = max(self.waterfall.duration_ns, 1)
        return min(int((ns - self.waterfall.start_ns) * self.bar / total), self.bar - 1)

    def header(self) -> list[Text]:
        waterfall = self.waterfall
        first = waterfall.spans[0] if waterfall.spans else None
        root = f"{first.name} ({first.service})" if first is not None else "no spans"
        start = ns_to_iso(waterfall.start_ns).replace("T", " ")[:23] + " UTC"
        counts = (
            f"{len(waterfall.spans)} spans · {len(waterfall.logs)} logs · "
            f"{len(waterfall.services)} services · {waterfall.error_count} errors"
        )
        lines = [
            Text.assemble(("trace ", "bold"), (waterfall.trace_id, "bold cyan")),
            Text(f"{root} · started {start} · {format_duration(waterfall.duration_ns)} · {counts}"),
        ]
        if waterfall.missing_parents:
            missing = ", ".join(waterfall.missing_parents)
            lines.append(Text(f"parent spans not in the trace: {missing}", style="yellow"))
        counted = _summary_counts(waterfall.summary)
        if counted is not None and counted != (len(waterfall.spans), len(waterfall.logs)):
            lines.append(Text(f"the trace summary counted {counted[0]} spans and {counted[1]} logs when the "
                              "trace closed (expired, dead-lettered or late documents make the difference)",
                              style="yellow"))
        return lines

    def axis(self) -> Text:
        """`0 ... half ... total` over the bar column."""
        total = self.waterfall.duration_ns
        left, middle, right = "0", format_duration(total // 2), format_duration(total)
        gap = max(self.bar - len(left) - len(middle) - len(right), 2)
        axis = left + " " * (gap // 2) + middle + " " * (gap - gap // 2) + right
        lead = self.label + self.service + self.DURATION + self.GAPS
        return Text(" " * lead + axis[: self.bar], style="dim")

    def _columns(self, row: Row, service: str, duration: str, style: str, service_style: str) -> Text:
        line = Text(_fit(row.prefix + _row_label(row), self.label).ljust(self.label), style=style)
        line.append("  " + _fit(service, self.service).ljust(self.service), style=service_style)
        dim = isinstance(row.item, LogLine)
        line.append("  " + duration.rjust(self.DURATION), style="dim" if dim else "")
        line.append("  ")
        return line

    def span(self, row: Row, span: SpanNode) -> list[Text]:
        """The span's line (its bar on the axis, ✖ when it failed), then its error on a line of its own."""
        colour = self.colours.get(span.service, "white")
        line = self._columns(row, span.service, format_duration(span.duration_ns),
                             "bold" if row.depth == 0 else "", colour)
        start = self.column(span.start_ns)
        length = max(1, round(span.duration_ns * self.bar / max(self.waterfall.duration_ns, 1)))
        line.append(" " * start)
        line.append("█" * min(length, self.bar - start), style="bold red" if span.error else colour)
        if not span.error:
            return [line]
        line.append(" ✖", style="bold red")
        detail = _fit(f"✖ {span.error_text or 'failed'}", max(self.width - len(row.inner) - 2, 10))
        return [line, Text(row.inner + "  " + detail, style="red")]

    def log(self, row: Row, log: LogLine) -> Text:
        style = "red" if log.is_error else ("yellow" if log.level.startswith("warn") else "dim")
        offset = "+" + format_duration(max(log.time_ns - self.waterfall.start_ns, 0))
        line = self._columns(row, log.service, offset, style, "dim")
        line.append(" " * self.column(log.time_ns) + "•", style=style)
        return line


def render(waterfall: Waterfall, console: Console, discover_url: str | None = None) -> None:
    """Print the waterfall: header, time axis, then one line per span (a bar on the axis) or log (a dot)."""
    painter = _Painter(waterfall, console.width)
    lines = [*painter.header(), painter.axis()]
    for row in waterfall.rows:
        item = row.item
        lines.extend(painter.span(row, item) if isinstance(item, SpanNode) else [painter.log(row, item)])
    if discover_url:
        lines.append(Text.assemble(("Kibana: ", "bold"), discover_url))
    for line in lines:
        console.print(line, soft_wrap=True)
