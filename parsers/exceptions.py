"""Exception text inside a multi-line event: Java/Scala, JavaScript, .NET, Python and Go stack traces.

Sample input (one Kafka record):
`Request failed\\njava.lang.IllegalStateException: boom\\n\\tat a.B.c(B.java:42)`.
The event's message keeps everything; the stack trace part goes to error.stack_trace as well.
"""

import re
from typing import NamedTuple

_FRAME = re.compile(r"\n[ \t]+at \S")
_HEADER = re.compile(
    r"(?:Exception in thread \"[^\"]*\" )?(?:Unhandled exception\. )?"
    r"(?P<type>[A-Za-z_$][\w$.]*)(?::[ \t]*(?P<message>.*))?$"
)
_PYTHON = "Traceback (most recent call last):"


class ExceptionText(NamedTuple):
    """Error fields of one exception: class (or None), its message (or None) and the trace text."""

    type: str | None
    message: str | None
    stack_trace: str


def _header(line: str) -> tuple[str | None, str | None]:
    match = _HEADER.match(line.strip())
    if match is None:
        return None, None
    return match.group("type"), match.group("message")


def find(text: str) -> ExceptionText | None:
    """The stack trace in a multi-line `text`, with its exception type and message; None if it has none."""
    if "\n" not in text:
        return None
    start = text.find(_PYTHON)
    if start >= 0:
        stack = text[start:].rstrip()
        # Python names the exception on the last line of the traceback.
        return ExceptionText(*_header(stack.rsplit("\n", 1)[-1]), stack)
    if "\ngoroutine " in text:
        start = text.find("panic: ")
        if start >= 0:
            stack = text[start:].rstrip()
            message = stack.partition("\n")[0].removeprefix("panic: ")
            return ExceptionText("panic", message, stack)
    frame = _FRAME.search(text)
    if frame is None:
        return None
    # Java, Scala, JavaScript and .NET put `Type: message` on the line before the first `at` frame.
    start = text.rfind("\n", 0, frame.start()) + 1
    stack = text[start:].strip()
    return ExceptionText(*_header(text[start : frame.start()]), stack)
