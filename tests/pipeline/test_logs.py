"""The worker's own JSON log lines: shape, and secrets redacted before they are written."""

import logging

import orjson

from pipeline.logs import JsonFormatter


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
