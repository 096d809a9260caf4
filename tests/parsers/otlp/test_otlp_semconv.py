"""The attribute table: older and current names, precedence, value conversion, span-side dependence."""

from typing import Any

import pytest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from parsers.fields import is_declared
from parsers.limits import DEFAULT_LIMITS, Limits
from parsers.otlp.semconv import RULES, SERVER_RULES, Rules, apply, long


def pairs(*items: tuple[str, Any]) -> list[KeyValue]:
    out = []
    for key, value in items:
        pair = KeyValue(key=key)
        if isinstance(value, bool):
            pair.value.bool_value = value
        elif isinstance(value, int):
            pair.value.int_value = value
        elif isinstance(value, list):
            pair.value.array_value.values.add().string_value = value[0]
        else:
            pair.value.string_value = value
        out.append(pair)
    return out


def mapped(
    *items: tuple[str, Any], rules: Rules = RULES, limits: Limits = DEFAULT_LIMITS
) -> tuple[dict, dict]:
    doc: dict[str, Any] = {}
    rest, _ = apply(pairs(*items), rules, doc, limits)
    return doc, rest


def test_every_target_field_is_declared() -> None:
    targets = {rule.field for table in (RULES, SERVER_RULES) for rules in table.values() for rule in rules}
    assert sorted(field for field in targets if not is_declared(field)) == []


@pytest.mark.parametrize("current_first", [True, False])
def test_current_name_wins_whatever_the_order(current_first: bool) -> None:
    items = [("http.request.method", "POST"), ("http.method", "GET")]
    doc, rest = mapped(*(items if current_first else items[::-1]))
    assert doc == {"http.request.method": "POST"}
    assert rest == {}


@pytest.mark.parametrize(
    ("older", "current", "field", "convert"),
    [
        ("http.status_code", "http.response.status_code", "http.response.status_code", int),
        ("http.url", "url.full", "url.full", str),
        ("db.statement", "db.query.text", "db.statement", str),
        ("db.name", "db.namespace", "db.name", str),
        ("db.operation", "db.operation.name", "db.operation", str),
        ("deployment.environment", "deployment.environment.name", "service.environment", str),
        ("messaging.destination", "messaging.destination.name", "messaging.destination.name", str),
        ("code.lineno", "code.line.number", "log.origin.file.line", int),
    ],
)
def test_older_and_current_names_reach_one_field(older: str, current: str, field: str, convert: type) -> None:
    assert mapped((older, "7"))[0] == {field: convert("7")}
    assert mapped((current, "8"), (older, "7"))[0] == {field: convert("8")}


def test_http_target_splits_into_path_and_query() -> None:
    assert mapped(("http.target", "/a/b?x=1&y=2"))[0] == {"url.path": "/a/b", "url.query": "x=1&y=2"}
    assert mapped(("http.target", "/a"))[0] == {"url.path": "/a"}


def test_net_peer_is_the_client_on_server_spans_only() -> None:
    items = (("net.peer.name", "10.0.0.9"), ("net.peer.port", 5000), ("net.host.name", "api"))
    server, server_rest = mapped(*items, rules=SERVER_RULES)
    assert server == {"client.address": "10.0.0.9", "client.ip": "10.0.0.9", "client.port": 5000} | {
        "server.address": "api"
    }
    assert server_rest == {}
    client, client_rest = mapped(*items)
    assert client == {"server.address": "10.0.0.9", "server.port": 5000}
    assert client_rest == {"net.host.name": "api"}


@pytest.mark.parametrize(
    ("item", "doc", "rest"),
    [
        (("http.status_code", "404"), {"http.response.status_code": 404}, {}),
        (("http.status_code", "four-oh-four"), {}, {"http.status_code": "four-oh-four"}),
        (("http.status_code", True), {}, {"http.status_code": True}),
        (("client.address", "shop.example"), {"client.address": "shop.example"}, {}),
        (("host.ip", ["fe80::1%eth0"]), {}, {"host.ip": ["fe80::1%eth0"]}),
        (("http.method", "patch"), {"http.request.method": "PATCH"}, {}),
        (("service.name", 42), {"service.name": "42"}, {}),
        (("custom.key", "kept"), {}, {"custom.key": "kept"}),
    ],
)
def test_values_are_converted_or_kept_as_attributes(item: tuple[str, Any], doc: dict, rest: dict) -> None:
    assert mapped(item) == (doc, rest)


def test_long_accepts_only_int64() -> None:
    assert [long(v, DEFAULT_LIMITS) for v in (" 12 ", -3, 2.0, 2.5, "9" * 18, "9" * 19, 2**63)] == [
        12,
        -3,
        2,
        None,
        int("9" * 18),
        None,
        None,
    ]


def test_values_are_cut_to_the_limits() -> None:
    limits = Limits(max_value_chars=4, max_message_chars=6)
    doc, _ = mapped(("service.name", "abcdefgh"), ("exception.message", "abcdefgh"), limits=limits)
    assert doc == {"service.name": "abcd", "error.message": "abcdef"}


def test_attribute_lists_past_the_cap_are_counted() -> None:
    doc: dict[str, Any] = {}
    rest, skipped = apply(pairs(*((f"k{n}", "v") for n in range(10))), RULES, doc, Limits(max_attributes=4))
    assert (len(rest), skipped) == (4, 6)
