"""The committed bundle: what Kibana's import needs of each line, references, layout, reproducible build."""

import json
from collections import Counter
from pathlib import Path

import pytest

from pipeline.kibana import build as bundle_build
from pipeline.kibana.bundle import (
    BUNDLE_FILE,
    ENCODED_ATTRIBUTES,
    OBJECTS_DIR,
    decode,
    encode,
    from_ndjson,
    load_objects,
    to_ndjson,
)
from pipeline.kibana.dashboards import GRID_COLUMNS
from pipeline.kibana.links import TRACE_SEARCH_ID
from pipeline.kibana.saved import CORE_MIGRATION_VERSION, TYPE_MIGRATION_VERSIONS

pytestmark = pytest.mark.timeout(20)

LINES = BUNDLE_FILE.read_text("utf-8").splitlines()
RAW = [json.loads(line) for line in LINES]
OBJECTS = [decode(obj) for obj in RAW]
BY_KEY = {(obj["type"], obj["id"]): obj for obj in OBJECTS}
REQUIRED_KEYS = {
    "attributes", "coreMigrationVersion", "id", "managed", "references", "type", "typeMigrationVersion",
}


def of_type(kind: str) -> list[dict]:
    return [obj for obj in OBJECTS if obj["type"] == kind]


def test_every_line_is_one_json_object_with_the_keys_kibana_needs() -> None:
    assert LINES and all(line.strip() for line in LINES)
    for obj in RAW:
        assert set(obj) == REQUIRED_KEYS, obj["id"]
        assert obj["coreMigrationVersion"] == CORE_MIGRATION_VERSION
        assert obj["typeMigrationVersion"] == TYPE_MIGRATION_VERSIONS[obj["type"]]
        assert obj["managed"] is False
        assert obj["attributes"]["title"]
        for ref in obj["references"]:
            assert set(ref) == {"id", "name", "type"}


def test_attributes_kibana_stores_as_json_text_are_json_text() -> None:
    for obj in RAW:
        for path in ENCODED_ATTRIBUTES[obj["type"]]:
            holder = obj["attributes"]
            *parents, leaf = path.split(".")
            for key in parents:
                holder = holder[key]
            assert isinstance(holder[leaf], str), f"{obj['id']}: {path}"
            json.loads(holder[leaf])
        if obj["type"] == "lens":
            assert isinstance(obj["attributes"]["state"], dict)


def test_the_bundle_has_the_objects_the_issue_asks_for() -> None:
    counts = Counter(obj["type"] for obj in OBJECTS)
    assert counts["index-pattern"] == 6
    assert counts["search"] == 4
    assert counts["dashboard"] >= 5
    titles = {obj["attributes"]["title"] for obj in of_type("search")}
    assert titles == {"Trace: all logs and spans for a trace id", "Errors", "Slow traces", "Dead letters"}
    dashboards = {obj["attributes"]["title"] for obj in of_type("dashboard")}
    for name in ("Service overview", "Errors", "Latency", "Log volume", "Pipeline health"):
        assert f"logtrace: {name}" in dashboards


def test_ids_are_unique_and_stable() -> None:
    ids = [obj["id"] for obj in OBJECTS]
    assert len(ids) == len(set(ids))
    assert all(obj_id.startswith("logtrace-") for obj_id in ids)


def test_every_reference_resolves_inside_the_bundle() -> None:
    for obj in OBJECTS:
        names = [ref["name"] for ref in obj["references"]]
        assert len(names) == len(set(names)), obj["id"]
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in BY_KEY, f"{obj['id']} -> {ref['type']}:{ref['id']}"


def test_saved_searches_point_at_their_data_view_through_index_ref_name() -> None:
    for obj in of_type("search"):
        source = obj["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"]
        refs = {ref["name"]: ref for ref in obj["references"]}
        assert refs[source["indexRefName"]]["type"] == "index-pattern"
        assert source["query"]["language"] == "lucene"
        assert obj["attributes"]["columns"]


