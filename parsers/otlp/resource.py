"""Resource and instrumentation scope → what every span or log record under them shares (spans and logs).

Sample input: resource `{"service.name": "checkout", "k8s.pod.name": "checkout-7d9f",
"telemetry.sdk.language": "python"}` and scope `{"name": "app.orders", "version": "1.2.0"}` →
`service.name`, `kubernetes.pod.name`, `otel.scope.name`, `otel.scope.version`, and
`attributes: {"telemetry.sdk.language": "python"}`. Computed once per scope, copied into each record.
"""

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, NamedTuple

from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from parsers.attributes import bounded
from parsers.limits import Limits
from parsers.otlp.decode import Signal, records
from parsers.otlp.semconv import RULES, apply
from parsers.result import Doc


class ResourceInfo(NamedTuple):
    """A resource's ECS fields, its unmapped attributes and the attributes skipped past the limit."""

    fields: Doc
    rest: dict[str, Any]
    skipped: int


class Shared(NamedTuple):
    """The start of every record document under one resource and scope."""

    # ECS fields, copied into each record's document.
    fields: Doc
    # Bounded unmapped resource and scope attributes, merged under each record's own.
    attributes: dict[str, Any]
    # Attribute values the resource and scope lost to the limits (each record reports them).
    dropped: int
    # The limits a record's own attributes get: the attribute budget less what the shared ones used.
    limits: Limits


def resource_info(resource: Resource, limits: Limits) -> ResourceInfo:
    """Map one resource's attributes (once per ResourceSpans / ResourceLogs)."""
    fields: Doc = {}
    rest, skipped = apply(resource.attributes, RULES, fields, limits)
    return ResourceInfo(fields, rest, skipped)


def _leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_leaves(item) for item in value.values())
    if isinstance(value, list):
        return sum(_leaves(item) for item in value)
    return 1


def scope_shared(resource: ResourceInfo, scope: InstrumentationScope, extra: Doc, limits: Limits) -> Shared:
    """Resource + scope + `extra` (fields every record of the signal has) as one `Shared`."""
    fields = {**extra, **resource.fields}
    if scope.name:
        fields["otel.scope.name"] = scope.name[: limits.max_value_chars]
    if scope.version:
        fields["otel.scope.version"] = scope.version[: limits.max_value_chars]
    scope_rest, skipped = apply(scope.attributes, RULES, fields, limits)
    attributes, dropped = bounded({**resource.rest, **scope_rest}, limits)
    left = max(0, limits.max_attributes - _leaves(attributes))
    return Shared(
        fields, attributes, dropped + resource.skipped + skipped, replace(limits, max_attributes=left)
    )


def attach_attributes(doc: Doc, shared: Shared, rest: dict[str, Any], dropped: int) -> None:
    """Set a record's `attributes` (shared ones under its own) and `logtrace.attributes_dropped`."""
    if rest:
        own, own_dropped = bounded(rest, shared.limits)
        dropped += own_dropped
        attributes = {**shared.attributes, **own}
    else:
        attributes = dict(shared.attributes)
    if attributes:
        doc["attributes"] = attributes
    dropped += shared.dropped
    if dropped:
        doc["logtrace.attributes_dropped"] = dropped


def scopes(
    request: Any, signal: Signal, extra: Callable[[InstrumentationScope], Doc], limits: Limits
) -> Iterator[tuple[str, Shared, Any]]:
    """(position, shared start, records) of every scope entry with records; each resource is mapped once.

    `extra(scope)` gives the fields every record of the signal gets; position reads
    `resource_spans[0].scope_spans[1]`, for error details.
    """
    resource_field, scope_field, _ = signal.levels
    resource, resource_index = ResourceInfo({}, {}, 0), -1
    for i, j, resource_entry, scope_entry, entries in records(request, signal):
        if not entries:
            continue
        if i != resource_index:
            resource, resource_index = resource_info(resource_entry.resource, limits), i
        shared = scope_shared(resource, scope_entry.scope, extra(scope_entry.scope), limits)
        yield f"{resource_field}[{i}].{scope_field}[{j}]", shared, entries
