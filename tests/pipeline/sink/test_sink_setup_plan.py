"""`logtrace setup` planning without Elasticsearch: adaptations per capability set, and the plan."""

import copy

import pytest

from pipeline.config.lifecycle import LifecycleSettings
from pipeline.setup import Desired, desired, plan

FULL = {
    "ilm": True,
    "data_streams": True,
    "data_stream_api": True,
    "data_stream_lifecycle": True,
    "match_only_text": True,
    "flattened": True,
    "wildcard": True,
    "constant_keyword": True,
}
DEV = {
    "ilm": False,
    "data_streams": True,
    "data_stream_api": False,
    "data_stream_lifecycle": False,
    "match_only_text": False,
    "flattened": True,
    "wildcard": False,
}


def by_name(want: Desired) -> dict[str, dict]:
    """Templates by name, ILM policies as `policy:<name>` (a policy may share its template's name)."""
    return {f"policy:{r.name}" if r.kind == "ilm_policy" else r.name: r.body for r in want.resources}


def current_of(want: Desired) -> dict:
    return {(r.kind, r.name): copy.deepcopy(r.body) for r in want.resources}


def test_default_distribution_installs_policies_and_production_types() -> None:
    want = desired(FULL, LifecycleSettings())
    bodies = by_name(want)
    assert [r.kind for r in want.resources[:4]] == ["ilm_policy"] * 4
    assert want.notes == [] and want.warnings == []
    props = bodies["logtrace@mappings"]["template"]["mappings"]["properties"]
    assert props["message"]["type"] == "match_only_text" and props["data_stream"]["properties"]["type"][
        "type"
    ] == ("constant_keyword")
    assert (
        bodies["logtrace-logs@lifecycle"]["template"]["settings"]["index.lifecycle.name"] == "logtrace-logs"
    )


def test_minimal_node_gets_explicit_fallbacks_and_a_retention_warning() -> None:
    want = desired(DEV, LifecycleSettings())
    bodies = by_name(want)
    assert not any(r.kind == "ilm_policy" for r in want.resources)
    props = bodies["logtrace@mappings"]["template"]["mappings"]["properties"]
    assert props["message"] == {"type": "text"}
    assert props["error"]["properties"]["stack_trace"] == {
        "type": "keyword",
        "index": False,
        "doc_values": False,
    }
    assert props["attributes"] == {"type": "flattened"}
    assert any(n.startswith("logtrace@mappings: message: match_only_text -> text") for n in want.notes)
    assert any("constant_keyword" in n and "not assumed" in n for n in want.notes)
    assert bodies["logtrace-logs@lifecycle"]["template"] == {}
    assert "retention is NOT enforced" in want.warnings[0]
    # The adaptation is visible in the installed body, not only on the console.
    assert bodies["logtrace@mappings"]["_meta"]["adapted"]


def test_without_ilm_but_with_lifecycle_the_retention_moves_to_the_template() -> None:
    want = desired({**DEV, "data_stream_lifecycle": True}, LifecycleSettings(logs_retention_days=45))
    bodies = by_name(want)
    assert bodies["logtrace-logs@lifecycle"]["template"] == {"lifecycle": {"data_retention": "45d"}}
    assert bodies["logtrace-traces@lifecycle"]["template"] == {"lifecycle": {"data_retention": "7d"}}
    assert want.warnings == [] and want.dsl_retention["deadletter"] == "14d"


def test_configured_retention_reaches_the_policy() -> None:
    want = desired(FULL, LifecycleSettings(metrics_retention_days=120, rollover_max_age="12h"))
    policy = by_name(want)["policy:logtrace-metrics"]["policy"]
    assert policy["phases"]["delete"]["min_age"] == "120d"
    assert policy["phases"]["hot"]["actions"]["rollover"]["max_age"] == "12h"


@pytest.mark.parametrize("capabilities", [FULL, DEV])
def test_second_run_is_a_no_op(capabilities: dict) -> None:
    want = desired(capabilities, LifecycleSettings())
    actions = plan(want, current_of(want), ["logs-logtrace.app-default"])
    assert {a.verb for a in actions} == {"unchanged"}


def test_first_run_creates_everything_in_dependency_order() -> None:
    want = desired(FULL, LifecycleSettings())
    actions = plan(want, {}, [], ("logs-logtrace.deadletter-default",))
    kinds = [a.kind for a in actions if a.verb == "create"]
    assert kinds == sorted(
        kinds, key=["ilm_policy", "component_template", "index_template", "data_stream"].index
    )
    assert actions[-1].name == "logs-logtrace.deadletter-default"


def test_mapping_change_updates_and_rolls_over_the_affected_streams_only() -> None:
    want = desired(DEV, LifecycleSettings())
    current = current_of(want)
    old = current[("component_template", "logtrace-deadletter@mappings")]
    digest = old["_meta"]["digest"]
    old["_meta"] = {**old["_meta"], "digest": "old", "version": 0}
    actions = plan(want, current, ["logs-logtrace.app-default", "logs-logtrace.deadletter-default"])
    changed = [(a.verb, a.name, a.detail) for a in actions if a.verb != "unchanged"]
    assert changed == [
        ("update", "logtrace-deadletter@mappings", f"version 0 -> 1, digest old -> {digest}"),
        (
            "rollover",
            "logs-logtrace.deadletter-default",
            "new mappings/settings from logtrace-deadletter@mappings",
        ),
    ]


def test_policy_change_needs_no_rollover_and_unmanaged_bodies_are_replaced() -> None:
    want = desired(FULL, LifecycleSettings())
    current = current_of(want)
    current[("ilm_policy", "logtrace-logs")] = {"policy": {"phases": {}}}
    actions = plan(want, current, ["logs-logtrace.app-default"])
    assert [(a.verb, a.kind, a.name) for a in actions if a.verb != "unchanged"] == [
        ("update", "ilm_policy", "logtrace-logs")
    ]
    assert actions[0].detail.startswith("version unmanaged -> 1, digest None -> ")


def test_lifecycle_change_is_applied_to_existing_streams() -> None:
    want = desired({**DEV, "data_stream_lifecycle": True}, LifecycleSettings(traces_retention_days=3))
    current = current_of(want)
    current[("component_template", "logtrace-traces@lifecycle")]["_meta"]["digest"] = "old"
    actions = plan(want, current, ["traces-logtrace.span-default"])
    assert [(a.verb, a.name) for a in actions if a.verb != "unchanged"] == [
        ("update", "logtrace-traces@lifecycle"),
        ("lifecycle", "traces-logtrace.span-default"),
    ]
    assert actions[-1].detail == "retention 3d"
