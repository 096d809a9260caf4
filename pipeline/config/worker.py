"""What the stream worker consumes and how it batches, correlates and aggregates (`LOGTRACE_*`).

Raw-log topics are one environment variable, in either of two forms:

    LOGTRACE_RAW_TOPICS='[{"topic": "app-logs", "format": "auto", "dataset": "app", "service": "checkout",
                           "namespace": "default", "tz": "UTC", "rules": [...]}]'     # JSON list
    LOGTRACE_RAW_TOPICS='app-logs:auto:app:checkout,nginx:access:nginx'                # short form

The short form is `topic[:format[:dataset[:service]]]`, comma-separated, with no rules (nor patterns).
`"patterns": true` on a topic (JSON form only) mines log templates for its logs (`log.pattern.*`, off by
default; LOGTRACE_OTLP_LOGS_PATTERNS=true does the same for OTLP logs). A processing rule (JSON form
only) is one object with an `action`:

    {"name": "drop_health", "action": "drop", "when": {"url.path": ["/health", "/ready"]}}
    {"name": "sample_debug", "action": "sample", "rate": 0.1, "when": {"log.level": "debug"}}
    {"name": "tidy", "action": "rename", "fields": {"attributes.usr": "user.name"}}
    {"name": "no_pw", "action": "remove", "fields": ["attributes.password"]}
    {"name": "route", "action": "set", "dataset": "payments", "namespace": "prod",
     "when": {"service.name": {"regex": "^pay"}}}
    {"name": "cards", "action": "redact", "pattern": "[0-9]{13,16}", "fields": ["message"]}

`redact` replaces every match of `pattern` with `[REDACTED]` in the listed fields (default `message`)
and in the record bytes kept for a dead letter.

`when` maps field names to a value, a list of values (any of them), {"regex": "..."} or
{"exists": true|false}; every entry must match (an empty `when` matches every event).
"""

import re
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pipeline.enrich.redact import ALLOW_ENTRY

RawFormat = Literal["auto", "json", "logfmt", "syslog", "access", "text"]
OtlpEncoding = Literal["otlp_proto", "otlp_json"]
TOPIC_PATTERN = r"^[A-Za-z0-9._-]{1,249}$"
Scalar = str | int | float | bool


class RegexMatch(BaseModel):
    """Field value (as text) matches this regular expression (`re.search`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    regex: str

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value


class ExistsMatch(BaseModel):
    """Field is present (true) or absent (false)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    exists: bool


MatchValue = Scalar | list[Scalar] | RegexMatch | ExistsMatch


