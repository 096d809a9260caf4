"""Pure planning of `logtrace setup`: the desired index design for a cluster, and what to do to get there.

`desired()` loads the committed JSON of mappings/ and adapts it to the cluster's capabilities, each
adaptation explicit and reported (a field type the cluster lacks gets the fallback from fields.yml;
without ILM the lifecycle becomes data stream lifecycle retention or, lacking that too, nothing, with a
warning). `plan()` compares it with what the cluster has, by the `_meta.digest` of each body, and
lists creates, updates, untouched resources and the data streams to roll over because their mappings
or settings changed (a mapping change only reaches new backing indices).
"""

import copy
import fnmatch
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.config.lifecycle import LifecycleSettings
from pipeline.mappings import (
    DATA_TYPES,
    FALLBACK_MAPPINGS,
    MANAGED_BY,
    MAPPINGS_DIR,
    digest,
    fallback_types,
    policy_name,
)

Kind = Literal["ilm_policy", "component_template", "index_template"]
Verb = Literal["create", "update", "unchanged", "rollover", "lifecycle"]
# Resources are applied in this order: a template may only reference what exists.
KIND_ORDER: tuple[Kind, ...] = ("ilm_policy", "component_template", "index_template")
# Field types every distribution has; any other type with a fallback is checked against the probe.
CORE_TYPES = frozenset(
    {"keyword", "text", "long", "float", "double", "boolean", "date", "date_nanos", "ip", "object"}
)


@dataclass(frozen=True, slots=True)
class Resource:
    """One body to PUT: an ILM policy, a component template or an index template."""

    kind: Kind
    name: str
    body: dict[str, Any]

    @property
    def path(self) -> str:
        prefix = {
            "ilm_policy": "_ilm/policy",
            "component_template": "_component_template",
            "index_template": "_index_template",
        }[self.kind]
        return f"/{prefix}/{self.name}"

    @property
    def meta(self) -> dict[str, Any]:
        return meta_of(self.kind, self.body)


@dataclass(frozen=True, slots=True)
class Action:
    """One step of the plan, printed as is; `resource` is set for create/update."""

    verb: Verb
    kind: str
    name: str
    detail: str = ""
    resource: Resource | None = None


@dataclass(slots=True)
class Desired:
    """The adapted design: resources in apply order, plus every adaptation and warning to print."""

    resources: list[Resource] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Data type -> retention in days, when the cluster enforces it through data stream lifecycle.
    dsl_retention: dict[str, str] = field(default_factory=dict)


