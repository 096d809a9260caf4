"""Grouping physical lines into events (`logtrace parse --multiline`)."""

from parsers.multiline import group


def events(text: str) -> list[str]:
    return [event.decode() for event in group(line.encode() for line in text.splitlines(keepends=True))]


def test_java_stack_trace_joins_its_event() -> None:
    text = (
        "12:00:01 ERROR boom\n"
        "java.lang.IllegalStateException: x\n"
        "\tat a.B.c(B.java:42)\n"
        "Caused by: java.io.IOException: y\n"
        "\t... 3 more\n"
        "12:00:02 INFO next\n"
    )
    assert events(text) == [
        "12:00:01 ERROR boom\njava.lang.IllegalStateException: x\n\tat a.B.c(B.java:42)\n"
        "Caused by: java.io.IOException: y\n\t... 3 more",
        "12:00:02 INFO next",
    ]


def test_python_traceback_ends_with_the_exception_line() -> None:
    text = (
        "ERROR crashed\n"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 1, in <module>\n'
        "ValueError: bad\n"
        "\n"
        "During handling of the above exception, another exception occurred:\n"
        "\n"
        "Traceback (most recent call last):\n"
        '  File "a.py", line 3, in <module>\n'
        "KeyError: 'k'\n"
        "INFO recovered\n"
    )
    first, second = events(text)
    assert first.endswith("KeyError: 'k'")
    assert "\n\nDuring handling" in first
    assert second == "INFO recovered"


def test_go_panic_frames_join_the_panic() -> None:
    text = "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:8 +0x1d\nexit status 2\n"
    assert events(text) == [
        "panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/app/main.go:8 +0x1d",
        "exit status 2",
    ]


def test_java_util_logging_second_line_joins() -> None:
    text = "Dec 03, 2026 7:49:01 AM a.B run\nSEVERE: failed\nDec 03, 2026 7:49:02 AM a.B run\nINFO: ok\n"
    assert events(text) == [
        "Dec 03, 2026 7:49:01 AM a.B run\nSEVERE: failed",
        "Dec 03, 2026 7:49:02 AM a.B run\nINFO: ok",
    ]


def test_single_lines_and_blank_lines() -> None:
    assert events("a\n\n\nb\r\n") == ["a", "b"]
    assert events("") == []
    # Python's default format is not a java.util.logging level line.
    assert events("INFO:root:a\nINFO:root:b\n") == ["INFO:root:a", "INFO:root:b"]