class Rule(BaseModel):
    """One processing rule of a topic, applied after parsing and before indexing, in list order."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Label of this rule in the `logtrace_rule_events_total` metric; unique within a topic.
    name: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    action: Literal["drop", "sample", "rename", "remove", "set", "redact"]
    # Conditions, all of which must hold; empty = every event.
    when: dict[str, MatchValue] = Field(default_factory=dict)
    # sample: fraction (0..1] of matching events kept; the choice is a hash of the document id, so a
    # replayed record gets the same decision.
    rate: float | None = Field(default=None, gt=0, le=1)
    # rename: {old: new}; remove: [field, ...]; redact: [field, ...] (default ["message"]).
    fields: dict[str, str] | list[str] | None = None
    # redact: regular expression whose matches are replaced with `[REDACTED]`.
    pattern: str | None = None
    # set: the dataset and/or namespace of the data stream the matching events go to.
    dataset: str | None = Field(default=None, pattern=r"^[a-z0-9_.]{1,80}$")
    namespace: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,100}$")

    @model_validator(mode="after")
    def _action_arguments(self) -> "Rule":
        need = {
            "drop": (),
            "sample": ("rate",),
            "rename": ("fields",),
            "remove": ("fields",),
            "set": (),
            "redact": ("pattern",),
        }[self.action]
        for name in need:
            if getattr(self, name) is None:
                raise ValueError(f"rule {self.name!r}: action {self.action!r} needs {name!r}")
        if self.action == "rename" and not isinstance(self.fields, dict):
            raise ValueError(f"rule {self.name!r}: rename needs fields as {{old: new}}")
        if self.action == "remove" and not isinstance(self.fields, list):
            raise ValueError(f"rule {self.name!r}: remove needs fields as a list")
        if self.action == "set" and self.dataset is None and self.namespace is None:
            raise ValueError(f"rule {self.name!r}: set needs dataset and/or namespace")
        if self.action == "redact":
            if self.fields is not None and not isinstance(self.fields, list):
                raise ValueError(f"rule {self.name!r}: redact needs fields as a list")
            try:
                re.compile(self.pattern or "")
            except re.error as exc:
                raise ValueError(f"rule {self.name!r}: invalid pattern: {exc}") from None
        elif self.pattern is not None:
            raise ValueError(f"rule {self.name!r}: pattern only applies to redact")
        if self.action != "sample" and self.rate is not None:
            raise ValueError(f"rule {self.name!r}: rate only applies to sample")
        return self


class RawTopic(BaseModel):
    """One raw-log topic and how to read it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topic: str = Field(pattern=TOPIC_PATTERN)
    # Parser: auto (detect per record) | json | logfmt | syslog | access | text.
    format: RawFormat = "auto"
    # Dataset of the data stream: logs-logtrace.<dataset>-<namespace>.
    dataset: str = Field(default="app", pattern=r"^[a-z0-9_.]{1,80}$")
    # service.name for events that do not name one; None = leave unset.
    service: str | None = Field(default=None, min_length=1, max_length=256)
    # Data stream namespace; None = the sink's namespace (LOGTRACE_SINK_NAMESPACE).
    namespace: str | None = Field(default=None, pattern=r"^[a-z0-9_]{1,100}$")
    # IANA zone assumed for timestamps written without an offset.
    tz: str = "UTC"
    rules: tuple[Rule, ...] = ()
    # Mine log templates (log.pattern.id/template/params, new-pattern events) for this topic's logs.
    # Off by default: mining costs ~55 µs per line, more than the rest of the worker's per-line budget.
    patterns: bool = False

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)") from None
        return value

    @model_validator(mode="after")
    def _unique_rule_names(self) -> "RawTopic":
        names = [rule.name for rule in self.rules]
        if len(names) != len(set(names)):
            raise ValueError(f"topic {self.topic!r}: rule names must be unique")
        return self


def _parse_short_form(text: str) -> list[dict[str, Any]]:
    """`topic[:format[:dataset[:service]]]`, comma-separated."""
    topics: list[dict[str, Any]] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split(":")
        if len(parts) > 4:
            raise ValueError(f"{item!r}: short form is topic[:format[:dataset[:service]]]")
        entry: dict[str, Any] = {"topic": parts[0]}
        for key, value in zip(("format", "dataset", "service"), parts[1:], strict=False):
            if value:
                entry[key] = value
        topics.append(entry)
    return topics


