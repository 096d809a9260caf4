"""Data stream names stay inside logtrace's prefixes whatever an event says."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.sink import routing

# What Elasticsearch accepts as an index name, narrowed to logtrace's own streams.
OURS = re.compile(r"^(logs|traces|metrics)-logtrace\.[a-z0-9_][a-z0-9_.]*-[a-z0-9_]+$")


@pytest.mark.parametrize(
    ("dataset", "namespace", "expected"),
    [
        ("app", "prod", "logs-logtrace.app-prod"),
        ("../x", "../y", "logs-logtrace.x-y"),
        ("*", "*", "logs-logtrace.generic-default"),
        (".security", ".kibana", "logs-logtrace.security-kibana"),
        ("A-B", "C-D", "logs-logtrace.a_b-c_d"),
        ("a,b", "c d", "logs-logtrace.a_b-c_d"),
        ("", "", "logs-logtrace.generic-default"),
        ("ünïcödé", "名前", "logs-logtrace.unicode-default"),
        ("logtrace.app", "p", "logs-logtrace.app-p"),
        ("a..b.", "x.y", "logs-logtrace.a.b-x_y"),
        ("deadletter", "p", "logs-logtrace.deadletter_event-p"),
    ],
)
def test_hostile_values(dataset: str, namespace: str, expected: str) -> None:
    assert routing.data_stream("logs", dataset, namespace) == expected


def test_length_is_bounded() -> None:
    name = routing.data_stream("logs", "x" * 300, "y" * 300)
    _, dataset, namespace = name.split("-")
    assert len(dataset) == 100 and len(namespace) == 100 and len(name.encode()) <= 255


def test_reserved_streams_cannot_be_reached_from_events() -> None:
    assert routing.data_stream("traces", "span", "p") != routing.span_stream("p")
    assert routing.data_stream("traces", "summary", "p") != routing.summary_stream("p")
    assert routing.data_stream("logs", "DeadLetter", "p") != routing.deadletter_stream("p")


def test_fixed_streams() -> None:
    assert routing.span_stream("default") == "traces-logtrace.span-default"
    assert routing.summary_stream("default") == "traces-logtrace.summary-default"
    assert routing.metrics_stream("service_latency", "default") == "metrics-logtrace.service_latency-default"
    assert routing.deadletter_stream("default") == "logs-logtrace.deadletter-default"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        routing.data_stream("security", "x", "y")  # type: ignore[arg-type]


@given(st.sampled_from(routing.KINDS), st.text(), st.text())
def test_any_value_stays_inside_the_prefixes(kind: routing.Kind, dataset: str, namespace: str) -> None:
    name = routing.data_stream(kind, dataset, namespace)
    assert OURS.match(name), name
    assert name.startswith(f"{kind}-logtrace.") and name.count("-") == 2
    assert routing.is_ours(name)


@pytest.mark.parametrize(
    "name",
    [
        "logs-app-default",
        ".kibana",
        "logs-logtrace.a-b-c",
        "logs-logtrace.a-",
        "other-logtrace.a-b",
        "logs-logtrace.A-b",
    ],
)
def test_is_ours_rejects_foreign_names(name: str) -> None:
    assert not routing.is_ours(name)
