"""Redaction of secrets, applied to every document and dead letter before it is persisted.

Deny-list mode (the default) replaces with `[REDACTED]` (`REDACTED`):
- by field name: values of fields whose last name segment is a secret key (`authorization`, `cookie`,
  `set-cookie`, `password`, `passwd`, `pwd`, `secret`, `client_secret`, `token`, `access_token`,
  `refresh_token`, `api_key`, `apikey`, `x-api-key`, `private_key`), plus configured names;
- by pattern, inside any string value (and in the record bytes kept for a dead letter):
  `Authorization:`/`Cookie:` header values, `Bearer <token>`, passwords in URLs (`scheme://user:pw@`),
  `password=…`/`"token": "…"` key-value pairs, API keys with well-known prefixes (AWS `AKIA…`, GitHub
  `ghp_…`/`gho_…`/…, Slack `xox[baprs]-…`, Stripe `sk_live_…`/`rk_live_…`), credit card numbers that
  pass the Luhn check (13-19 digits, spaces or dashes allowed; also integers outside the declared
  numeric fields), plus configured regular expressions.

Allow-list mode (`allow=`, LOGTRACE_REDACT_MODE=allowlist) additionally replaces the value of every field
that is neither listed nor one of the pipeline's own fields (`KEPT_FIELDS`: times, numbers, ids, levels,
service/host/cloud identity, enumerations — what correlation, metrics and routing read); see `Redactor`.

Cost (clean documents are the common case): every default secret needs one of a few lower-case literals
(`_LITERALS`: a key name or pattern keyword, a token prefix, `://…@`) or a run of 13 digits. A document
is serialized once with orjson and that text is checked for them; a document without any is returned
untouched (keys and values alike, since JSON keeps letters, digits, `:`, `/`, `@`, spaces and dashes
as they are). Only a document with a hint is walked field by field, and only values with a hint run the
patterns; a value of a field with a validated shape (`SHAPED_FIELDS`: hex ids, ISO timestamps, IP
addresses) that has that shape is not scanned (no default secret fits those shapes).
Configured patterns are arbitrary, so with any configured the string values are also checked one by
one with a regex made of them. Field-name decisions are cached per name. Pure: no I/O, no clock.
"""

import re
from collections.abc import Iterable
from typing import Any

import orjson

REDACTED = "[REDACTED]"
_REDACTED_B = REDACTED.encode()

DEFAULT_KEYS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "proxy_authorization",
        "cookie",
        "set-cookie",
        "set_cookie",
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "api-key",
        "x-api-key",
        "x_api_key",
        "private_key",
    }
)

# (name, pattern, replacement kept, literals[, required]) — the replacement keeps the non-secret context
# (key names, schemes); a pattern can only match a value whose lower-cased text contains one of its
# literals and all of its required ones (the URL pattern is costly: it runs only with `://` and `@`).
_DEFAULT_PATTERNS: tuple[tuple[Any, ...], ...] = (
    (
        "auth_header",
        r"(?i)\b((?:proxy-)?authori[sz]ation\s*[:=]\s*)(?!\[REDACTED\])[^\r\n\"',;}]+",
        r"\1",
        ("authori",),
    ),
    ("cookie_header", r"(?i)\b((?:set-)?cookie\s*[:=]\s*)(?!\[REDACTED\])[^\r\n\"'}]+", r"\1", ("cookie",)),
    ("bearer", r"(?i)\b(bearer\s+)(?!\[REDACTED\])[A-Za-z0-9\-._~+/]+=*", r"\1", ("bearer",)),
    (
        "url_password",
        r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@\"']*:)(?!\[REDACTED\])[^/\s@\"']+(?=@)",
        r"\1",
        ("://",),
        ("@",),
    ),
    (
        "key_value",
        r"(?i)\b((?:password|passwd|pwd|secret|client_secret|(?:access_|refresh_|id_)?token|api[_-]?key"
        r"|private[_-]?key)[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\])[^\s\"'&,;}]+",
        r"\1",
        ("passw", "pwd", "secret", "token", "api", "private"),
    ),
    ("aws_access_key", r"\bAKIA[0-9A-Z]{16}\b", "", ("akia",)),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b", "", ("gh",)),
    ("slack_token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}", "", ("xox",)),
    ("stripe_key", r"\b[sr]k_live_[A-Za-z0-9]{16,}", "", ("k_live_",)),
)
# Lower-case literals of which every default secret key and pattern needs one (a document or value
# without any, without `gh[pousr]_`, without `://…@` and without a card-like digit run holds no default
# secret). Grouped under a character each literal of the group contains: a missing character (one memchr)
# skips the group's substring searches, which dominate the cost of a clean document.
_LITERALS = ("authori", "bearer", "secret", "private")
_GATED_LITERALS = (
    ("k", ("cookie", "token", "api_key", "api-key", "apikey", "akia", "k_live_")),
    ("w", ("passw", "pwd")),
    ("x", ("xox",)),
)
_GITHUB_HINT = r"gh[pousr]_"
# What every URL password match contains (no quote, slash or space between `://` and `@`; holds in JSON
# text too, where `@timestamp` keys alone would satisfy a bare `@` check).
_URL_HINT = re.compile(r"://[^/\s\"']*@")
# Card numbers start with 2-6 (Mastercard 2/5, Amex 3, Visa 4, Discover 6): a 13-digit epoch in ms does not.
# Bounded by non-alphanumerics: digits inside a hex id or hash (`53247065705843fe`) are not a card.
_CARD = r"(?<![0-9A-Za-z.])[2-6](?:[ -]?\d){12,18}(?![0-9A-Za-z.])"
# What every card match contains (without the bounds, which JSON escapes such as `\n` would hide).
_CARD_HINT = r"[2-6](?:[ -]?\d){12}"

