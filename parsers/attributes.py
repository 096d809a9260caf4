"""The bounded `attributes` object: where unknown keys of an event go, sanitized so they cannot explode
the index mapping (it is mapped `flattened`; this module bounds key shape, leaf count, depth and length).
"""

from collections.abc import Mapping
from typing import Any

import orjson

from parsers.limits import Limits

# Nesting kept below `attributes`; deeper values are kept as one JSON string (still searchable).
MAX_ATTRIBUTE_DEPTH = 8
MAX_KEY_CHARS = 256


def clean_key(key: object) -> str:
    """A key Elasticsearch accepts: a string, no empty or dot-only path segments, no control chars."""
    text = key if isinstance(key, str) else str(key)
    if text.isprintable() and text and text[0] != "." and text[-1] != "." and ".." not in text:
        return text[:MAX_KEY_CHARS]
    text = "".join(ch if ch.isprintable() else "_" for ch in text)
    text = ".".join(part for part in text.split(".") if part) or "_"
    return text[:MAX_KEY_CHARS]


class _Budget:
    """Leaf fields still allowed in this event, and how many were dropped past it."""

    __slots__ = ("dropped", "left")

    def __init__(self, left: int) -> None:
        self.left = left
        self.dropped = 0


def _value(value: Any, depth: int, budget: _Budget, limits: Limits) -> Any:
    if isinstance(value, str):
        if budget.left <= 0:
            budget.dropped += 1
            return None
        budget.left -= 1
        return value[: limits.max_value_chars]
    if isinstance(value, bool | int | float):
        if budget.left <= 0:
            budget.dropped += 1
            return None
        budget.left -= 1
        return value
    if isinstance(value, Mapping):
        if depth >= MAX_ATTRIBUTE_DEPTH:
            return _value(orjson.dumps(value, default=str).decode(), depth, budget, limits)
        return _object(value, depth + 1, budget, limits) or None
    if isinstance(value, list | tuple):
        items = [v for v in (_value(item, depth, budget, limits) for item in value) if v is not None]
        return items or None
    if value is None:
        return None
    return _value(str(value), depth, budget, limits)


def _object(obj: Mapping[Any, Any], depth: int, budget: _Budget, limits: Limits) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        cleaned = _value(value, depth, budget, limits)
        if cleaned is not None:
            out[clean_key(key)] = cleaned
    return out


def _flat(obj: Mapping[Any, Any], limits: Limits) -> dict[str, Any] | None:
    """The common case cheaply: few keys already clean, scalar values; None when the full walk is needed."""
    if len(obj) > limits.max_attributes:
        return None
    out: dict[str, Any] = {}
    chars = limits.max_value_chars
    for key, value in obj.items():
        kind = type(value)
        if kind is str:
            value = value[:chars]
        elif kind is not int and kind is not float and kind is not bool:
            return None
        # The clean-key test of clean_key(), inline: this loop runs for nearly every event.
        if (
            type(key) is not str
            or not key
            or len(key) > MAX_KEY_CHARS
            or key[0] == "."
            or key[-1] == "."
            or ".." in key
            or not key.isprintable()
        ):
            return None
        out[key] = value
    return out


def bounded(obj: Mapping[Any, Any], limits: Limits) -> tuple[dict[str, Any], int]:
    """Sanitized copy of `obj` and the number of leaf values dropped over `limits.max_attributes`."""
    flat = _flat(obj, limits)
    if flat is not None:
        return flat, 0
    budget = _Budget(limits.max_attributes)
    return _object(obj, 0, budget, limits), budget.dropped
