"""Every field the saved objects use is declared in mappings/fields.yml (the build refuses otherwise)."""

import pytest

from parsers.fields import is_declared
from pipeline.kibana import build as bundle_build
from pipeline.kibana.bundle import BUNDLE_FILE, decode, from_ndjson
from pipeline.kibana.objects import all_objects
from pipeline.kibana.refs import field_uses, query_fields, undeclared

pytestmark = pytest.mark.timeout(10)
OBJECTS = [decode(obj) for obj in from_ndjson(BUNDLE_FILE.read_text("utf-8"))]


def test_every_field_a_saved_object_uses_is_declared() -> None:
    uses = field_uses(OBJECTS)
    assert {use.object_id for use in uses} == {obj["id"] for obj in OBJECTS if obj["type"] != "dashboard"}
    assert [use for use in uses if not is_declared(use.field)] == []


def test_uses_say_how_the_field_is_used_and_through_which_data_view() -> None:
    uses = {(use.object_id, use.data_view, use.field, use.usage) for use in field_uses(OBJECTS)}
    assert ("logtrace-trace", "logtrace-trace", "@timestamp", "time") in uses
    assert ("logtrace-trace", "logtrace-trace", "trace.id", "format") in uses
    assert ("logtrace-search-trace", "logtrace-trace", "message", "column") in uses
    assert ("logtrace-search-slow-traces", "logtrace-trace-summaries", "event.duration", "sort") in uses
    assert ("logtrace-search-errors", "logtrace-trace", "span.status.code", "query") in uses
    assert ("logtrace-lens-p95-per-operation", "logtrace-spans", "event.duration", "metric") in uses
    assert ("logtrace-lens-p95-per-operation", "logtrace-spans", "span.name", "terms") in uses
    assert ("logtrace-lens-throughput", "logtrace-trace", "event.ingested", "date_histogram") in uses
    assert ("logtrace-lens-requests-per-service", "logtrace-metrics", "span.kind", "query") in uses


@pytest.mark.parametrize(("query", "fields"), [
    ("_exists_:trace.id", ["trace.id"]),
    ("log.level:(error OR fatal) OR event.outcome:failure", ["log.level", "event.outcome"]),
    ("event.duration:>=1000000000", ["event.duration"]),
    ('message:"a:b c:d" AND service.name:api', ["message", "service.name"]),
    ("trace.id:{{value}}", ["trace.id"]),
    ("", []),
])
def test_lucene_queries_are_read_for_their_field_names(query: str, fields: list[str]) -> None:
    assert query_fields(query) == fields


def test_the_build_refuses_objects_that_use_an_undeclared_field(monkeypatch: pytest.MonkeyPatch) -> None:
    objects = all_objects()
    search = next(obj for obj in objects if obj["type"] == "search")
    search["attributes"]["columns"].append("no.such.field")
    monkeypatch.setattr(bundle_build, "all_objects", lambda: objects)
    assert [use.field for use in undeclared(objects)] == ["no.such.field"]
    with pytest.raises(ValueError, match=r"no\.such\.field"):
        bundle_build.planned_files()