# Values of these fields have a shape the parsers validate; a value of that shape cannot contain a
# default secret (no key-value separator with a keyword, no token prefix, no 13-digit run), so it is not
# scanned — this also keeps a Luhn-valid all-decimal span id from being taken for a card number.
_HEX_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)")
_IP = re.compile(r"[0-9A-Fa-f:.]{2,45}")
SHAPED_FIELDS: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(
        (
            "trace.id",
            "span.id",
            "parent.id",
            "transaction.id",
            "trace.summary.root.id",
            "trace.summary.top_spans.id",
            "log.pattern.id",
        ),
        _HEX_ID,
    ),
    **dict.fromkeys(
        (
            "@timestamp",
            "event.start",
            "event.end",
            "event.ingested",
            "event.created",
            "logtrace.kafka.timestamp",
        ),
        _ISO_TIME,
    ),
    **dict.fromkeys(("source.ip", "client.ip", "host.ip"), _IP),
}

# Fields of mappings/fields.yml typed date, date_nanos, long, float, boolean or constant_keyword (a test
# keeps this in step with the file): integers in them are never taken for card numbers, and allow-list
# mode keeps them. IP fields are typed too but are personal data, so allow-list mode masks them unless
# listed.
TYPED_FIELDS = frozenset(
    {
        "@timestamp",
        "data_stream.type",
        "data_stream.dataset",
        "data_stream.namespace",
        "log.origin.file.line",
        "log.syslog.priority",
        "log.syslog.facility.code",
        "log.syslog.severity.code",
        "process.pid",
        "process.thread.id",
        "event.duration",
        "event.start",
        "event.end",
        "event.ingested",
        "event.created",
        "http.request.body.bytes",
        "http.response.status_code",
        "http.response.body.bytes",
        "http.upstream.duration",
        "client.port",
        "server.port",
        "span.duration.us",
        "otel.dropped_attributes_count",
        "otel.dropped_events_count",
        "otel.dropped_links_count",
        "otel.severity_number",
        "otel.trace_flags",
        "rpc.grpc.status_code",
        "trace.summary.root.missing",
        "trace.summary.span_count",
        "trace.summary.error_span_count",
        "trace.summary.log_count",
        "trace.summary.error_log_count",
        "trace.summary.truncated",
        "trace.summary.top_spans.self_time",
        "metricset.period",
        "metrics.count",
        "metrics.errors",
        "metrics.error_rate",
        "metrics.late",
        "metrics.duration.count",
        "metrics.duration.min",
        "metrics.duration.max",
        "metrics.duration.sum",
        "metrics.duration.p50",
        "metrics.duration.p90",
        "metrics.duration.p95",
        "metrics.duration.p99",
        "logtrace.attributes_dropped",
        "logtrace.kafka.partition",
        "logtrace.kafka.offset",
        "logtrace.kafka.timestamp",
        "logtrace.lag_ms",
        "logtrace.pipeline_ms",
        "logtrace.deadletter.source_index",
        "logtrace.deadletter.size",
        "logtrace.deadletter.truncated",
    }
)
# Keyword fields of fields.yml that name or classify rather than carry content: ids, levels,
# enumerations, service/host/container/cloud identity, operation names. Allow-list mode keeps them
# (correlation, metrics and routing read them); free text, URLs, user names, addresses, statements,
# `attributes`, `labels` and other maps are not here.
IDENTITY_FIELDS = frozenset(
    {
        "log.level",
        "log.logger",
        "log.file.path",
        "log.origin.file.name",
        "log.origin.function",
        "log.syslog.facility.name",
        "log.syslog.severity.name",
        "log.syslog.appname",
        "log.syslog.msgid",
        "log.syslog.version",
        "log.iostream",
        "service.name",
        "service.version",
        "service.namespace",
        "service.environment",
        "service.instance.id",
        "host.name",
        "host.architecture",
        "host.id",
        "host.os.type",
        "host.os.name",
        "host.os.version",
        "host.os.full",
        "process.name",
        "process.runtime.name",
        "process.runtime.version",
        "process.thread.name",
        "container.id",
        "container.name",
        "container.image.name",
        "container.image.tag",
        "container.runtime",
        "kubernetes.namespace",
        "kubernetes.pod.name",
        "kubernetes.pod.uid",
        "kubernetes.container.name",
        "kubernetes.node.name",
        "kubernetes.deployment.name",
        "kubernetes.replicaset.name",
        "kubernetes.statefulset.name",
        "kubernetes.daemonset.name",
        "kubernetes.job.name",
        "kubernetes.cronjob.name",
        "orchestrator.cluster.name",
        "cloud.provider",
        "cloud.region",
        "cloud.availability_zone",
        "cloud.account.id",
        "cloud.platform",
        "trace.id",
        "span.id",
        "parent.id",
        "transaction.id",
        "event.outcome",
        "event.dataset",
        "event.kind",
        "error.type",
        "http.request.method",
        "http.version",
        "http.route",
        "http.response.status_class",
        "span.name",
        "span.kind",
        "span.status.code",
        "span.operation",
        "otel.scope.name",
        "otel.scope.version",
        "otel.event_name",
        "db.system",
        "db.name",
        "db.operation",
        "messaging.system",
        "messaging.destination.name",
        "messaging.operation",
        "rpc.system",
        "rpc.service",
        "rpc.method",
        "trace.summary.root.id",
        "trace.summary.root.name",
        "trace.summary.services",
        "trace.summary.top_spans.id",
        "trace.summary.top_spans.name",
        "trace.summary.top_spans.service",
        "metricset.name",
        "log.pattern.id",
        "logtrace.format",
        "logtrace.shipper",
        "logtrace.pattern",
        "logtrace.parse.problems",
        "logtrace.level_original",
        "logtrace.kafka.topic",
        "logtrace.deadletter.reason",
        "logtrace.deadletter.doc_id",
        "logtrace.deadletter.data_stream",
        "logtrace.deadletter.sha256",
    }
)
# What allow-list mode keeps without being told.
KEPT_FIELDS = TYPED_FIELDS | IDENTITY_FIELDS
# Allow-list entries: a dotted field name (`attributes.user_id`), or a prefix ending in `.*` (`url.*`).
ALLOW_ENTRY = re.compile(r"[^\s*]+(?:\.\*)?")
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0000000000")
_DIGIT_RUN = b"0" * 13
# JSON escapes these in strings: a configured key containing one could hide from the document check.
_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')


