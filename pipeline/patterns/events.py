"""The new-pattern event: a document the first time a template is seen at warn level or above for a key.

For the log `{"message": "Connection to 10.0.0.7:5432 refused", "log.level": "error", "service.name":
"checkout"}`, mined as new (`Mined.alert`), the event is `{"event.kind": "alert", "message": "New error
log pattern for checkout: Connection to <IP> refused", "log.pattern.id": ..., ...}`: alert rules and
the Log patterns dashboard count these instead of scanning every log for never-seen templates.
"""

from parsers.result import Doc
from pipeline.patterns.miner import Mined
from pipeline.sink.doc_ids import content_doc_id

# Fields copied from the log that raised the event, so the alert links back to where it happened.
_CONTEXT_FIELDS = ("@timestamp", "service.name", "service.environment", "host.name", "trace.id", "span.id")


def new_pattern_doc(log: Doc, mined: Mined) -> Doc:
    """The event document for `log`, whose mining said `alert` (the caller checks `mined.alert`)."""
    level = log.get("log.level") or "unknown"
    service = log.get("service.name") or "an unknown service"
    event = {name: log[name] for name in _CONTEXT_FIELDS if name in log}
    event.update({
        "event.kind": "alert",
        "log.level": level,
        "message": f"New {level} log pattern for {service}: {mined.template}",
        "log.pattern.id": mined.id,
        "log.pattern.template": mined.template,
    })
    return event


def new_pattern_doc_id(mined: Mined) -> str:
    """The event's document id, from its key and pattern id only: when several workers (or a replay
    after a restart from an older snapshot) raise the same event, Elasticsearch keeps one (409)."""
    return content_doc_id(f"log-pattern\x1f{mined.key}\x1f{mined.id}".encode())
