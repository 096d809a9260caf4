"""One batch of decoded records -> what the worker hands on: sink items, dead letters, trace projections,
metric partials and the counts for /metrics. Pure: time comes in as arguments, nothing is sent here.

Order per document: Kafka coordinates, timing, service backfill (logs), processing rules (raw topics),
pattern mining (topics with patterns on), then routing to the data stream; `logtrace.pipeline_ms` is
set last, just before the sink.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from parsers.result import Doc
from pipeline.correlate.projection import Projected, project
from pipeline.enrich.kafka import kafka_coords
from pipeline.enrich.patterns import PatternCounts, PatternStep
from pipeline.enrich.redact import Redactor, default_redactor
from pipeline.enrich.rules import TopicRules
from pipeline.enrich.service import ServiceBackfill
from pipeline.enrich.timing import Timing, set_pipeline_ms
from pipeline.metrics.partials import Partial, aggregate
from pipeline.records import Decoded, Item, problems_of
from pipeline.sink.items import DeadLetter, Pending
from pipeline.sink.routing import data_stream, span_stream


@dataclass(slots=True)
class Prepared:
    """A batch ready for the sink and the internal topics."""

    pending: list[Pending] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    # Final documents (after rules), for metrics and correlation.
    docs: list[Doc] = field(default_factory=list)
    projections: list[Projected] = field(default_factory=list)
    partials: list[Partial] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    # Parse problems by reason: refused records (dead letters) and partly understood documents.
    problems: dict[str, int] = field(default_factory=dict)
    # (topic, rule, effect) -> events.
    rule_effects: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # rule -> values redacted.
    redactions: dict[str, int] = field(default_factory=dict)
    lags_s: list[float] = field(default_factory=list)
    backfilled: int = 0
    # What pattern mining did (topics with patterns on).
    patterns: PatternCounts = field(default_factory=PatternCounts)


@dataclass(frozen=True, slots=True)
class BatchOptions:
    """What the worker configured for preparing batches."""

    metric_window_s: int = 10
    max_metric_keys: int = 2_000
    # Whether documents are projected for trace correlation (spans always; logs with a trace id).
    project: bool = True
    # Default secret redaction (pipeline.enrich.redact), applied first to every document and dead letter;
    # None turns it off.
    redactor: Redactor | None = field(default_factory=default_redactor)
    # Keep each record's unredacted bytes as `original` on pending documents and dead letters, for the
    # access-restricted raw dead-letter topic (LOGTRACE_SINK_DEADLETTER_RAW_TOPIC); off, nothing keeps them.
    keep_original: bool = False


def _route(item: Item) -> str:
    if item.kind == "traces":
        return span_stream(item.namespace)
    return data_stream("logs", item.dataset, item.namespace)


def prepare(
    decoded: Decoded,
    *,
    now_ns: int,
    started_ns: int,
    options: BatchOptions,
    rules: Mapping[str, TopicRules] | None = None,
    backfill: ServiceBackfill | None = None,
    patterns: PatternStep | None = None,
) -> Prepared:
    """Enrich, filter and route the items of `decoded`; derive projections and metric partials."""
    redactor = options.redactor
    dead = decoded.dead
    if redactor is not None:
        keep = options.keep_original
        dead = [
            replace(
                letter,
                raw=redactor.bytes(letter.raw),
                detail=redactor.text(letter.detail),
                original=letter.raw if keep else None,
            )
            for letter in dead
        ]
    out = Prepared(dead=dead, formats=dict(decoded.formats))
    for letter in decoded.dead:
        out.problems[letter.reason] = out.problems.get(letter.reason, 0) + 1
    for reason, count in problems_of(decoded.items).items():
        out.problems[reason] = out.problems.get(reason, 0) + count
    timing = Timing(now_ns)
    before = backfill.backfilled if backfill is not None else 0
    # Records of many documents (OTLP requests) share one `raw`: redact its bytes once.
    raws: dict[int, bytes] = {}
    for item in decoded.items:
        original = item.raw if options.keep_original else None
        if redactor is not None:
            redactor.doc(item.doc)
            if item.raw:
                found = raws.get(id(item.raw))
                if found is None:
                    found = raws[id(item.raw)] = redactor.bytes(item.raw)
                item.raw = found
        doc = kafka_coords(item.doc, item.source)
        timing(doc)
        if item.kind == "logs" and backfill is not None:
            backfill(doc, item.default_service)
        elif item.default_service is not None:
            doc.setdefault("service.name", item.default_service)
        topic_rules = rules.get(item.source.topic) if rules else None
        if topic_rules:
            kept = topic_rules(item)
            for (rule, effect), count in topic_rules.drain().items():
                key = (item.source.topic, rule, effect)
                out.rule_effects[key] = out.rule_effects.get(key, 0) + count
            for rule, count in topic_rules.drain_redactions().items():
                out.redactions[rule] = out.redactions.get(rule, 0) + count
            if kept is None:
                continue
            item = kept
        if patterns is not None:
            out.pending.extend(patterns(item, doc, out.patterns))
        lag = doc.get("logtrace.lag_ms")
        if lag is not None:
            out.lags_s.append(lag / 1000.0)
        out.docs.append(doc)
        if options.project:
            projected = project(doc)
            if projected is not None:
                out.projections.append(projected)
        set_pipeline_ms(doc, started_ns, now_ns)
        out.pending.append(Pending(doc, _route(item), item.doc_id, item.source, item.raw, original))
    if backfill is not None:
        out.backfilled = backfill.backfilled - before
    if redactor is not None:
        for rule, count in redactor.drain().items():
            out.redactions[f"default_{rule}"] = out.redactions.get(f"default_{rule}", 0) + count
    out.partials = aggregate(out.docs, options.metric_window_s, options.max_metric_keys)
    return out
