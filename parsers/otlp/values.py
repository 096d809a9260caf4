"""OTLP `AnyValue` → plain Python values, the shape `attributes` and the ECS converters take.

Sample input (OTLP/JSON form): `{"key": "http.method", "value": {"stringValue": "GET"}}` → `"GET"`;
`{"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}]}}` → `{"a": 1}`.
"""

import base64
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def _array(value: AnyValue, cap: int) -> list[Any]:
    return [any_value(item, cap) for item in value.array_value.values[:cap]]


def _kvlist(value: AnyValue, cap: int) -> dict[str, Any]:
    return key_values(value.kvlist_value.values, cap)


def _bytes(value: AnyValue, cap: int) -> str:
    # OTLP/JSON renders bytes values as base64, so the same value reads the same from either encoding.
    return base64.b64encode(value.bytes_value).decode("ascii")


def _no_dictionary(value: AnyValue, cap: int) -> None:
    # An index into a profiles string table: traces and logs carry no table to resolve it against.
    return None


# Oneof members that need more than reading the field; scalars are read with getattr.
_COMPOSITE: dict[str, Callable[[AnyValue, int], Any]] = {
    "array_value": _array,
    "kvlist_value": _kvlist,
    "bytes_value": _bytes,
    "string_value_strindex": _no_dictionary,
}


def any_value(value: AnyValue, cap: int) -> Any:
    """The Python value of `value` (None when unset); arrays and kvlists keep at most `cap` items each.

    Items past `cap` in one container could never fit the per-event attribute budget anyway; cutting
    them here keeps a hostile million-item array from being converted only to be dropped.
    """
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    convert = _COMPOSITE.get(kind)
    return getattr(value, kind) if convert is None else convert(value, cap)


def key_values(pairs: Sequence[KeyValue], cap: int) -> dict[str, Any]:
    """`{key: value}` of the first `cap` pairs, unset values left out (a later duplicate key wins)."""
    out: dict[str, Any] = {}
    for pair in pairs[:cap] if len(pairs) > cap else pairs:
        value = any_value(pair.value, cap)
        if value is not None:
            out[pair.key] = value
    return out
