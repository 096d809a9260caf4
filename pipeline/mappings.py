"""Generates the Elasticsearch index design in mappings/ from the field dictionary mappings/fields.yml.

`python -m pipeline.mappings` writes, as committed plain JSON (a test checks they equal this output):
- component/*.json       component templates: shared settings, the field mappings, the dead-letter
                         fields, and one `@lifecycle` component per data type naming its ILM policy;
- index_templates/*.json one index template per data type, matching only logtrace's own streams;
- ilm/*.json             one ILM policy per data type (hot rollover, warm forcemerge + read-only, delete);
- lifecycle/*.json       the same retention as data stream lifecycle, for clusters without ILM.
The files describe production (a default distribution). `logtrace setup` adapts them to what a cluster
supports (pipeline.setup) and prints every adaptation, using `fallback_types()` from here.

Mapping rules: dotted names nest as objects; `params` are copied; keyword fields get ignore_above 1024
unless their params say otherwise (longer values are kept in _source, not indexed, instead of failing
the document); `dynamic_keyword: true` objects map any sub-field as keyword. Fields under
`logtrace.deadletter.` go only to the dead-letter stream.
"""

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.sink.routing import DATASET_PREFIX

MAPPINGS_DIR = Path(__file__).resolve().parents[1] / "mappings"
FIELDS_FILE = MAPPINGS_DIR / "fields.yml"
# Bump when the index design changes in a way an operator should notice; setup prints old -> new.
SCHEMA_VERSION = 1
MANAGED_BY = "logtrace"
# Above the built-in logs-*-*, metrics-*-*, traces-*-* templates (priority 100) of a default distribution.
PRIORITY = 250
DEADLETTER_PREFIX = "logtrace.deadletter."
KEYWORD_IGNORE_ABOVE = 1024
# Declared fields are ~150; the limit leaves room for dynamic keyword fields and bounds a mapping explosion.
TOTAL_FIELDS_LIMIT = 1500

# Field types a fallback may replace, and the fallbacks' mappings.
FALLBACK_MAPPINGS: dict[str, dict[str, Any]] = {
    "text": {"type": "text"},
    "keyword": {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE},
    "object_disabled": {"type": "object", "enabled": False},
    "keyword_noindex": {"type": "keyword", "index": False, "doc_values": False},
}
# Every type an entry may declare (the subset of Elasticsearch field types logtrace uses).
KNOWN_TYPES = frozenset(
    {
        "keyword",
        "constant_keyword",
        "wildcard",
        "text",
        "match_only_text",
        "long",
        "integer",
        "short",
        "byte",
        "double",
        "float",
        "half_float",
        "scaled_float",
        "unsigned_long",
        "boolean",
        "date",
        "date_nanos",
        "ip",
        "object",
        "flattened",
        "nested",
        "geo_point",
        "version",
    }
)


class FieldDictionaryError(ValueError):
    """fields.yml has an entry the generator cannot turn into a mapping."""


# The four kinds of data stream logtrace writes: index pattern, default retention, template priority.
DATA_TYPES: dict[str, dict[str, Any]] = {
    "logs": {"pattern": f"logs-{DATASET_PREFIX}*-*", "retention_days": 30, "priority": PRIORITY},
    "traces": {"pattern": f"traces-{DATASET_PREFIX}*-*", "retention_days": 7, "priority": PRIORITY},
    "metrics": {"pattern": f"metrics-{DATASET_PREFIX}*-*", "retention_days": 90, "priority": PRIORITY},
    # More specific than logs-logtrace.*-*; two templates may not match one name at the same priority.
    "deadletter": {
        "pattern": f"logs-{DATASET_PREFIX}deadletter-*",
        "retention_days": 14,
        "priority": PRIORITY + 1,
    },
}


def load_fields(path: Path = FIELDS_FILE) -> dict[str, dict[str, Any]]:
    """The `fields:` mapping of the field dictionary."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)["fields"]


def field_mapping(name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The production mapping of one dictionary entry."""
    field_type = entry.get("type")
    if field_type not in KNOWN_TYPES:
        raise FieldDictionaryError(f"{name}: unknown type {field_type!r}")
    fallback = entry.get("fallback")
    if fallback is not None and fallback not in FALLBACK_MAPPINGS:
        raise FieldDictionaryError(
            f"{name}: unknown fallback {fallback!r} (one of {sorted(FALLBACK_MAPPINGS)})"
        )
    mapping: dict[str, Any] = {"type": field_type}
    if field_type == "keyword":
        mapping["ignore_above"] = KEYWORD_IGNORE_ABOVE
    params = entry.get("params") or {}
    if not isinstance(params, dict):
        raise FieldDictionaryError(f"{name}: params must be a mapping")
    mapping.update(params)
    return mapping


def _insert(properties: dict[str, Any], name: str, mapping: dict[str, Any]) -> None:
    """Put `mapping` at dotted `name` inside nested `properties`, refusing leaf/object clashes."""
    *parents, leaf = name.split(".")
    node = properties
    for i, part in enumerate(parents):
        child = node.setdefault(part, {"properties": {}})
        if "properties" not in child:
            raise FieldDictionaryError(
                f"{name}: {'.'.join(parents[: i + 1])} is declared as a {child.get('type')}"
            )
        node = child["properties"]
    if leaf in node:
        raise FieldDictionaryError(f"{name}: declared twice or clashes with a sub-field")
    node[leaf] = mapping