def meta_of(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The `_meta` of a body (ILM policies keep it inside `policy`)."""
    holder = body.get("policy", {}) if kind == "ilm_policy" else body
    meta = holder.get("_meta")
    return meta if isinstance(meta, dict) else {}


def load_json_dir(name: str, root: Path = MAPPINGS_DIR) -> dict[str, dict[str, Any]]:
    """File stem -> body for every JSON file in mappings/<name>/."""
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((root / name).glob("*.json"))
    }


def type_supported(field_type: str, capabilities: dict[str, bool]) -> tuple[bool, str]:
    """Whether the cluster has `field_type`, and why we think so."""
    if field_type in capabilities:
        return capabilities[field_type], f"the cluster lacks {field_type}, per the capability probe"
    if field_type in CORE_TYPES:
        return True, "core type"
    return False, f"the capability probe does not report {field_type}, so it is not assumed"


def _field_node(properties: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    *parents, leaf = dotted.split(".")
    node = properties
    for part in parents:
        node = node.get(part, {}).get("properties", {})
    return node.get(leaf)


def adapt_mappings(
    body: dict[str, Any], capabilities: dict[str, bool], fallbacks: dict[str, tuple[str, str]]
) -> tuple[dict[str, Any], list[str]]:
    """A component template body with each unsupported field type replaced by its fallback."""
    adapted = copy.deepcopy(body)
    properties = adapted.get("template", {}).get("mappings", {}).get("properties", {})
    notes = []
    for name, (field_type, fallback) in sorted(fallbacks.items()):
        node = _field_node(properties, name)
        if node is None or node.get("type") != field_type:
            continue
        supported, why = type_supported(field_type, capabilities)
        if not supported:
            node.clear()
            node.update(FALLBACK_MAPPINGS[fallback])
            notes.append(f"{name}: {field_type} -> {fallback} ({why})")
    return adapted, notes


def ilm_body(policy: dict[str, Any], kind: str, settings: LifecycleSettings) -> dict[str, Any]:
    """A committed ILM policy with the configured retention and rollover conditions written into it."""
    body = copy.deepcopy(policy)
    phases = body["policy"]["phases"]
    phases["delete"]["min_age"] = f"{settings.retention_days(kind)}d"
    rollover = phases["hot"]["actions"]["rollover"]
    rollover["max_primary_shard_size"] = settings.rollover_max_primary_shard_size
    rollover["max_age"] = settings.rollover_max_age
    return body


def _restamp(kind: Kind, body: dict[str, Any], adaptations: list[str]) -> dict[str, Any]:
    """Recompute `_meta.digest` after an adaptation and record the adaptations in `_meta`."""
    holder = body["policy"] if kind == "ilm_policy" else body
    meta = dict(holder.get("_meta", {}))
    meta["digest"] = digest(holder)
    if adaptations:
        meta["adapted"] = adaptations
    holder["_meta"] = meta
    return body


def desired(capabilities: dict[str, bool], settings: LifecycleSettings, root: Path = MAPPINGS_DIR) -> Desired:
    """The resources to install on a cluster with `capabilities` (keys of pipeline.capabilities)."""
    result = Desired()
    components = load_json_dir("component", root)
    fallbacks = fallback_types()
    ilm = capabilities.get("ilm", False)
    dsl = not ilm and capabilities.get("data_stream_lifecycle", False)
    if ilm:
        for kind in DATA_TYPES:
            body = ilm_body(load_json_dir("ilm", root)[policy_name(kind)], kind, settings)
            result.resources.append(
                Resource("ilm_policy", policy_name(kind), _restamp("ilm_policy", body, []))
            )
    elif dsl:
        result.notes.append(
            "no ILM: retention is enforced by data stream lifecycle (no rollover or warm phase)"
        )
    else:
        result.warnings.append(
            "this cluster has neither ILM nor data stream lifecycle: retention is NOT enforced and backing "
            "indices are never rolled over or deleted. Delete old backing indices yourself (DELETE "
            "/.ds-<stream>-<date>-*), or run `logtrace setup` against a default distribution, which has ILM."
        )
    for name, body in components.items():
        adaptations: list[str] = []
        if name.endswith("@mappings"):
            body, adaptations = adapt_mappings(body, capabilities, fallbacks)
        elif name.endswith("@lifecycle"):
            kind = name.removeprefix("logtrace-").removesuffix("@lifecycle")
            body, adaptations = _lifecycle_component(body, kind, ilm, dsl, settings)
            if dsl:
                result.dsl_retention[kind] = f"{settings.retention_days(kind)}d"
        result.notes.extend(f"{name}: {text}" for text in adaptations)
        result.resources.append(
            Resource("component_template", name, _restamp("component_template", body, adaptations))
        )
    for name, body in load_json_dir("index_templates", root).items():
        result.resources.append(Resource("index_template", name, body))
    return result


def _lifecycle_component(
    body: dict[str, Any], kind: str, ilm: bool, dsl: bool, settings: LifecycleSettings
) -> tuple[dict[str, Any], list[str]]:
    if ilm:
        return copy.deepcopy(body), []
    meta = body.get("_meta", {})
    if dsl:
        retention = f"{settings.retention_days(kind)}d"
        return (
            {"template": {"lifecycle": {"data_retention": retention}}, "_meta": meta},
            [f"ILM policy {policy_name(kind)} -> data stream lifecycle retention {retention}"],
        )
    return {"template": {}, "_meta": meta}, [
        f"ILM policy {policy_name(kind)} dropped: retention not enforced"
    ]


def template_for(stream: str, templates: list[Resource]) -> Resource | None:
    """The index template Elasticsearch would apply to `stream`: the highest-priority matching one."""
    matching = [t for t in templates if any(fnmatch.fnmatchcase(stream, p) for p in t.body["index_patterns"])]
    return max(matching, key=lambda t: t.body.get("priority", 0), default=None)


def plan(
    want: Desired,
    current: dict[tuple[str, str], dict[str, Any] | None],
    streams: list[str],
    create_streams: tuple[str, ...] = (),
) -> list[Action]:
    """Actions that bring the cluster from `current` ((kind, name) -> body or None) to `want`.

    `streams` are the existing logtrace data streams; those whose template or any of its components
    changes are rolled over so the new mappings/settings reach their next backing index.
    `create_streams` are data streams to create when missing (pass none where the cluster lacks the
    data stream API: there a stream appears on its first write).
    """
    actions: list[Action] = []
    # Component and index template names that change (policy names may equal template names).
    changed: set[str] = set()
    for resource in sorted(want.resources, key=lambda r: KIND_ORDER.index(r.kind)):
        existing = current.get((resource.kind, resource.name))
        new_meta = resource.meta
        if existing is None:
            verb: Verb = "create"
            detail = f"version {new_meta.get('version')}"
        else:
            old_meta = meta_of(resource.kind, existing)
            if old_meta.get("digest") == new_meta.get("digest") and old_meta.get("managed_by") == MANAGED_BY:
                actions.append(
                    Action("unchanged", resource.kind, resource.name, f"version {old_meta.get('version')}")
                )
                continue
            verb = "update"
            detail = (
                f"version {old_meta.get('version', 'unmanaged')} -> {new_meta.get('version')}, "
                f"digest {old_meta.get('digest')} -> {new_meta.get('digest')}"
            )
        actions.append(Action(verb, resource.kind, resource.name, detail, resource))
        if resource.kind != "ilm_policy":
            changed.add(resource.name)
    templates = [r for r in want.resources if r.kind == "index_template"]
    actions.extend(Action("create", "data_stream", name) for name in create_streams if name not in streams)
    for stream in sorted(streams):
        template = template_for(stream, templates)
        if template is None:
            continue
        reasons = sorted(
            n
            for n in (template.name, *template.body["composed_of"])
            if n in changed and not n.endswith("@lifecycle")
        )
        if reasons:
            actions.append(
                Action("rollover", "data_stream", stream, f"new mappings/settings from {', '.join(reasons)}")
            )
        # Data stream lifecycle in a template only reaches new streams: existing ones are set directly.
        kind = template.name.removeprefix("logtrace-")
        if kind in want.dsl_retention and f"logtrace-{kind}@lifecycle" in changed:
            actions.append(
                Action("lifecycle", "data_stream", stream, f"retention {want.dsl_retention[kind]}")
            )
    return actions
