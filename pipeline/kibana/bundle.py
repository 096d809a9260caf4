"""The importable bundle: one readable JSON file per saved object <-> the NDJSON Kibana's import API takes.

Kibana stores some attributes as JSON *text* (a data view's `fieldFormatMap`, a dashboard's `panelsJSON`,
a search's `searchSourceJSON`); exports and the import API carry them that way. The per-object files
under `kibana/objects/<type>/<id>.json` keep those attributes as plain JSON so reviews see real diffs,
and `encode` turns them back into text for the bundle, as Elastic's package tooling does.
"""

import copy
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

KIBANA_DIR = Path(__file__).resolve().parents[2] / "kibana"
OBJECTS_DIR = KIBANA_DIR / "objects"
BUNDLE_FILE = KIBANA_DIR / "logtrace.ndjson"

# Attribute paths (dotted) that Kibana keeps as JSON text, by saved object type.
ENCODED_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "index-pattern": ("fieldAttrs", "fieldFormatMap", "fields", "runtimeFieldMap", "sourceFilters"),
    "search": ("kibanaSavedObjectMeta.searchSourceJSON",),
    "lens": (),
    "dashboard": ("kibanaSavedObjectMeta.searchSourceJSON", "optionsJSON", "panelsJSON"),
}
# Referenced objects first, so a reader of the bundle meets each object after what it points to.
TYPE_ORDER = tuple(ENCODED_ATTRIBUTES)

SavedObject = dict[str, Any]


def _transform(obj: SavedObject, convert: Any) -> SavedObject:
    """A copy of `obj` with `convert` applied to each of its type's encoded attributes that is present."""
    out = copy.deepcopy(obj)
    for path in ENCODED_ATTRIBUTES.get(obj["type"], ()):
        *parents, leaf = path.split(".")
        holder = out["attributes"]
        for key in parents:
            holder = holder.get(key, {})
        if leaf in holder:
            holder[leaf] = convert(holder[leaf])
    return out


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def encode(obj: SavedObject) -> SavedObject:
    """The object as Kibana exports and imports it: JSON-text attributes as text."""
    return _transform(obj, _dumps)


def decode(obj: SavedObject) -> SavedObject:
    """The object with its JSON-text attributes parsed (the per-object file form)."""
    return _transform(obj, lambda text: json.loads(text) if isinstance(text, str) else text)


def sort_key(obj: SavedObject) -> tuple[int, str]:
    """Bundle order: by type (TYPE_ORDER), then id."""
    return TYPE_ORDER.index(obj["type"]), obj["id"]


def object_path(obj: SavedObject, objects_dir: Path = OBJECTS_DIR) -> Path:
    """Where the per-object file of `obj` lives."""
    return objects_dir / obj["type"] / f"{obj['id']}.json"


def object_file_text(obj: SavedObject) -> str:
    """The per-object file content: indented, keys sorted, so diffs are stable and line-based."""
    return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def load_objects(objects_dir: Path = OBJECTS_DIR) -> list[SavedObject]:
    """Every per-object file under `objects_dir`, in bundle order."""
    objects = [json.loads(path.read_text(encoding="utf-8")) for path in objects_dir.glob("*/*.json")]
    return sorted(objects, key=sort_key)


def to_ndjson(objects: Iterable[SavedObject]) -> str:
    """The import file: one encoded object per line, in bundle order."""
    return "".join(_dumps(encode(obj)) + "\n" for obj in sorted(objects, key=sort_key))


def from_ndjson(text: str) -> list[SavedObject]:
    """The objects of an NDJSON bundle, as written (still encoded); blank lines are skipped."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]
