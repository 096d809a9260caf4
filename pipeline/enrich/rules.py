"""Per-topic processing rules, applied after parsing and before indexing, in configured order.

Actions: `redact` (replace matches of a pattern with `[REDACTED]` in fields and in the record bytes
kept for a dead letter), `drop` (matching events are not indexed), `sample` (keep a fraction `rate` of
matching events; the choice hashes the document id, so a replayed record gets the same decision),
`rename` / `remove` fields, `set` the dataset and/or namespace of the data stream. Every rule's effect
is counted per (topic, rule, effect) so /metrics shows what each one did.

Field names are the flat dotted keys of the document; a name below a nested object (for example
`attributes.user`) reaches into it.
"""

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from parsers.result import Doc
from pipeline.config.worker import ExistsMatch, RegexMatch, Rule
from pipeline.records import Item

_MISSING = object()
# Effects counted in logtrace_rule_events_total{effect}.
EFFECTS = ("dropped", "sampled_out", "sampled_in", "renamed", "removed", "set", "redacted")
REDACTED = "[REDACTED]"


def get_field(doc: Doc, name: str) -> Any:
    """The value of flat key `name`, or of a key inside a nested object (`attributes.user`)."""
    value = doc.get(name, _MISSING)
    if value is not _MISSING:
        return value
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        parent = doc.get(".".join(parts[:cut]), _MISSING)
        if isinstance(parent, dict):
            node: Any = parent
            for part in parts[cut:]:
                if not isinstance(node, dict) or part not in node:
                    return _MISSING
                node = node[part]
            return node
    return _MISSING


def pop_field(doc: Doc, name: str) -> Any:
    """Remove `name` (flat or nested) and return its value, or _MISSING."""
    if name in doc:
        return doc.pop(name)
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        parent = doc.get(".".join(parts[:cut]), _MISSING)
        if isinstance(parent, dict):
            node: Any = parent
            for part in parts[cut:-1]:
                if not isinstance(node, dict) or part not in node:
                    return _MISSING
                node = node[part]
            if isinstance(node, dict) and parts[-1] in node:
                return node.pop(parts[-1])
            return _MISSING
    return _MISSING


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _matcher(name: str, spec: Any) -> Callable[[Doc], bool]:
    if isinstance(spec, ExistsMatch):
        want = spec.exists
        return lambda doc: (get_field(doc, name) is not _MISSING) == want
    if isinstance(spec, RegexMatch):
        pattern = re.compile(spec.regex)

        def regex(doc: Doc) -> bool:
            value = get_field(doc, name)
            return value is not _MISSING and value is not None and pattern.search(_as_text(value)) is not None

        return regex
    values = spec if isinstance(spec, list) else [spec]
    # Compare as text too, so "200" in a rule matches http.response.status_code 200.
    texts = frozenset(_as_text(value) for value in values)

    def equals(doc: Doc) -> bool:
        value = get_field(doc, name)
        if value is _MISSING or value is None:
            return False
        if isinstance(value, list):
            return any(_as_text(v) in texts for v in value)
        return _as_text(value) in texts

    return equals


def keep_sample(doc_id: str, rate: float) -> bool:
    """Deterministic sampling: True for about `rate` of all ids, always the same answer for one id."""
    digest = hashlib.blake2b(doc_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * 2**64


class CompiledRule:
    """One rule with its conditions compiled."""

    __slots__ = ("_conditions", "_pattern", "_raw_pattern", "redactions", "rule")

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._conditions = [_matcher(name, spec) for name, spec in rule.when.items()]
        self._pattern = re.compile(rule.pattern) if rule.pattern is not None else None
        self._raw_pattern = re.compile(rule.pattern.encode()) if rule.pattern is not None else None
        # Values replaced so far (for logtrace_worker_redactions_total).
        self.redactions = 0

    def matches(self, doc: Doc) -> bool:
        return all(condition(doc) for condition in self._conditions)

    def apply(self, item: Item) -> tuple[Item | None, str | None]:
        """(item or None when it is dropped, the effect to count or None when the rule did nothing)."""
        rule = self.rule
        doc = item.doc
        if not self.matches(doc):
            return item, None
        if rule.action == "drop":
            return None, "dropped"
        if rule.action == "redact":
            return item, "redacted" if self._redact(item) else None
        if rule.action == "sample":
            assert rule.rate is not None
            if keep_sample(item.doc_id, rule.rate):
                return item, "sampled_in"
            return None, "sampled_out"
        if rule.action == "rename":
            assert isinstance(rule.fields, dict)
            changed = False
            for old, new in rule.fields.items():
                value = pop_field(doc, old)
                if value is not _MISSING:
                    doc[new] = value
                    changed = True
            return item, "renamed" if changed else None
        if rule.action == "remove":
            assert isinstance(rule.fields, list)
            removed = [name for name in rule.fields if pop_field(doc, name) is not _MISSING]
            return item, "removed" if removed else None
        # set
        if rule.dataset is not None:
            item.dataset = rule.dataset
        if rule.namespace is not None:
            item.namespace = rule.namespace
        return item, "set"

    def _redact(self, item: Item) -> int:
        assert self._pattern is not None and self._raw_pattern is not None
        replaced = 0
        for name in self.rule.fields or ["message"]:
            value = get_field(item.doc, name)
            if isinstance(value, str):
                new, count = self._pattern.subn(REDACTED, value)
                if count:
                    _set_field(item.doc, name, new)
                    replaced += count
        if replaced and item.raw:
            item.raw = self._raw_pattern.sub(REDACTED.encode(), item.raw)
        self.redactions += replaced
        return replaced


def _set_field(doc: Doc, name: str, value: Any) -> None:
    """Replace the value of an existing field, flat or nested (see `get_field`)."""
    if name in doc:
        doc[name] = value
        return
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        node = doc.get(".".join(parts[:cut]))
        if isinstance(node, dict):
            for part in parts[cut:-1]:
                node = node[part]
            node[parts[-1]] = value
            return


class TopicRules:
    """The rules of one topic; `__call__(item)` returns the item (maybe changed) or None when dropped.

    `counts[(rule name, effect)]` accumulates effects until the caller takes them with `drain()`.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._rules = [CompiledRule(rule) for rule in rules]
        self.counts: dict[tuple[str, str], int] = {}

    def __bool__(self) -> bool:
        return bool(self._rules)

    def __call__(self, item: Item) -> Item | None:
        current: Item | None = item
        for compiled in self._rules:
            assert current is not None
            current, effect = compiled.apply(current)
            if effect is not None:
                key = (compiled.rule.name, effect)
                self.counts[key] = self.counts.get(key, 0) + 1
            if current is None:
                return None
        return current

    def drain(self) -> dict[tuple[str, str], int]:
        """The counts since the last drain, and reset them."""
        counts, self.counts = self.counts, {}
        return counts

    def drain_redactions(self) -> dict[str, int]:
        """Values redacted per rule since the last call, and reset them."""
        found = {}
        for compiled in self._rules:
            if compiled.redactions:
                found[compiled.rule.name] = compiled.redactions
                compiled.redactions = 0
        return found