def properties_for(fields: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Nested `properties` of the given entries."""
    properties: dict[str, Any] = {}
    for name, entry in fields.items():
        _insert(properties, name, field_mapping(name, entry))
    return properties


def dynamic_templates(fields: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Keyword sub-fields for `dynamic_keyword` objects, then: any unknown string is a keyword."""
    keyword = {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE}
    templates = [
        {f"{name.replace('.', '_')}_as_keyword": {"path_match": f"{name}.*", "mapping": keyword}}
        for name, entry in fields.items()
        if entry.get("dynamic_keyword")
    ]
    templates.append({"strings_as_keyword": {"match_mapping_type": "string", "mapping": keyword}})
    return templates


def fallback_types(fields: dict[str, dict[str, Any]] | None = None) -> dict[str, tuple[str, str]]:
    """Dotted field name -> (production type, fallback) for every entry that declares a fallback."""
    fields = load_fields() if fields is None else fields
    return {
        name: (entry["type"], entry["fallback"]) for name, entry in fields.items() if entry.get("fallback")
    }


def digest(body: dict[str, Any]) -> str:
    """Short content hash of a body without its `_meta` (setup compares these to detect changes)."""
    content = {key: value for key, value in body.items() if key != "_meta"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def with_meta(body: dict[str, Any], description: str) -> dict[str, Any]:
    """`body` with `_meta` (managed_by, version, digest, description)."""
    meta = {
        "managed_by": MANAGED_BY,
        "version": SCHEMA_VERSION,
        "digest": digest(body),
        "description": description,
    }
    return {**body, "_meta": meta}


def ilm_policy(kind: str, retention_days: int) -> dict[str, Any]:
    """ILM policy body: hot rollover, warm forcemerge + read-only after 2 days, delete at the retention."""
    warm_days = min(2, retention_days - 1)
    return {
        "policy": with_meta(
            {
                "phases": {
                    "hot": {
                        "min_age": "0ms",
                        "actions": {
                            "rollover": {"max_primary_shard_size": "50gb", "max_age": "1d"},
                            "set_priority": {"priority": 100},
                        },
                    },
                    "warm": {
                        "min_age": f"{warm_days}d",
                        "actions": {
                            "forcemerge": {"max_num_segments": 1},
                            "readonly": {},
                            "set_priority": {"priority": 50},
                        },
                    },
                    "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}},
                },
            },
            f"logtrace {kind}: rollover daily or at 50gb a primary shard, delete after {retention_days} days",
        ),
    }


def policy_name(kind: str) -> str:
    """The ILM policy (and lifecycle file) name of a data type."""
    return f"logtrace-{kind}"


def generate(fields: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Relative path under mappings/ -> JSON body, for every generated file."""
    fields = load_fields() if fields is None else fields
    common = {name: entry for name, entry in fields.items() if not name.startswith(DEADLETTER_PREFIX)}
    deadletter = {name: entry for name, entry in fields.items() if name.startswith(DEADLETTER_PREFIX)}
    files: dict[str, dict[str, Any]] = {
        "component/logtrace@settings.json": with_meta(
            {
                "template": {
                    "settings": {
                        # 1 replica given a second node, 0 on a single dev node: one file for both.
                        "index.auto_expand_replicas": "0-1",
                        "index.mapping.total_fields.limit": TOTAL_FIELDS_LIMIT,
                        # A malformed number/date/ip drops that field (see _ignored), not the document.
                        "index.mapping.ignore_malformed": True,
                    }
                }
            },
            "logtrace index settings",
        ),
        "component/logtrace@mappings.json": with_meta(
            {
                "template": {
                    "mappings": {
                        "dynamic": True,
                        "dynamic_templates": dynamic_templates(common),
                        "properties": properties_for(common),
                    }
                }
            },
            "logtrace fields, generated from mappings/fields.yml",
        ),
        "component/logtrace-deadletter@mappings.json": with_meta(
            {
                "template": {
                    "mappings": {
                        "properties": properties_for(deadletter),
                    }
                }
            },
            "logtrace dead-letter fields, generated from mappings/fields.yml",
        ),
    }
    for kind, spec in DATA_TYPES.items():
        retention = spec["retention_days"]
        files[f"component/logtrace-{kind}@lifecycle.json"] = with_meta(
            {"template": {"settings": {"index.lifecycle.name": policy_name(kind)}}},
            f"logtrace {kind} lifecycle: ILM policy {policy_name(kind)}",
        )
        files[f"ilm/{policy_name(kind)}.json"] = ilm_policy(kind, retention)
        files[f"lifecycle/{policy_name(kind)}.json"] = {"data_retention": f"{retention}d"}
        composed = ["logtrace@settings", "logtrace@mappings"]
        if kind == "deadletter":
            composed.append("logtrace-deadletter@mappings")
        composed.append(f"logtrace-{kind}@lifecycle")
        files[f"index_templates/logtrace-{kind}.json"] = with_meta(
            {
                "index_patterns": [spec["pattern"]],
                "priority": spec["priority"],
                "data_stream": {},
                "composed_of": composed,
            },
            f"logtrace {kind} data streams",
        )
    return files


def render(body: dict[str, Any]) -> str:
    """The committed text of a generated file."""
    return json.dumps(body, indent=2, sort_keys=False) + "\n"


def write(root: Path = MAPPINGS_DIR) -> list[Path]:
    """Write every generated file below `root`; returns the paths that changed."""
    changed = []
    for relative, body in generate().items():
        path = root / relative
        text = render(body)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":
    for changed_path in write():
        print(f"wrote {changed_path.relative_to(MAPPINGS_DIR.parent)}")
    sys.exit(0)
