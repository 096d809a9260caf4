"""`logtrace trace` on the seeded trace in the real Elasticsearch: every span, nesting, logs, exit codes."""

import json

import pytest
from elasticsearch import AsyncElasticsearch
from typer.testing import CliRunner

import pipeline.cli.trace  # noqa: F401 - registers `trace` on the app
from pipeline.cli._app import app
from pipeline.kibana.links import trace_url
from pipeline.trace_query import fetch_trace
from tests.integration.kibana.conftest import Seeded

pytestmark = pytest.mark.timeout(60)
KIBANA = "http://kibana.test:5601"


def _trace(seeded: Seeded, *args: str):
    env = {"LOGTRACE_ES_URL": seeded.es_url, "LOGTRACE_KIBANA_URL": KIBANA, "COLUMNS": "140"}
    return CliRunner().invoke(app, ["trace", *args], env=env)


def test_the_waterfall_shows_every_span_nested_with_its_logs(seeded: Seeded) -> None:
    trace = seeded.trace
    result = _trace(seeded, trace.trace_id)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"trace {trace.trace_id}"
    assert "6 spans · 6 logs · 4 services · 2 errors" in lines[1]
    names = {span["span.id"]: span["span.name"] for span in trace.spans}
    rows = [line for line in lines[3:-1] if not line.lstrip(" │").startswith("✖")]  # not error details
    for line, (key, depth) in zip(rows, trace.expected_rows, strict=True):
        # Each level of nesting is three cells of tree (`├─ `, `│  `), then a span name or `· LEVEL message`.
        if depth:
            assert line[3 * depth - 3: 3 * depth] in ("├─ ", "└─ "), line
        label = line[3 * depth:]
        expected = names.get(key, "· ")
        assert label.startswith(expected) and (key in names or key in label), line
    assert "✖ TimeoutError: statement timeout" in result.output
    link = f"Kibana: {KIBANA}/app/discover#/view/logtrace-search-trace?_g=(filters:!(),time:(from:'"
    assert lines[-1].startswith(link)


def test_json_output_has_the_spans_in_order_with_depth_and_their_logs(seeded: Seeded) -> None:
    trace = seeded.trace
    result = _trace(seeded, trace.trace_id, "--json")
    assert result.exit_code == 0, result.output
    model = json.loads(result.output)
    span_ids = {span["span.id"] for span in trace.spans}
    assert [(span["span_id"], span["depth"]) for span in model["spans"]] == [
        row for row in trace.expected_rows if row[0] in span_ids
    ]
    logs = {span["name"]: [log["message"] for log in span["logs"]] for span in model["spans"]}
    assert logs["SELECT stock"] == ["query cancelled after 150 ms"]
    assert logs["GET /inventory"] == ["falling back to cache"]
    assert [log["message"] for log in model["unattached_logs"]] == ["checkout done"]
    assert model["summary"]["trace.summary.span_count"] == 6
    assert model["truncated"] is False
    assert model["discover_url"].startswith(trace_url(KIBANA, trace.trace_id).split("?")[0])


@pytest.mark.parametrize("form", ["upper", "traceparent"])
def test_the_id_may_be_given_as_the_parsers_accept_it(seeded: Seeded, form: str) -> None:
    trace_id = seeded.trace.trace_id
    value = trace_id.upper() if form == "upper" else f"00-{trace_id}-{seeded.trace.spans[0]['span.id']}-01"
    result = _trace(seeded, value, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["trace_id"] == trace_id


def test_an_unknown_trace_exits_1_with_a_clear_message(seeded: Seeded) -> None:
    unknown = "0123456789abcdef0123456789abcdef"
    result = _trace(seeded, unknown)
    assert result.exit_code == 1
    assert f"trace {unknown} not found" in result.output


def test_a_value_that_is_no_trace_id_exits_2(seeded: Seeded) -> None:
    result = _trace(seeded, "checkout")
    assert result.exit_code == 2
    assert "not a trace id" in result.output


def test_an_unreachable_elasticsearch_exits_3(seeded: Seeded) -> None:
    env = {"LOGTRACE_ES_URL": "http://127.0.0.1:9", "LOGTRACE_ES_REQUEST_TIMEOUT_S": "2"}
    result = CliRunner().invoke(app, ["trace", seeded.trace.trace_id], env=env)
    assert result.exit_code == 3
    assert "could not query Elasticsearch" in result.output


async def test_fetching_fewer_documents_than_the_trace_has_says_so(seeded: Seeded,
                                                                   kibana_es: AsyncElasticsearch) -> None:
    documents = await fetch_trace(kibana_es, seeded.trace.trace_id, max_docs=2)
    assert [span["span.name"] for span in documents.spans] == ["POST /checkout", "auth.check"]
    assert (documents.spans_total, documents.logs_total) == (6, 6)
    assert documents.truncated
    assert documents.summary is not None and documents.summary["trace.id"] == seeded.trace.trace_id
