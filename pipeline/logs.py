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
import time
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
        suppressed = getattr(record, "suppressed", None)
        if suppressed:
            entry["log.suppressed"] = suppressed
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


class RepeatFilter(logging.Filter):
    """Lets at most `burst` lines of one library message template through per `window_s`; the next line
    after a window with suppressed ones carries `log.suppressed` (how many were dropped).

    A broker outage makes aiokafka's producer retry its metadata refresh without backoff and log each
    failure: 35,000 lines in 15 s were seen. logtrace's own loggers (`logtrace.*`) are never filtered.
    """

    def __init__(self, burst: int = 5, window_s: float = 10.0, clock: Any = None) -> None:
        super().__init__()
        self.burst, self.window_s = burst, window_s
        self._clock = clock or time.monotonic
        # (logger, template) -> [window start, lines let through, lines suppressed]; bounded below.
        self._seen: dict[tuple[str, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("logtrace"):
            return True
        now = self._clock()
        key = (record.name, str(record.msg))
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.window_s:
            suppressed = int(state[2]) if state is not None else 0
            if len(self._seen) >= 1000:  # templates are few; a flood of distinct ones just resets
                self._seen.clear()
            self._seen[key] = [now, 1, 0]
            if suppressed:
                record.suppressed = suppressed
            return True
        if state[1] < self.burst:
            state[1] += 1
            return True
        state[2] += 1
        return False


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A dictConfig for the worker: JSON lines on stderr; chatty libraries one level quieter."""
    quiet = "WARNING" if level in ("DEBUG", "INFO") else level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "filters": {"repeats": {"()": RepeatFilter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["repeats"],
                "stream": sys.stderr,
            }
        },
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
