"""The committed index design equals the generator's output, and every field maps to a valid type."""

import json

import pytest

from pipeline import mappings
from pipeline.sink.routing import KINDS

ES_TYPES_WITH_PARAMS = {
    "keyword": {"ignore_above", "index", "doc_values", "null_value", "normalizer", "store"},
    "ip": {"ignore_malformed", "index", "doc_values"},
    "long": {"ignore_malformed", "index", "doc_values", "coerce"},
    "flattened": {"ignore_above", "depth_limit"},
}


def test_committed_files_equal_the_generator_output() -> None:
    generated = {path: mappings.render(body) for path, body in mappings.generate().items()}
    committed = {
        str(path.relative_to(mappings.MAPPINGS_DIR)): path.read_text(encoding="utf-8")
        for directory in ("component", "index_templates", "ilm", "lifecycle")
        for path in (mappings.MAPPINGS_DIR / directory).glob("*.json")
    }
    assert committed == generated, "run `python -m pipeline.mappings` and commit mappings/"


FIELDS = mappings.load_fields()


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_field_maps_to_a_known_type(name: str) -> None:
    entry = FIELDS[name]
    mapping = mappings.field_mapping(name, entry)
    assert mapping["type"] in mappings.KNOWN_TYPES
    for param in entry.get("params") or {}:
        assert param in ES_TYPES_WITH_PARAMS.get(mapping["type"], set()), (
            f"{name}: {param} on {mapping['type']}"
        )
    if "fallback" in entry:
        assert entry["fallback"] in mappings.FALLBACK_MAPPINGS


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"type": "strng"}, "unknown type"),
        ({"type": "keyword", "fallback": "nothing"}, "unknown fallback"),
        ({"type": "keyword", "params": ["x"]}, "params"),
    ],
)
def test_bad_entries_are_refused(entry: dict, message: str) -> None:
    with pytest.raises(mappings.FieldDictionaryError, match=message):
        mappings.field_mapping("x", entry)


def test_leaf_and_object_clash_is_refused() -> None:
    with pytest.raises(mappings.FieldDictionaryError, match="declared as a keyword"):
        mappings.properties_for({"a": {"type": "keyword"}, "a.b": {"type": "long"}})


def test_nesting_and_keyword_defaults() -> None:
    properties = mappings.properties_for(
        {
            "a.b": {"type": "keyword"},
            "a.c": {"type": "long"},
            "u": {"type": "keyword", "params": {"ignore_above": 8191}},
        }
    )
    assert properties == {
        "a": {"properties": {"b": {"type": "keyword", "ignore_above": 1024}, "c": {"type": "long"}}},
        "u": {"type": "keyword", "ignore_above": 8191},
    }


def test_index_templates_match_only_logtrace_streams_above_the_builtins() -> None:
    generated = mappings.generate()
    templates = {path: body for path, body in generated.items() if path.startswith("index_templates/")}
    patterns = sorted(p for body in templates.values() for p in body["index_patterns"])
    assert patterns == [
        "logs-logtrace.*-*",
        "logs-logtrace.deadletter-*",
        "metrics-logtrace.*-*",
        "traces-logtrace.*-*",
    ]
    for body in templates.values():
        assert body["priority"] > 200 and body["data_stream"] == {}
        assert (
            body["_meta"]["managed_by"] == "logtrace" and body["_meta"]["version"] == mappings.SCHEMA_VERSION
        )
        for component in body["composed_of"]:
            assert f"component/{component}.json" in generated
    assert {p.split("-")[0] for p in patterns} == set(KINDS)


def test_each_template_references_its_own_policy() -> None:
    generated = mappings.generate()
    for kind, spec in mappings.DATA_TYPES.items():
        template = generated[f"index_templates/logtrace-{kind}.json"]
        lifecycle = generated[f"component/logtrace-{kind}@lifecycle.json"]
        assert f"logtrace-{kind}@lifecycle" in template["composed_of"]
        assert lifecycle["template"]["settings"]["index.lifecycle.name"] == f"logtrace-{kind}"
        policy = generated[f"ilm/logtrace-{kind}.json"]["policy"]
        assert policy["phases"]["delete"]["min_age"] == f"{spec['retention_days']}d"
        assert generated[f"lifecycle/logtrace-{kind}.json"] == {
            "data_retention": f"{spec['retention_days']}d"
        }


def test_default_retention() -> None:
    assert {k: v["retention_days"] for k, v in mappings.DATA_TYPES.items()} == {
        "logs": 30,
        "traces": 7,
        "metrics": 90,
        "deadletter": 14,
    }


def test_policies_are_structurally_sound() -> None:
    """Python-side check; tests/integration/sink runs Elasticsearch's own ILM parser on the same files."""
    for path in (mappings.MAPPINGS_DIR / "ilm").glob("*.json"):
        phases = json.loads(path.read_text())["policy"]["phases"]
        assert list(phases) == ["hot", "warm", "delete"]
        assert set(phases["hot"]["actions"]["rollover"]) == {"max_primary_shard_size", "max_age"}
        assert {"forcemerge", "readonly"} <= set(phases["warm"]["actions"])
        ages = [int(phases[p]["min_age"].rstrip("dms")) for p in ("warm", "delete")]
        assert ages[0] < ages[1]


def test_dynamic_strings_become_bounded_keywords() -> None:
    body = mappings.generate()["component/logtrace@mappings.json"]["template"]["mappings"]
    assert body["dynamic_templates"][-1] == {
        "strings_as_keyword": {
            "match_mapping_type": "string",
            "mapping": {"type": "keyword", "ignore_above": 1024},
        }
    }
    assert body["properties"]["attributes"] == {"type": "flattened"}
    settings = mappings.generate()["component/logtrace@settings.json"]["template"]["settings"]
    assert settings["index.mapping.total_fields.limit"] == mappings.TOTAL_FIELDS_LIMIT


def test_deadletter_fields_only_in_the_deadletter_component() -> None:
    generated = mappings.generate()
    common = generated["component/logtrace@mappings.json"]["template"]["mappings"]["properties"]
    dead = generated["component/logtrace-deadletter@mappings.json"]["template"]["mappings"]["properties"]
    assert "deadletter" not in common["logtrace"]["properties"]
    assert set(dead["logtrace"]["properties"]["deadletter"]["properties"]) >= {
        "reason",
        "payload",
        "sha256",
        "size",
    }