class WorkerSettings(BaseSettings):
    """Everything `logtrace worker` reads besides Kafka, Elasticsearch and sink settings."""

    model_config = SettingsConfigDict(env_prefix="LOGTRACE_", extra="forbid")

    # --- what to consume ---
    # Raw-log topics (JSON list or short form, see the module doc). At least one topic overall.
    raw_topics: Annotated[tuple[RawTopic, ...], NoDecode] = (RawTopic(topic="app-logs"),)
    # OTLP span topic (ExportTraceServiceRequest records); empty = not consumed.
    otlp_spans_topic: str = Field(default="otlp_spans", pattern=r"^$|" + TOPIC_PATTERN)
    otlp_spans_encoding: OtlpEncoding = "otlp_proto"
    # OTLP log topic (ExportLogsServiceRequest records); empty = not consumed.
    otlp_logs_topic: str = Field(default="otlp_logs", pattern=r"^$|" + TOPIC_PATTERN)
    otlp_logs_encoding: OtlpEncoding = "otlp_proto"
    # Dataset of OTLP log documents: logs-logtrace.<dataset>-<namespace>.
    otlp_logs_dataset: str = Field(default="otlp", pattern=r"^[a-z0-9_.]{1,80}$")
    # Mine log templates of OTLP log documents too (see RawTopic.patterns; needs an OTLP log topic).
    otlp_logs_patterns: bool = False
    # Where reading starts for a partition the group has no committed offset for: earliest | latest.
    auto_offset_reset: Literal["earliest", "latest"] = "earliest"

    # --- batching and backpressure ---
    # Records per batch handed to the sink (upper bound). 1..100000.
    batch_max_records: int = Field(default=1000, ge=1, le=100_000)
    # Seconds a partly filled batch waits for more records before it is processed. > 0.
    batch_max_wait_s: float = Field(default=0.5, gt=0, le=60)
    # Records one topic may have fetched but not yet taken into a batch (faust stream buffer);
    # past it the fetcher stops reading. 1..100000.
    stream_buffer_records: int = Field(default=1000, ge=1, le=100_000)
    # Records one poll of the Kafka consumer returns at most. 1..100000.
    max_poll_records: int = Field(default=500, ge=1, le=100_000)
    # Bytes the broker returns per partition per fetch (must exceed the largest record). >= 64 KiB.
    max_partition_fetch_bytes: int = Field(default=1024 * 1024, ge=64 * 1024)
    # Seconds between offset commits of acknowledged (= durable) records. > 0.
    commit_interval_s: float = Field(default=2.0, gt=0, le=300)

    # --- correlation ---
    # Seconds without a new span or log after which a trace is summarized. > 0.
    trace_idle_s: float = Field(default=30.0, gt=0)
    # Seconds between scans for idle traces. > 0.
    trace_scan_interval_s: float = Field(default=2.0, gt=0)
    # Open traces one worker tracks; past it the oldest is summarized early (counted as an eviction).
    max_open_traces: int = Field(default=100_000, ge=1)
    # Spans kept per trace for the summary; later spans are counted but not stored.
    max_spans_per_trace: int = Field(default=2_000, ge=1)
    # True when the OTLP span topic is already partitioned by trace id (the collector's
    # partition_traces_by_id): spans update the trace table without the repartition hop.
    partition_traces_by_id: bool = False

    # --- derived metrics ---
    # Tumbling window length in seconds (event time). >= 1.
    metric_window_s: int = Field(default=10, ge=1, le=3600)
    # Seconds after a window's end during which late events still count in it; later ones go to the
    # late bucket. >= 0.
    metric_allowed_lateness_s: int = Field(default=10, ge=0, le=3600)
    # Distinct metric keys (service/operation/...) per window and metric kind; more share the
    # `__overflow__` key. >= 1.
    max_metric_keys: int = Field(default=2_000, ge=1)

    # --- log patterns (mined for raw topics with `patterns: true` and LOGTRACE_OTLP_LOGS_PATTERNS) ---
    # Templates kept per (dataset, service); past it the least recently seen template is dropped
    # (counted in logtrace_patterns_evicted_total). 1..100000.
    pattern_max_templates: int = Field(default=1000, ge=1, le=100_000)
    # Drain similarity threshold: share (0..1] of a template's literal tokens a message must repeat to
    # join it; higher splits more templates. 0.5 keeps e.g. `Granted role <*> to user <*>` together.
    pattern_sim_th: float = Field(default=0.5, gt=0, le=1)

    # --- internal topics ---
    # Partitions of the internal topics (trace projections, metric partials, trace-table changelog);
    # the most workers that share the correlation and metric work. 1..256.
    internal_partitions: int = Field(default=8, ge=1, le=256)
    # Replication factor of the internal topics. >= 1.
    internal_replication: int = Field(default=1, ge=1, le=10)

    # --- redaction (pipeline.enrich.redact), applied before anything is persisted ---
    # Default secret redaction on every document and dead letter; false turns it off.
    redact_enabled: bool = True
    # Extra secret field names (JSON list or comma-separated), matched on a field's last name segment.
    redact_keys: Annotated[tuple[str, ...], NoDecode] = ()
    # Extra regular expressions (JSON list) whose matches are replaced with `[REDACTED]`.
    redact_patterns: Annotated[tuple[str, ...], NoDecode] = ()
    # denylist: replace the secrets found by field name and pattern (above), keep everything else.
    # allowlist: additionally replace the value of every field that is neither in
    # LOGTRACE_REDACT_ALLOW_FIELDS nor one of logtrace's own fields (times, numbers, ids, levels,
    # service/host/cloud identity, enumerations: `KEPT_FIELDS` in pipeline/enrich/redact.py), and keep no
    # record bytes in dead letters (they become `[REDACTED]`; set LOGTRACE_SINK_DEADLETTER_RAW_TOPIC for an
    # access-restricted copy). `message` is masked too unless listed. Processing rules run after
    # redaction: their `when` conditions see masked values as `[REDACTED]`.
    redact_mode: Literal["denylist", "allowlist"] = "denylist"
    # allowlist mode: fields that keep their values (JSON list or comma-separated): dotted names
    # (`message`, `attributes.user_id`; a name covers its sub-fields) or prefixes ending in `.*` (`url.*`).
    # Kept values still get the deny-list redaction. Only valid with LOGTRACE_REDACT_MODE=allowlist.
    redact_allow_fields: Annotated[tuple[str, ...], NoDecode] = ()

    # --- web server and process ---
    # Address and port of /metrics, /health and /ready.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=0, le=65535)
    # Log level of the worker's JSON logs: DEBUG | INFO | WARNING | ERROR.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Kafka group session timeout and heartbeat in seconds (short values make tests rebalance fast).
    session_timeout_s: float = Field(default=30.0, ge=1, le=300)
    heartbeat_interval_s: float = Field(default=3.0, gt=0, le=60)
    # Seconds a rebalance may take before the group gives up on a member. >= 1.
    rebalance_timeout_s: float = Field(default=60.0, ge=1, le=600)
    # Seconds between readiness probes of Kafka and Elasticsearch. > 0.
    readiness_interval_s: float = Field(default=5.0, gt=0)
    # Seconds an assigned partition may have records waiting while none reach the worker (and none are
    # in it) before the worker re-seeks it (pipeline/stall.py; a known faust fetch stall). >= 1.
    stall_after_s: float = Field(default=15.0, ge=1, le=3600)

    @field_validator("raw_topics", mode="before")
    @classmethod
    def _decode_topics(cls, value: Any) -> Any:
        if isinstance(value, bytes):
            value = value.decode()
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return ()
            if text.startswith("["):
                try:
                    return orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"LOGTRACE_RAW_TOPICS is not valid JSON: {exc}") from None
            return _parse_short_form(text)
        return value

    @field_validator("redact_keys", "redact_patterns", "redact_allow_fields", mode="before")
    @classmethod
    def _decode_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return orjson.loads(text)
                except orjson.JSONDecodeError as exc:
                    raise ValueError(f"not valid JSON: {exc}") from None
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @field_validator("redact_patterns")
    @classmethod
    def _patterns_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
                re.compile(pattern.encode())
            except re.error as exc:
                raise ValueError(f"invalid redaction pattern {pattern!r}: {exc}") from None
        return value

    @field_validator("redact_allow_fields")
    @classmethod
    def _allow_entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            if not ALLOW_ENTRY.fullmatch(entry):
                raise ValueError(f"invalid field {entry!r}: a dotted field name or a prefix ending in .*")
        return value

    @model_validator(mode="after")
    def _redaction(self) -> "WorkerSettings":
        if self.redact_mode == "allowlist" and not self.redact_enabled:
            raise ValueError("LOGTRACE_REDACT_MODE=allowlist needs LOGTRACE_REDACT_ENABLED=true")
        if self.redact_allow_fields and self.redact_mode != "allowlist":
            raise ValueError("LOGTRACE_REDACT_ALLOW_FIELDS only applies with LOGTRACE_REDACT_MODE=allowlist")
        return self

    @model_validator(mode="after")
    def _topics(self) -> "WorkerSettings":
        names = [topic.topic for topic in self.raw_topics]
        names += [name for name in (self.otlp_spans_topic, self.otlp_logs_topic) if name]
        if not names:
            raise ValueError("no topic to consume: set LOGTRACE_RAW_TOPICS or an OTLP topic")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"topics configured twice: {', '.join(duplicates)}")
        if self.otlp_logs_patterns and not self.otlp_logs_topic:
            raise ValueError("LOGTRACE_OTLP_LOGS_PATTERNS needs an OTLP log topic (LOGTRACE_OTLP_LOGS_TOPIC)")
        if self.heartbeat_interval_s * 3 > self.session_timeout_s:
            raise ValueError(
                "LOGTRACE_HEARTBEAT_INTERVAL_S must be at most a third of LOGTRACE_SESSION_TIMEOUT_S"
            )
        return self

    def raw_topic(self, name: str) -> RawTopic:
        """The configuration of raw-log topic `name`."""
        for topic in self.raw_topics:
            if topic.topic == name:
                return topic
        raise KeyError(name)
