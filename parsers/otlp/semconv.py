"""OpenTelemetry semantic-convention attribute names → the ECS fields of `mappings/fields.yml`.

Sample input: span attributes `{"http.method": "GET", "http.target": "/users?id=7", "db.statement": "..."}`
→ `http.request.method`, `url.path` + `url.query`, `db.statement`. Both the older names (semconv
before the HTTP/DB stabilization) and the current ones are accepted; a current name wins over an older
one whatever their order. One table serves resource, scope, span, event and log attributes.
"""

import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from opentelemetry.proto.common.v1.common_pb2 import KeyValue

from parsers.limits import Limits
from parsers.otlp.values import any_value

Convert = Callable[[Any, Limits], Any]
_INT64 = (-(2**63), 2**63 - 1)


def keyword(value: Any, limits: Limits) -> Any:
    """A keyword value: strings cut to the value limit, scalars as text, lists of them; else None."""
    if isinstance(value, str):
        return value[: limits.max_value_chars]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        items = [item for item in (keyword(v, limits) for v in value) if isinstance(item, str)]
        return items or None
    return None


def text(value: Any, limits: Limits) -> Any:
    """A full-text value (messages, stack traces): cut to the message limit, not the keyword one."""
    return value[: limits.max_message_chars] if isinstance(value, str) else keyword(value, limits)


def upper(value: Any, limits: Limits) -> Any:
    """An upper-case keyword (HTTP methods)."""
    return value[: limits.max_value_chars].upper() if isinstance(value, str) else None