def _lower(value: str) -> str:
    """`value` lower-cased for the literal checks, with the non-ASCII letters that case-insensitive
    patterns match as ASCII ones (`ſ` as s, `ı`/`İ` as i; `K` lowers to k anyway) folded to them."""
    low = value.lower()
    if low.isascii():
        return low
    return low.replace("\u017f", "s").replace("\u0131", "i").replace("\u0307", "")


def luhn_ok(digits: str) -> bool:
    """True when `digits` (only 0-9) passes the Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


class _Rule:
    __slots__ = (
        "bytes_pattern",
        "literals",
        "literals_b",
        "name",
        "pattern",
        "replacement",
        "replacement_b",
        "required",
        "required_b",
    )

    def __init__(
        self,
        name: str,
        pattern: str,
        keep: str,
        literals: tuple[str, ...] = (),
        required: tuple[str, ...] = (),
    ) -> None:
        self.name = name
        self.pattern = re.compile(pattern)
        self.bytes_pattern = re.compile(pattern.encode())
        self.replacement = keep + REDACTED if keep else REDACTED
        self.replacement_b = self.replacement.encode()
        # Empty: always run (configured patterns).
        self.literals = literals
        self.literals_b = tuple(literal.encode() for literal in literals)
        self.required = required
        self.required_b = tuple(literal.encode() for literal in required)


# Per-field decisions of the deny-list walk.
_SCAN, _SECRET = 0, 1


class Redactor:
    """Replaces secrets in documents (in place) and in bytes; counts what it replaced per rule.

    `keys`: extra secret field names (matched case-insensitively against a field's last name segment);
    `patterns`: extra regular expressions whose whole matches are replaced; `cards`: whether Luhn-valid
    card numbers are redacted.

    `allow` switches on allow-list mode: only the listed fields (dotted names, a nested field by its path
    such as `attributes.user_id`, or a prefix ending in `.*` such as `url.*`) and the pipeline's own
    fields (`KEPT_FIELDS`) keep their values; every other value — strings, numbers and booleans alike,
    inside objects and lists too — becomes `[REDACTED]` (counted as `not_allowed`). Kept values still get
    the deny-list redaction (secret keys and patterns). The record bytes kept for a dead letter cannot be
    split into fields, so in this mode they are replaced whole by `[REDACTED]` (the unredacted record
    only goes to the access-restricted raw dead-letter topic, when that is configured).
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        patterns: Iterable[str] = (),
        allow: Iterable[str] | None = None,
        cards: bool = True,
    ) -> None:
        self._keys = DEFAULT_KEYS | {key.lower() for key in keys}
        self._rules = [_Rule(*rule) for rule in _DEFAULT_PATTERNS]
        extra = list(patterns)
        self._rules += [_Rule(f"custom_{n}", pattern, "") for n, pattern in enumerate(extra)]
        # Configured patterns are checked on their own, value by value.
        self._custom = re.compile("|".join(f"(?:{pattern})" for pattern in extra)) if extra else None
        self._custom_b = re.compile("|".join(f"(?:{p})" for p in extra).encode()) if extra else None
        known = [*_LITERALS, *(literal for _, group in _GATED_LITERALS for literal in group)]
        extra_keys = sorted(_lower(key) for key in self._keys if not any(literal in key for literal in known))
        self._literals = (*_LITERALS, *extra_keys)
        # The whole-document check is exact only when no secret key contains a character JSON escapes.
        self._doc_check = not any(_JSON_ESCAPED.search(key) for key in self._keys)
        self._github = re.compile(_GITHUB_HINT)
        self._card_hint = re.compile(_CARD_HINT)
        self._card = re.compile(_CARD) if cards else None
        self._card_b = re.compile(_CARD.encode()) if cards else None
        self._cards = cards
        self._allow: frozenset[str] | None = None
        self._allow_prefixes: tuple[str, ...] = ()
        if allow is not None:
            entries = list(allow)
            for entry in entries:
                if not ALLOW_ENTRY.fullmatch(entry):
                    raise ValueError(f"invalid allow-list entry {entry!r}: a dotted field name or a prefix.*")
            # An entry covers its sub-fields: `attributes` keeps the whole object, as `attributes.*` does.
            self._allow = frozenset(entry for entry in entries if not entry.endswith(".*"))
            self._allow_prefixes = tuple(
                entry[:-1] if entry.endswith(".*") else f"{entry}." for entry in entries
            )
        self._key_cache: dict[str, int] = {}
        self._allow_cache: dict[str, bool] = {}
        # Values replaced per rule name since the last drain().
        self.counts: dict[str, int] = {}

    @property
    def allowlist(self) -> bool:
        """Whether this redactor is in allow-list mode."""
        return self._allow is not None

    def _count(self, name: str, count: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + count

    def drain(self) -> dict[str, int]:
        counts, self.counts = self.counts, {}
        return counts

    def secret_key(self, name: str) -> bool:
        """Whether field `name` (flat dotted or a plain key) names a secret."""
        return self._decide(name) == _SECRET

    def _decide(self, name: str) -> int:
        found = self._key_cache.get(name)
        if found is None:
            found = _SECRET if name.rsplit(".", 1)[-1].lower() in self._keys else _SCAN
            if len(self._key_cache) < 100_000:
                self._key_cache[name] = found
        return found

    def allowed(self, path: str) -> bool:
        """In allow-list mode, whether field `path` keeps its value (always true otherwise)."""
        if self._allow is None:
            return True
        found = self._allow_cache.get(path)
        if found is None:
            found = path in KEPT_FIELDS or path in self._allow or path.startswith(self._allow_prefixes)
            if len(self._allow_cache) < 100_000:
                self._allow_cache[path] = found
        return found

    # --- text and bytes ---

    def _word_hint(self, low: str) -> bool:
        """Whether lower-cased text holds a literal some default secret needs (key word, token prefix,
        GitHub token shape, URL with credentials): every hint but the card digits."""
        for literal in self._literals:
            if literal in low:
                return True
        for gate, group in _GATED_LITERALS:
            if gate in low:
                for literal in group:
                    if literal in low:
                        return True
        if "_" in low and "gh" in low and self._github.search(low) is not None:
            return True
        return "://" in low and "@" in low and _URL_HINT.search(low) is not None

    def _hinted(self, low: str, value: str, encoded: bytes | None = None) -> bool:
        """Whether `value` (`low`: lower-cased; `encoded`: its UTF-8 when at hand) may hold a default
        secret (a necessary condition only)."""
        if self._word_hint(low):
            return True
        if not self._cards:
            return False
        if value.isascii():
            # A card is 13+ digits with at most one space or dash between two of them.
            return _DIGIT_RUN in (encoded or value.encode()).translate(_DIGITS_TO_ZERO, b" -")
        return self._card_hint.search(value) is not None

    def _hinted_b(self, value: bytes) -> bool:
        """`_hinted` for bytes (their patterns are ASCII-only, so Latin-1 text is an exact stand-in)."""
        if self._word_hint(value.decode("latin-1").lower()):
            return True
        return self._cards and _DIGIT_RUN in value.translate(_DIGITS_TO_ZERO, b" -")

    def text(self, value: str) -> str:
        """`value` with every secret pattern replaced (returns `value` itself when nothing matched)."""
        low = _lower(value)
        if not self._hinted(low, value) and (self._custom is None or self._custom.search(value) is None):
            return value
        return self._scan(value, low)

    def _scan(self, value: str, low: str) -> str:
        for rule in self._rules:
            if rule.literals:
                for literal in rule.literals:
                    if literal in low:
                        break
                else:
                    continue
            if rule.required and not all(literal in low for literal in rule.required):
                continue
            value, count = rule.pattern.subn(rule.replacement, value)
            if count:
                self._count(rule.name, count)
        if self._card is not None:
            value = self._card.sub(self._card_text, value)
        return value

    def bytes(self, value: bytes) -> bytes:
        """`value` (any bytes, even invalid UTF-8) with every secret pattern replaced; in allow-list mode
        `[REDACTED]` (see the class)."""
        if self._allow is not None:
            if value == _REDACTED_B:
                return value
            self._count("not_allowed", 1)
            return _REDACTED_B
        if not self._hinted_b(value) and (self._custom_b is None or self._custom_b.search(value) is None):
            return value
        low = value.lower()
        for rule in self._rules:
            if rule.literals_b:
                for literal in rule.literals_b:
                    if literal in low:
                        break
                else:
                    continue
            if rule.required_b and not all(literal in low for literal in rule.required_b):
                continue
            value, count = rule.bytes_pattern.subn(rule.replacement_b, value)
            if count:
                self._count(rule.name, count)
        if self._card_b is not None:
            value = self._card_b.sub(self._card_bytes, value)
        return value

    def _card_text(self, match: re.Match[str]) -> str:
        digits = match.group().replace(" ", "").replace("-", "")
        if luhn_ok(digits):
            self._count("credit_card", 1)
            return REDACTED
        return match.group()

    def _card_bytes(self, match: re.Match[bytes]) -> bytes:
        digits = match.group().replace(b" ", b"").replace(b"-", b"")
        if luhn_ok(digits.decode("ascii")):
            self._count("credit_card", 1)
            return _REDACTED_B
        return match.group()

    def _card_int(self, key: str, value: int) -> bool:
        """Whether integer `value` of field `key` is a card number (never in declared numeric fields)."""
        if not self._cards or not 10**12 <= value < 10**19 or key in TYPED_FIELDS:
            return False
        digits = str(value)
        if digits[0] in "23456" and luhn_ok(digits):
            self._count("credit_card", 1)
            return True
        return False

    # --- documents ---

    def doc(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Redact `doc` in place (flat dotted keys, nested objects and lists); returns it."""
        if self._allow is not None:
            for key, value in doc.items():
                new = self._allowed_value(key, key, value, 0)
                if new is not value:
                    doc[key] = new
            return doc
        hinted = True
        if self._doc_check:
            try:
                text = orjson.dumps(doc)
            except TypeError:  # not JSON-serializable as is: walk it
                pass
            else:
                decoded = text.decode()
                hinted = self._hinted(_lower(decoded), decoded, text)
        if not hinted and self._custom is None:
            return doc
        for key, value in doc.items():
            new = self._value(key, value, hinted, 0)
            if new is not value:
                doc[key] = new
        return doc

    def _value(self, key: str, value: Any, hinted: bool, depth: int) -> Any:
        """`value` of field `key`, redacted; `hinted`: whether the document may hold a default secret."""
        kind = type(value)
        if kind is str:
            if hinted:
                if self._decide(key) == _SECRET:
                    if value == REDACTED:
                        return value
                    self._count("secret_key", 1)
                    return REDACTED
                shape = SHAPED_FIELDS.get(key)
                if shape is not None and shape.fullmatch(value) is not None:
                    return (
                        value
                        if self._custom is None or self._custom.search(value) is None
                        else self.text(value)
                    )
                low = _lower(value)
                if self._hinted(low, value):
                    return self._scan(value, low)
            if self._custom is not None and self._custom.search(value) is not None:
                return self._scan(value, _lower(value))
            return value
        if value is None or kind is bool:
            return value
        if hinted and self._decide(key) == _SECRET:
            self._count("secret_key", 1)
            return REDACTED
        if kind is int:
            return REDACTED if hinted and self._card_int(key, value) else value
        if kind is float:
            return value
        if depth > 64:  # parsers cap nesting far lower; a bound keeps this total anyway
            return value
        if isinstance(value, dict):
            for name, inner in value.items():
                new = self._value(name, inner, hinted, depth + 1)
                if new is not inner:
                    value[name] = new
            return value
        if isinstance(value, list):
            for index, inner in enumerate(value):
                new = self._value(key, inner, hinted, depth + 1)
                if new is not inner:
                    value[index] = new
            return value
        return value

    def _allowed_value(self, key: str, path: str, value: Any, depth: int) -> Any:
        """Allow-list mode: `value` of field `key` at dotted `path`."""
        if value is None or (type(value) is bool and self.allowed(path)):
            return value
        if self._decide(key) == _SECRET and type(value) is not bool:
            if value == REDACTED:
                return value
            self._count("secret_key", 1)
            return REDACTED
        if isinstance(value, dict):
            if depth > 64:
                self._count("not_allowed", 1)
                return REDACTED
            for name, inner in value.items():
                new = self._allowed_value(name, f"{path}.{name}", inner, depth + 1)
                if new is not inner:
                    value[name] = new
            return value
        if isinstance(value, list):
            if depth > 64:
                self._count("not_allowed", 1)
                return REDACTED
            for index, inner in enumerate(value):
                new = self._allowed_value(key, path, inner, depth + 1)
                if new is not inner:
                    value[index] = new
            return value
        if not self.allowed(path):
            if value == REDACTED:
                return value
            self._count("not_allowed", 1)
            return REDACTED
        return self._value(key, value, True, depth)


def redactor_from_settings(settings: Any) -> Redactor | None:
    """The Redactor that WorkerSettings `settings` configure (`redact_*`), or None when redaction is off."""
    if not settings.redact_enabled:
        return None
    allow = settings.redact_allow_fields if settings.redact_mode == "allowlist" else None
    return Redactor(keys=settings.redact_keys, patterns=settings.redact_patterns, allow=allow)


_DEFAULT: Redactor | None = None
_LOG: Redactor | None = None


def configure_log_redaction(keys: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
    """Make `redact_log_entry` also hide the configured keys and patterns (LOGTRACE_REDACT_KEYS/_PATTERNS).
    The worker's own log lines are redacted even with document redaction off: secrets are never logged."""
    global _LOG
    _LOG = Redactor(keys=keys, patterns=patterns)


def redact_log_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """One JSON log line of the worker itself (pipeline.logs: message, error.message, error.stack_trace,
    extra fields) with the default and configured secrets redacted, in place; returns it. Its own
    Redactor, so log lines never count as redacted documents."""
    global _LOG
    if _LOG is None:
        _LOG = Redactor()
    _LOG.doc(entry)
    _LOG.counts.clear()
    return entry


def default_redactor() -> Redactor:
    """The shared default Redactor (built once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Redactor()
    return _DEFAULT
