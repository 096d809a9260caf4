"""Default redaction of common secrets, applied to every document and dead letter before it is persisted.

What is replaced with `[REDACTED]` (`REDACTED`):
- by field name: values of fields whose last name segment is a secret key (`authorization`, `cookie`,
  `set-cookie`, `password`, `passwd`, `pwd`, `secret`, `client_secret`, `token`, `access_token`,
  `refresh_token`, `api_key`, `apikey`, `x-api-key`, `private_key`), plus configured names;
- by pattern, inside any string value (and in the record bytes kept for a dead letter):
  `Authorization:`/`Cookie:` header values, `Bearer <token>`, passwords in URLs (`scheme://user:pw@`),
  `password=…`/`"token": "…"` key-value pairs, API keys with well-known prefixes (AWS `AKIA…`, GitHub
  `ghp_…`/`gho_…`/…, Slack `xox[baprs]-…`, Stripe `sk_live_…`/`rk_live_…`), credit card numbers that
  pass the Luhn check (13-19 digits, spaces or dashes allowed), plus configured regular expressions.

Cost: a value is scanned with the full patterns only when one cheap trigger regex finds a hint of a
secret in it (a keyword, a known prefix or a run of 13+ digits), so clean records cost one `search`
per string. Field-name decisions are cached per name. Pure: no I/O, no clock.
"""

import re
from collections.abc import Iterable
from typing import Any

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

