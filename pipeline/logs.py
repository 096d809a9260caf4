"""Structured JSON logs of the worker itself: one JSON object per line on stderr.

Every line carries `@timestamp`, `log.level`, `log.logger`, `message`, `process.pid`, and — while a batch
is processed — `batch.id`, the per-batch correlation id (also in the worker's own log lines about that
batch's delivery and commit). Extra fields come from `extra={"fields": {...}}`. Secrets never reach a
log line: settings are logged through their `describe()` methods only.
"""

import contextvars
import logging
import os
import sys
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson

from pipeline.enrich.redact import redact_log_entry

# The correlation id of the batch being processed in the current task.
BATCH_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("logtrace_batch_id", default=None)


def new_batch_id() -> str:
    """A short random id for one batch (16 hex chars)."""
    return uuid.uuid4().hex[:16]


class JsonFormatter(logging.Formatter):
    """Formats a LogRecord as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "@timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "log.level": record.levelname.lower(),
            "log.logger": record.name,
            "message": record.getMessage(),
            "process.pid": record.process or os.getpid(),
        }
        batch_id = getattr(record, "batch_id", None) or BATCH_ID.get()
        if batch_id is not None:
            entry["batch.id"] = batch_id
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for key, value in fields.items():
                entry.setdefault(key, value)
        if record.exc_info:
            exc_type, exc, _ = record.exc_info
            entry["error.type"] = exc_type.__name__ if exc_type else None
            entry["error.message"] = str(exc)
            entry["error.stack_trace"] = "".join(traceback.format_exception(*record.exc_info))
        # Secrets in a message or an exception text must not reach the worker's log either.
        return orjson.dumps(redact_log_entry(entry), default=str).decode()


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for the worker: JSON lines on stderr; chatty libraries one level quieter."""
    quiet = "WARNING" if level in ("DEBUG", "INFO") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": sys.stderr}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "aiokafka": {"level": quiet},
            "elastic_transport": {"level": quiet},
            "faust": {"level": level if level == "DEBUG" else "WARNING"},
            "mode": {"level": level if level == "DEBUG" else "WARNING"},
        },
    }


def configure(level: str = "INFO") -> None:
    """Apply `logging_config(level)` (for processes that do not go through faust's Worker)."""
    import logging.config

    logging.config.dictConfig(logging_config(level))