def test_lens_layers_reference_their_data_view_and_accessors_name_real_columns() -> None:
    for obj in of_type("lens"):
        state = obj["attributes"]["state"]
        refs = {ref["name"] for ref in obj["references"]}
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            assert f"indexpattern-datasource-layer-{layer_id}" in refs
            columns = layer["columns"]
            assert sorted(layer["columnOrder"]) == sorted(columns)
            for column in columns.values():
                order_by = column.get("params", {}).get("orderBy", {})
                if order_by.get("type") == "column":
                    assert order_by["columnId"] in columns, obj["id"]
        visualization = state["visualization"]
        used = set()
        for layer in visualization.get("layers", []):
            used |= {*layer["accessors"], layer["xAccessor"], layer.get("splitAccessor", layer["xAccessor"])}
        used |= {column["columnId"] for column in visualization.get("columns", [])}
        all_columns = {cid for layer in state["datasourceStates"]["formBased"]["layers"].values()
                       for cid in layer["columns"]}
        assert used == all_columns, obj["id"]


def test_dashboard_panels_resolve_and_tile_the_grid_without_overlap() -> None:
    for obj in of_type("dashboard"):
        refs = {ref["name"]: ref for ref in obj["references"]}
        cells: set[tuple[int, int]] = set()
        for panel in obj["attributes"]["panelsJSON"]:
            grid = panel["gridData"]
            assert grid["i"] == panel["panelIndex"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_COLUMNS
            area = {(x, y) for x in range(grid["x"], grid["x"] + grid["w"])
                    for y in range(grid["y"], grid["y"] + grid["h"])}
            assert not cells & area, f"{obj['id']}: panel {panel['panelIndex']} overlaps"
            cells |= area
            if "panelRefName" in panel:
                ref = refs[f"{panel['panelIndex']}:{panel['panelRefName']}"]
                assert ref["type"] == panel["type"]
            else:  # the by-value navigation panel
                assert panel["embeddableConfig"]["savedVis"]["type"] == "markdown"
        assert len(refs) == sum("panelRefName" in panel for panel in obj["attributes"]["panelsJSON"])


def test_the_navigation_links_every_dashboard_and_the_trace_search() -> None:
    dashboards = {obj["id"] for obj in of_type("dashboard")}
    for obj in of_type("dashboard"):
        markdown = obj["attributes"]["panelsJSON"][0]["embeddableConfig"]["savedVis"]["params"]["markdown"]
        for other in dashboards - {obj["id"]}:
            assert f"(#/view/{other})" in markdown
        assert f"(discover#/view/{TRACE_SEARCH_ID})" in markdown


def test_data_views_have_a_time_field_and_durations_and_trace_links_formatted() -> None:
    for obj in of_type("index-pattern"):
        attributes = obj["attributes"]
        assert attributes["timeFieldName"] == "@timestamp"
        formats = attributes["fieldFormatMap"]
        for name, spec in formats.items():
            if name.endswith(("duration", ".us", "_ms", "self_time")) or name.startswith("metrics.duration"):
                assert spec["id"] == "duration", name
        if "event.duration" in formats:
            assert formats["event.duration"]["params"]["inputFormat"] == "nanoseconds"
        if "span.duration.us" in formats:
            assert formats["span.duration.us"]["params"]["inputFormat"] == "microseconds"
    trace_view = BY_KEY[("index-pattern", "logtrace-trace")]["attributes"]
    template = trace_view["fieldFormatMap"]["trace.id"]["params"]["urlTemplate"]
    assert template.startswith(f"../app/discover#/view/{TRACE_SEARCH_ID}?")
    assert "query:'trace.id:{{value}}'" in template


def test_encoding_round_trips() -> None:
    for obj in OBJECTS:
        assert decode(encode(obj)) == obj
    assert from_ndjson(to_ndjson(OBJECTS)) == RAW


def test_committed_files_are_what_the_build_writes() -> None:
    assert bundle_build.stale_files() == [], "run: python kibana/build.py"
    assert to_ndjson(load_objects()) == BUNDLE_FILE.read_text("utf-8")
    assert len(list(OBJECTS_DIR.glob("*/*.json"))) == len(OBJECTS)


def _files(directory: Path) -> dict[Path, str]:
    return {path.relative_to(directory): path.read_text("utf-8") for path in directory.glob("*/*.json")}


def test_a_fresh_build_reproduces_the_committed_files(tmp_path: Path) -> None:
    objects_dir, bundle = tmp_path / "objects", tmp_path / "logtrace.ndjson"
    (objects_dir / "lens").mkdir(parents=True)
    (objects_dir / "lens" / "logtrace-lens-gone.json").write_text("{}")  # a file no definition produces
    bundle_build.build(objects_dir, bundle)
    assert bundle.read_text("utf-8") == BUNDLE_FILE.read_text("utf-8")
    assert _files(objects_dir) == _files(OBJECTS_DIR)
    assert bundle_build.stale_files(objects_dir, bundle) == []
