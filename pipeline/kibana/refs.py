"""Which fields each saved object uses, through which data view, and how.

The build refuses objects that use a field mappings/fields.yml does not declare; the integration tests
check each use against the mappings `logtrace setup` installs (a terms split needs an aggregatable
field, a percentile a number, a date histogram a date). Lucene queries are read for their field names
(`field:value`, `_exists_:field`), quoted phrases skipped.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from parsers.fields import is_declared
from pipeline.kibana.lens import RECORDS

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_EXISTS = re.compile(r"_exists_:([\w.@]+)")
_FIELD = re.compile(r"(?<![\w.@:])([A-Za-z@][\w.@]*):")
_BUCKETS = {"terms": "terms", "date_histogram": "date_histogram"}


@dataclass(frozen=True, slots=True)
class FieldUse:
    """One use of a field: by which object, through which data view (id), and how.

    `usage`: time (time field), format (field format), column/sort (Discover), query, date_histogram,
    terms, metric (sum/max/percentile...).
    """

    object_id: str
    data_view: str
    field: str
    usage: str


def query_fields(query: str) -> list[str]:
    """Field names a Lucene query string names, in order of appearance."""
    text = _QUOTED.sub('""', query)
    found = _EXISTS.findall(text)
    found += [name for name in _FIELD.findall(_EXISTS.sub(" ", text)) if name != "_exists_"]
    return list(dict.fromkeys(found))


def _refs_by_name(obj: dict[str, Any]) -> dict[str, str]:
    return {ref["name"]: ref["id"] for ref in obj.get("references", [])}


def _data_view_uses(obj: dict[str, Any]) -> Iterator[FieldUse]:
    attributes = obj["attributes"]
    yield FieldUse(obj["id"], obj["id"], attributes["timeFieldName"], "time")
    for name in attributes.get("fieldFormatMap", {}):
        yield FieldUse(obj["id"], obj["id"], name, "format")


def _search_uses(obj: dict[str, Any]) -> Iterator[FieldUse]:
    attributes = obj["attributes"]
    source = attributes["kibanaSavedObjectMeta"]["searchSourceJSON"]
    view = _refs_by_name(obj)[source["indexRefName"]]
    for name in attributes["columns"]:
        yield FieldUse(obj["id"], view, name, "column")
    for name, _ in attributes.get("sort", []):
        yield FieldUse(obj["id"], view, name, "sort")
    for name in query_fields(source["query"]["query"]):
        yield FieldUse(obj["id"], view, name, "query")


def _lens_uses(obj: dict[str, Any]) -> Iterator[FieldUse]:
    state = obj["attributes"]["state"]
    refs = _refs_by_name(obj)
    for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
        view = refs[f"indexpattern-datasource-layer-{layer_id}"]
        for column in layer["columns"].values():
            field = column.get("sourceField")
            if field and field != RECORDS:
                yield FieldUse(obj["id"], view, field, _BUCKETS.get(column["operationType"], "metric"))
            for name in query_fields(column.get("filter", {}).get("query", "")):
                yield FieldUse(obj["id"], view, name, "query")
        for name in query_fields(state["query"]["query"]):
            yield FieldUse(obj["id"], view, name, "query")


_BY_TYPE = {"index-pattern": _data_view_uses, "search": _search_uses, "lens": _lens_uses}


def field_uses(objects: list[dict[str, Any]]) -> list[FieldUse]:
    """Every field use of the (decoded) objects; dashboards use fields only through their panels."""
    return [use for obj in objects if obj["type"] in _BY_TYPE for use in _BY_TYPE[obj["type"]](obj)]


def undeclared(objects: list[dict[str, Any]]) -> list[FieldUse]:
    """The uses of fields that mappings/fields.yml does not declare."""
    return [use for use in field_uses(objects) if not is_declared(use.field)]