def long(value: Any, limits: Limits) -> int | None:
    """An int64 from an int, an integral float or a decimal string; None otherwise (kept in attributes)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = int(value) if value.is_integer() else None
    elif isinstance(value, str):
        digits = value.strip()
        value = int(digits) if digits.removeprefix("-").isdecimal() and len(digits) <= 20 else None
    if isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return value
    return None


def ip(value: Any, limits: Limits) -> Any:
    """An IP address (or list of them) the `ip` field type accepts; None when none is one."""
    if isinstance(value, list):
        items = [item for item in (ip(v, limits) for v in value) if item is not None]
        return items or None
    if not isinstance(value, str):
        return None
    # inet_pton: the strict textual forms (no zone ids, no short IPv4), 20x faster than ipaddress.
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, value)
        except (OSError, ValueError):
            continue
        return value
    return None


def url_path(value: Any, limits: Limits) -> Any:
    """The path of an older `http.target` (`/users?id=7` → `/users`)."""
    if not isinstance(value, str):
        return None
    return value.partition("?")[0][: limits.max_value_chars] or None


def url_query(value: Any, limits: Limits) -> Any:
    """The query of an older `http.target`, without the `?`; None when it has none."""
    if not isinstance(value, str):
        return None
    return value.partition("?")[2][: limits.max_value_chars] or None


class Target(NamedTuple):
    """One ECS field an attribute fills, and how its value is converted (None → not filled)."""

    field: str
    convert: Convert = keyword


class Rule(NamedTuple):
    """A compiled table entry: a current name overwrites, an older one only fills a field still empty."""

    field: str
    convert: Convert
    current: bool


Rules = Mapping[str, tuple[Rule, ...]]
_Table = dict[str, Target | tuple[Target, ...]]

_CLIENT_ADDRESS = (Target("client.address"), Target("client.ip", ip))

CURRENT: _Table = {
    # Resource: service and deployment.
    "service.name": Target("service.name"),
    "service.version": Target("service.version"),
    "service.namespace": Target("service.namespace"),
    "service.instance.id": Target("service.instance.id"),
    "deployment.environment.name": Target("service.environment"),
    # Resource: host, OS, process, container.
    "host.name": Target("host.name"),
    "host.id": Target("host.id"),
    "host.arch": Target("host.architecture"),
    "host.ip": Target("host.ip", ip),
    "os.type": Target("host.os.type"),
    "os.name": Target("host.os.name"),
    "os.version": Target("host.os.version"),
    "os.description": Target("host.os.full"),
    "process.pid": Target("process.pid", long),
    "process.executable.name": Target("process.name"),
    "process.executable.path": Target("process.executable"),
    "process.command_line": Target("process.command_line"),
    "process.runtime.name": Target("process.runtime.name"),
    "process.runtime.version": Target("process.runtime.version"),
    "thread.id": Target("process.thread.id", long),
    "thread.name": Target("process.thread.name"),
    "container.id": Target("container.id"),
    "container.name": Target("container.name"),
    "container.image.name": Target("container.image.name"),
    "container.image.tags": Target("container.image.tag"),
    "container.runtime.name": Target("container.runtime"),
    # Resource: Kubernetes and cloud.
    "k8s.cluster.name": Target("orchestrator.cluster.name"),
    "k8s.namespace.name": Target("kubernetes.namespace"),
    "k8s.pod.name": Target("kubernetes.pod.name"),
    "k8s.pod.uid": Target("kubernetes.pod.uid"),
    "k8s.container.name": Target("kubernetes.container.name"),
    "k8s.node.name": Target("kubernetes.node.name"),
    "k8s.deployment.name": Target("kubernetes.deployment.name"),
    "k8s.replicaset.name": Target("kubernetes.replicaset.name"),
    "k8s.statefulset.name": Target("kubernetes.statefulset.name"),
    "k8s.daemonset.name": Target("kubernetes.daemonset.name"),
    "k8s.job.name": Target("kubernetes.job.name"),
    "k8s.cronjob.name": Target("kubernetes.cronjob.name"),
    "cloud.provider": Target("cloud.provider"),
    "cloud.region": Target("cloud.region"),
    "cloud.availability_zone": Target("cloud.availability_zone"),
    "cloud.account.id": Target("cloud.account.id"),
    "cloud.platform": Target("cloud.platform"),
    # HTTP, URL and peers.
    "http.request.method": Target("http.request.method", upper),
    "http.response.status_code": Target("http.response.status_code", long),
    "http.route": Target("http.route"),
    "http.request.body.size": Target("http.request.body.bytes", long),
    "http.response.body.size": Target("http.response.body.bytes", long),
    "url.full": Target("url.full"),
    "url.path": Target("url.path"),
    "url.query": Target("url.query"),
    "url.scheme": Target("url.scheme"),
    "url.domain": Target("url.domain"),
    "user_agent.original": Target("user_agent.original"),
    "server.address": Target("server.address"),
    "server.port": Target("server.port", long),
    "client.address": _CLIENT_ADDRESS,
    "client.port": Target("client.port", long),
    # Databases, messaging, RPC.
    "db.system.name": Target("db.system"),
    "db.namespace": Target("db.name"),
    "db.operation.name": Target("db.operation"),
    "db.query.text": Target("db.statement"),
    "messaging.system": Target("messaging.system"),
    "messaging.destination.name": Target("messaging.destination.name"),
    "messaging.operation.type": Target("messaging.operation"),
    "rpc.system": Target("rpc.system"),
    "rpc.service": Target("rpc.service"),
    "rpc.method": Target("rpc.method"),
    "rpc.grpc.status_code": Target("rpc.grpc.status_code", long),
    # Exceptions (log attributes, exception span events) and code location (logs).
    "exception.type": Target("error.type"),
    "exception.message": Target("error.message", text),
    "exception.stacktrace": Target("error.stack_trace", text),
    "code.function.name": Target("log.origin.function"),
    "code.file.path": Target("log.origin.file.name"),
    "code.line.number": Target("log.origin.file.line", long),
}

LEGACY: _Table = {
    "deployment.environment": Target("service.environment"),
    "container.image.tag": Target("container.image.tag"),
    "container.runtime": Target("container.runtime"),
    "http.method": Target("http.request.method", upper),
    "http.status_code": Target("http.response.status_code", long),
    "http.url": Target("url.full"),
    "http.target": (Target("url.path", url_path), Target("url.query", url_query)),
    "http.scheme": Target("url.scheme"),
    "http.host": Target("server.address"),
    "http.flavor": Target("http.version"),
    "http.user_agent": Target("user_agent.original"),
    "http.client_ip": _CLIENT_ADDRESS,
    "http.request_content_length": Target("http.request.body.bytes", long),
    "http.response_content_length": Target("http.response.body.bytes", long),
    "db.system": Target("db.system"),
    "db.name": Target("db.name"),
    "db.operation": Target("db.operation"),
    "db.statement": Target("db.statement"),
    "db.user": Target("db.user"),
    "messaging.destination": Target("messaging.destination.name"),
    "messaging.operation": Target("messaging.operation"),
    "code.function": Target("log.origin.function"),
    "code.filepath": Target("log.origin.file.name"),
    "code.lineno": Target("log.origin.file.line", long),
}

# Older `net.*` names are relative to the span's side: on a SERVER span the peer is the client and the
# host is the server itself; everywhere else (client spans, logs) the peer is the server.
SERVER_LEGACY: _Table = {
    "net.peer.name": _CLIENT_ADDRESS,
    "net.peer.port": Target("client.port", long),
    "net.sock.peer.addr": _CLIENT_ADDRESS,
    "net.host.name": Target("server.address"),
    "net.host.port": Target("server.port", long),
}
PEER_LEGACY: _Table = {
    "net.peer.name": Target("server.address"),
    "net.peer.port": Target("server.port", long),
}


def _compile(current: _Table, legacy: _Table) -> dict[str, tuple[Rule, ...]]:
    rules: dict[str, tuple[Rule, ...]] = {}
    for table, is_current in ((legacy, False), (current, True)):
        for name, targets in table.items():
            targets = (targets,) if isinstance(targets, Target) else targets
            rules[name] = tuple(Rule(t.field, t.convert, is_current) for t in targets)
    return rules


RULES: Rules = _compile(CURRENT, LEGACY | PEER_LEGACY)
"""Rules for resources, scopes, logs and every span but SERVER spans."""
SERVER_RULES: Rules = _compile(CURRENT, LEGACY | SERVER_LEGACY)
"""Rules for SERVER spans (older `net.*` names flipped to the client/server sides)."""


def apply(
    pairs: Sequence[KeyValue], rules: Rules, doc: dict[str, Any], limits: Limits
) -> tuple[dict[str, Any], int]:
    """Set the ECS fields `rules` name from `pairs` on `doc`; return the unmapped rest and the pairs
    skipped past `limits.max_attributes` (a real SDK caps attributes at 128; more is hostile input)."""
    cap = limits.max_attributes
    skipped = 0
    if len(pairs) > cap:
        skipped = len(pairs) - cap
        pairs = pairs[:cap]
    rest: dict[str, Any] = {}
    for pair in pairs:
        wrapped = pair.value
        # Hot path: most values are non-empty strings, read without asking which oneof member is set.
        value = wrapped.string_value or any_value(wrapped, cap)
        if value is None:
            continue
        key = pair.key
        targets = rules.get(key)
        mapped = False
        if targets is not None:
            for field, convert, current in targets:
                converted = convert(value, limits)
                if converted is not None:
                    mapped = True
                    if current or field not in doc:
                        doc[field] = converted
        if not mapped:
            rest[key] = value
    return rest, skipped
