"""Trace links (Rison app state, spaces, the data view URL template), id normalization, `logtrace link`."""

import pytest
from typer.testing import CliRunner

import pipeline.cli.trace  # noqa: F401 - registers `trace` and `link` on the app
from pipeline.cli._app import app
from pipeline.kibana.links import TRACE_SEARCH_ID, rison, trace_url, trace_url_template
from pipeline.trace_query import normalize_trace_id

pytestmark = pytest.mark.timeout(10)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(("value", "text"), [
    ({"b": 1, "a": [True, False, None]}, "(a:!(!t,!f,!n),b:1)"),
    ("now-7d", "now-7d"),
    ("trace.id:abc", "'trace.id:abc'"),
    ("it's!", "'it!'s!!'"),
    ("2026-12-03T08:00:00.000Z", "'2026-12-03T08:00:00.000Z'"),
    ([], "!()"),
])
def test_rison_encodes_like_kibanas_urls(value: object, text: str) -> None:
    assert rison(value) == text


def test_a_trace_url_opens_the_trace_search_with_the_trace_query_and_time() -> None:
    url = trace_url("https://kibana.example/", TRACE, time_from="2026-12-03T07:59:00.000Z",
                    time_to="2026-12-03T08:01:00.000Z")
    assert url == (
        f"https://kibana.example/app/discover#/view/{TRACE_SEARCH_ID}"
        "?_g=(filters:!(),time:(from:'2026-12-03T07:59:00.000Z',to:'2026-12-03T08:01:00.000Z'))"
        f"&_a=(query:(language:lucene,query:'trace.id:{TRACE}'))"
    )


def test_a_space_prefixes_the_app_path() -> None:
    assert trace_url("http://k:5601", TRACE, space="sre").startswith(
        f"http://k:5601/s/sre/app/discover#/view/{TRACE_SEARCH_ID}?_g=(filters:!(),time:(from:now-7d,to:now))")


def test_the_data_view_template_is_the_same_link_relative_to_kibanas_app_path() -> None:
    template = trace_url_template()
    assert template == "../" + trace_url("http://x", "{{value}}").removeprefix("http://x/")
    assert template.count("{{value}}") == 1


@pytest.mark.parametrize("value", [
    TRACE,
    TRACE.upper(),
    f"0x{TRACE}",
    f"00-{TRACE}-00f067aa0ba902b7-01",
    f"00-{TRACE.upper()}-00F067AA0BA902B7-01",
    f"{TRACE}-e457b5a2e4d86bd1-1",
    f"  {TRACE}\n",
])
def test_trace_ids_are_accepted_in_every_form_the_parsers_know(value: str) -> None:
    assert normalize_trace_id(value) == TRACE


def test_64_bit_ids_are_left_padded_and_jaeger_ids_unpadded_work() -> None:
    assert normalize_trace_id("A3CE929D0E0E4736") == "0000000000000000a3ce929d0e0e4736"
    assert normalize_trace_id("7b34da6a3ce92:1a2b3c:0:1") == "00000000000000000007b34da6a3ce92"


@pytest.mark.parametrize("value", ["", "xyz", "0" * 32, "abc", f"ff-{TRACE}-00f067aa0ba902b7-01"])
def test_things_that_are_not_trace_ids_are_refused(value: str) -> None:
    assert normalize_trace_id(value) is None


def test_link_prints_only_the_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOGTRACE_KIBANA_URL", raising=False)
    monkeypatch.delenv("LOGTRACE_KIBANA_SPACE", raising=False)
    result = CliRunner().invoke(app, ["link", f"00-{TRACE.upper()}-00f067aa0ba902b7-01", "--kibana-url",
                                      "http://kibana:5601", "--space", "ops"])
    assert result.exit_code == 0, result.output
    assert result.output == trace_url("http://kibana:5601", TRACE, space="ops") + "\n"


def test_link_refuses_a_bad_id_with_a_usage_error() -> None:
    result = CliRunner().invoke(app, ["link", "not-a-trace"])
    assert result.exit_code == 2
    assert "not a trace id" in result.output
