"""The worker's own JSON log lines: shape, and secrets redacted before they are written."""

import logging

import orjson

from pipeline.logs import JsonFormatter, RepeatFilter


def _line(message: str, *args: object, exc: BaseException | None = None, **fields: object) -> dict:
    record = logging.LogRecord("logtrace.test", logging.WARNING, __file__, 1, message, args, None)
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    record.fields = fields
    return orjson.loads(JsonFormatter().format(record))


def test_a_log_line_is_one_json_object_with_ecs_names() -> None:
    """Level, logger and message land under their ECS names."""
    entry = _line("bulk took %d ms", 12, topic="app-logs")
    assert entry["log.level"] == "warning"
    assert entry["log.logger"] == "logtrace.test"
    assert entry["message"] == "bulk took 12 ms"
    assert entry["topic"] == "app-logs"


def test_secrets_in_message_fields_and_exceptions_are_redacted() -> None:
    """Bearer tokens, passwords in URLs and secrets in exception texts never reach the log."""
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJlLXNlY3JldA"
    entry = _line(
        "request failed: Authorization: Bearer %s",
        token,
        url="https://admin:pa55-w0rd-xyz@es.internal:9200/_bulk",
        exc=ValueError("password=hunter2-very-secret rejected"),
    )
    text = orjson.dumps(entry).decode()
    for secret in (token, "pa55-w0rd-xyz", "hunter2-very-secret"):
        assert secret not in text
    assert "[REDACTED]" in entry["message"]
    assert "request failed" in entry["message"]


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _record(name: str, message: str) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, message, (), None)


def test_a_library_flood_is_cut_to_a_burst_per_window_and_the_rest_counted() -> None:
    """20 identical aiokafka errors in a window: 5 pass; the next window's first line says 15 were dropped."""
    clock = _Clock()
    repeats = RepeatFilter(burst=5, window_s=10.0, clock=clock)
    passed = [repeats.filter(_record("aiokafka", "Unable to update metadata from %s")) for _ in range(20)]
    assert passed.count(True) == 5
    clock.now = 10.0
    after = _record("aiokafka", "Unable to update metadata from %s")
    assert repeats.filter(after)
    assert orjson.loads(JsonFormatter().format(after))["log.suppressed"] == 15


def test_logtrace_lines_and_other_templates_are_never_cut() -> None:
    """Only the repeated library template is limited: our own lines and a different message pass."""
    repeats = RepeatFilter(burst=1, window_s=10.0, clock=_Clock())
    assert all(repeats.filter(_record("logtrace.sink", "bulk retry")) for _ in range(50))
    assert repeats.filter(_record("aiokafka", "a"))
    assert not repeats.filter(_record("aiokafka", "a"))
    assert repeats.filter(_record("aiokafka", "b"))
