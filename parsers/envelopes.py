"""Shipper envelopes around a log line: Docker json-file, CRI, Filebeat, Fluent Bit and Vector.

Sample inputs: `2026-12-03T08:18:49.123456789Z stdout F GET /healthz 200` (CRI),
`{"log":"hello\\n","stream":"stderr","time":"2026-12-03T08:18:49.1Z"}` (Docker json-file),
`{"@timestamp":"...","@metadata":{"beat":"filebeat"},"message":"...","log":{"file":{"path":"/a.log"}}}`,
`{"message":"...","source_type":"kubernetes_logs","kubernetes":{"pod_name":"api-7d9"},"timestamp":"..."}`.
The inner line is parsed in whatever format it has; the envelope's metadata fills ECS fields it lacks.
"""

import re
from dataclasses import replace
from typing import Any, NamedTuple

from parsers import detect, keys, timestamps
from parsers.context import ParseContext
from parsers.result import Doc, Outcome, ParseError
from parsers.timefmt import is_plausible, ns_to_iso

# Kubernetes metadata as Fluent Bit's kubernetes filter and Vector's kubernetes_logs source name it.
_KUBERNETES = {
    "pod_name": "kubernetes.pod.name",
    "namespace_name": "kubernetes.namespace",
    "pod_namespace": "kubernetes.namespace",
    "pod_id": "kubernetes.pod.uid",
    "pod_uid": "kubernetes.pod.uid",
    "host": "kubernetes.node.name",
    "pod_node_name": "kubernetes.node.name",
    "container_name": "kubernetes.container.name",
    "docker_id": "container.id",
    "container_id": "container.id",
    "container_image": "container.image.name",
    "labels": "kubernetes.labels",
    "pod_labels": "kubernetes.labels",
}
# Pod labels that name the service, most specific first.
_SERVICE_LABELS = ("app.kubernetes.io/name", "app", "k8s-app")
# CRI log line: time, stream, partial (P) or full (F) tag, then the line as the container wrote it.
_CRI = re.compile(r"(?P<time>\d{4}-\d\d-\d\dT\S+) (?P<stream>stdout|stderr) (?P<tag>[FP])(?:\S*) ?")


class Envelope(NamedTuple):
    """An unwrapped envelope: shipper name, the line it carries, its time value, and its metadata keys."""

    shipper: str
    line: str
    time: object
    meta: dict[str, Any]


def _container(meta: dict[str, Any]) -> None:
    """Split `containerd://abc` ids and `nginx:1.25` image names into their ECS parts."""
    container_id = meta.get("container.id")
    if isinstance(container_id, str) and "://" in container_id:
        meta["container.runtime"], _, meta["container.id"] = container_id.partition("://")
    image = meta.get("container.image.name")
    if isinstance(image, str) and ":" in image.rpartition("/")[2] and "@" not in image:
        name, _, tag = image.rpartition(":")
        meta["container.image.name"], meta["container.image.tag"] = name, [tag]


def _kubernetes(value: Any, meta: dict[str, Any]) -> None:
    if not isinstance(value, dict):
        return
    for key, item in value.items():
        meta[_KUBERNETES.get(key, f"kubernetes.{key}")] = item
    labels = value.get("labels") or value.get("pod_labels")
    if isinstance(labels, dict):
        service = next((labels[name] for name in _SERVICE_LABELS if isinstance(labels.get(name), str)), None)
        if service is not None:
            meta["service.name"] = service


def unwrap(obj: dict[str, Any]) -> Envelope | None:
    """The envelope a JSON object is, or None for an application's own JSON line."""
    message, log = obj.get("message"), obj.get("log")
    if isinstance(message, str) and "source_type" in obj:
        meta = {k: v for k, v in obj.items() if k not in ("message", "timestamp", "kubernetes", "file")}
        if isinstance(obj.get("file"), str):
            meta["log.file.path"] = obj["file"]
        _kubernetes(obj.get("kubernetes"), meta)
        return Envelope("vector", message, obj.get("timestamp"), meta)
    metadata = obj.get("@metadata")
    if isinstance(message, str) and isinstance(metadata, dict) and "beat" in metadata:
        # Filebeat already writes ECS: its keys map as they are (kubernetes.pod.name, log.file.path, ...).
        meta = {k: v for k, v in obj.items() if k not in ("message", "@timestamp", "@metadata")}
        return Envelope("filebeat", message, obj.get("@timestamp"), meta)
    if not isinstance(log, str):
        return None
    if obj.keys() <= {"log", "stream", "time", "attrs"} and "time" in obj:
        return Envelope(
            "docker", log, obj["time"], {k: v for k, v in obj.items() if k not in ("log", "time")}
        )
    if "kubernetes" in obj or "@timestamp" in obj or "date" in obj:
        time_key = next((k for k in ("time", "@timestamp", "date") if k in obj), None)
        meta = {k: v for k, v in obj.items() if k not in ("log", "kubernetes", time_key)}
        _kubernetes(obj.get("kubernetes"), meta)
        return Envelope("fluentbit", log, obj.get(time_key) if time_key else None, meta)
    return None


def cri(line: str) -> Envelope | None:
    """The CRI (containerd, CRI-O) log file envelope of `line`, or None when it is not one."""
    match = _CRI.match(line)
    if match is None:
        return None
    meta: dict[str, Any] = {"stream": match.group("stream")}
    if match.group("tag") == "P":
        meta["logtrace.partial"] = True
    return Envelope("cri", line[match.end() :], match.group("time"), meta)


def _merge(doc: Doc, meta: Doc) -> None:
    for key, value in meta.items():
        if key == "attributes" and isinstance(doc.get("attributes"), dict):
            doc["attributes"] = {**value, **doc["attributes"]}
        elif key != "message":
            doc.setdefault(key, value)


def parse(envelope: Envelope, problems: list[str], ctx: ParseContext) -> Outcome:
    """Parse the carried line (any format) and add the envelope's time and metadata."""
    line = envelope.line.strip()
    if not line:
        return [ParseError("empty_record", f"the {envelope.shipper} envelope carries an empty line")]
    meta = dict(envelope.meta)
    if meta.pop("logtrace.partial", False):
        problems.append("line_partial")
    envelope_ns = timestamps.parse_value(envelope.time, ctx.default_tz, ctx.received_ns)
    if envelope_ns is not None and not is_plausible(envelope_ns, ctx.received_ns):
        envelope_ns = None
    # The shipper's time is exact (Docker/CRI: nanoseconds, with zone): it is the fallback for a line
    # without its own timestamp and the base for year inference, instead of the Kafka record time.
    inner_ctx = ctx if envelope_ns is None else replace(ctx, received_ns=envelope_ns)
    outcome = detect.from_text(line, problems, inner_ctx)
    meta_doc: Doc = {"message": ""}
    _container(meta)
    keys.apply(meta, meta_doc, [], ctx)
    for doc in outcome:
        if isinstance(doc, ParseError):
            continue
        if envelope_ns is not None:
            doc["event.created"] = ns_to_iso(envelope_ns)
            _without_problem(doc, "timestamp_missing")
        _merge(doc, meta_doc)
        doc["logtrace.shipper"] = envelope.shipper
    return outcome


def _without_problem(doc: Doc, reason: str) -> None:
    """Drop `reason` from the document's problems (and event.original with the last of them)."""
    problems = doc.get("logtrace.parse.problems")
    if not problems or reason not in problems:
        return
    problems.remove(reason)
    if not problems:
        del doc["logtrace.parse.problems"]
        doc.pop("event.original", None)