# Hints of a secret; a value without any is not scanned further (the fast path): lower-cased keywords,
# case-sensitive key prefixes, a URL with credentials, and a run of 13+ digits starting with 2-6.
_KEYWORDS = (
    "authori",
    "cookie",
    "bearer",
    "passw",
    "pwd",
    "secret",
    "token",
    "api_key",
    "api-key",
    "apikey",
    "private_key",
    "private-key",
)
_PREFIXES = ("AKIA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "xox", "k_live_")
# Eight digits (an optional separator after four): far cheaper than the card pattern, and an ISO date
# (`2026-01-01`) does not match it.
_CARD_HINT = r"\d\d\d\d[ -]?\d\d\d\d"

# (name, pattern, replacement) — the replacement keeps the non-secret context (key names, schemes).
_DEFAULT_PATTERNS: tuple[tuple[str, str, str], ...] = (
    ("auth_header", r"(?i)\b((?:proxy-)?authori[sz]ation\s*[:=]\s*)(?!\[REDACTED\])[^\r\n\"',;}]+", r"\1"),
    ("cookie_header", r"(?i)\b((?:set-)?cookie\s*[:=]\s*)(?!\[REDACTED\])[^\r\n\"'}]+", r"\1"),
    ("bearer", r"(?i)\b(bearer\s+)(?!\[REDACTED\])[A-Za-z0-9\-._~+/]+=*", r"\1"),
    ("url_password", r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@\"']*:)(?!\[REDACTED\])[^/\s@\"']+(?=@)", r"\1"),
    (
        "key_value",
        r"(?i)\b((?:password|passwd|pwd|secret|client_secret|(?:access_|refresh_|id_)?token|api[_-]?key"
        r"|private[_-]?key)[\"']?\s*[:=]\s*[\"']?)(?!\[REDACTED\])[^\s\"'&,;}]+",
        r"\1",
    ),
    ("aws_access_key", r"\bAKIA[0-9A-Z]{16}\b", ""),
    ("github_token", r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b", ""),
    ("slack_token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}", ""),
    ("stripe_key", r"\b[sr]k_live_[A-Za-z0-9]{16,}", ""),
)
# Card numbers start with 2-6 (Mastercard 2/5, Amex 3, Visa 4, Discover 6): a 13-digit epoch in ms does not.
# Bounded by non-alphanumerics: digits inside a hex id or hash (`53247065705843fe`) are not a card.
_CARD = r"(?<![0-9A-Za-z.])[2-6](?:[ -]?\d){12,18}(?![0-9A-Za-z.])"


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
    __slots__ = ("bytes_pattern", "name", "pattern", "replacement", "replacement_b")

    def __init__(self, name: str, pattern: str, keep: str) -> None:
        self.name = name
        self.pattern = re.compile(pattern)
        self.bytes_pattern = re.compile(pattern.encode())
        self.replacement = keep + REDACTED if keep else REDACTED
        self.replacement_b = self.replacement.encode()


class Redactor:
    """Replaces secrets in documents (in place) and in bytes; counts what it replaced per rule.

    `keys`: extra secret field names (matched case-insensitively against a field's last name segment);
    `patterns`: extra regular expressions whose whole matches are replaced; `fields`: when given
    (allow-list mode), only these fields are scanned by pattern — secret keys are still redacted
    everywhere; `cards`: whether Luhn-valid card numbers are redacted.
    """

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        patterns: Iterable[str] = (),
        fields: Iterable[str] | None = None,
        cards: bool = True,
    ) -> None:
        self._keys = DEFAULT_KEYS | {key.lower() for key in keys}
        self._rules = [_Rule(*rule) for rule in _DEFAULT_PATTERNS]
        extra = list(patterns)
        self._rules += [_Rule(f"custom_{n}", pattern, "") for n, pattern in enumerate(extra)]
        hint = "|".join([_CARD_HINT, *(f"(?:{pattern})" for pattern in extra)])
        self._hint = re.compile(hint)
        self._hint_b = re.compile(hint.encode())
        self._keywords_b = tuple(k.encode() for k in _KEYWORDS)
        self._prefixes_b = tuple(p.encode() for p in _PREFIXES)
        self._card = re.compile(_CARD) if cards else None
        self._card_b = re.compile(_CARD.encode()) if cards else None
        self._fields = frozenset(fields) if fields is not None else None
        self._key_cache: dict[str, bool] = {}
        # Values replaced per rule name since the last drain().
        self.counts: dict[str, int] = {}

    def _count(self, name: str, count: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + count

    def drain(self) -> dict[str, int]:
        counts, self.counts = self.counts, {}
        return counts

    def secret_key(self, name: str) -> bool:
        """Whether field `name` (flat dotted or a plain key) names a secret."""
        found = self._key_cache.get(name)
        if found is None:
            found = name.rsplit(".", 1)[-1].lower() in self._keys
            if len(self._key_cache) < 100_000:
                self._key_cache[name] = found
        return found

    # --- text and bytes ---

    def _suspect(self, value: str) -> bool:
        low = value.lower()
        for keyword in _KEYWORDS:
            if keyword in low:
                return True
        for prefix in _PREFIXES:
            if prefix in value:
                return True
        return ("://" in value and "@" in value) or self._hint.search(value) is not None

    def _suspect_b(self, value: bytes) -> bool:
        low = value.lower()
        for keyword in self._keywords_b:
            if keyword in low:
                return True
        for prefix in self._prefixes_b:
            if prefix in value:
                return True
        return (b"://" in value and b"@" in value) or self._hint_b.search(value) is not None

    def text(self, value: str) -> str:
        """`value` with every secret pattern replaced (returns `value` itself when nothing matched)."""
        if not self._suspect(value):
            return value
        for rule in self._rules:
            value, count = rule.pattern.subn(rule.replacement, value)
            if count:
                self._count(rule.name, count)
        if self._card is not None:
            value = self._card.sub(self._card_text, value)
        return value

    def bytes(self, value: bytes) -> bytes:
        """`value` (any bytes, even invalid UTF-8) with every secret pattern replaced."""
        if not self._suspect_b(value):
            return value
        for rule in self._rules:
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

    # --- documents ---

    def doc(self, doc: dict[str, Any]) -> dict[str, Any]:
        """Redact `doc` in place (flat dotted keys, nested objects and lists); returns it."""
        for key, value in doc.items():
            new = self._value(key, value, self._fields is None or key in self._fields)
            if new is not value:
                doc[key] = new
        return doc

    def _value(self, key: str, value: Any, scan: bool, depth: int = 0) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        if self.secret_key(key):
            if value == REDACTED:
                return value
            self._count("secret_key", 1)
            return REDACTED
        if isinstance(value, str):
            return self.text(value) if scan else value
        if depth > 64:  # parsers cap nesting far lower; a bound keeps this total anyway
            return value
        if isinstance(value, dict):
            for name, inner in value.items():
                new = self._value(name, inner, scan, depth + 1)
                if new is not inner:
                    value[name] = new
            return value
        if isinstance(value, list):
            for index, inner in enumerate(value):
                new = self._value(key, inner, scan, depth + 1)
                if new is not inner:
                    value[index] = new
            return value
        return value


_DEFAULT: Redactor | None = None


def default_redactor() -> Redactor:
    """The shared default Redactor (built once)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Redactor()
    return _DEFAULT
