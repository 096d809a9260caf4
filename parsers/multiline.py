"""Grouping physical lines into events for line-oriented files: continuation lines join the event above.

Sample input (three lines, one event): `12:00:01 ERROR boom`, `java.lang.IllegalStateException: x`,
`\tat a.B.c(B.java:42)`. Kafka records need none of this: one record is one event already.
"""

import re
from collections.abc import Iterable, Iterator

# Lines that never start an event: indented frames, Java/Python/Go exception scaffolding.
_CONTINUATION = re.compile(
    rb"[ \t]|at |Caused by:|Suppressed:|\.\.\. \d+ (?:more|common frames omitted)"
    rb"|Traceback \(most recent call|During handling of the above exception"
    rb"|The above exception was the direct cause|goroutine \d+ \[|created by "
    rb"|(?:[a-zA-Z_$][\w$]*\.)+[\w$]*(?:Exception|Error|Throwable)\b"
    # java.util.logging's second line: `SEVERE: message` (Python's `INFO:name:` has no space).
    rb"|(?:SEVERE|WARNING|INFO|CONFIG|FINEST|FINER|FINE): "
)
# The last line of a Python traceback names the exception without indentation: `ValueError: bad`.
_PYTHON_LAST = re.compile(rb"[A-Za-z_][\w.]*(?::|$)")
# Go panics list `package.function(...)` frames without indentation.
_GO_FRAME = re.compile(rb"[\w./\-*()]+\(.*\)$")


def group(lines: Iterable[bytes]) -> Iterator[bytes]:
    """Yield one record per event: a line plus the continuation lines (and blank lines among them) below."""
    event: list[bytes] = []
    blanks: list[bytes] = []
    traceback = go = False
    for raw in lines:
        line = raw.rstrip(b"\r\n")
        if not line.strip():
            if event:
                blanks.append(line)
            continue
        if line.startswith(b"Traceback (most recent call"):
            traceback = True
        elif line.startswith(b"goroutine "):
            go = True
        continuation = bool(event) and (
            _CONTINUATION.match(line) is not None
            or (traceback and _PYTHON_LAST.match(line) is not None)
            or (go and _GO_FRAME.match(line) is not None)
        )
        if traceback and not line[:1].isspace() and not line.startswith(b"Traceback"):
            traceback = False
        if continuation:
            event.extend(blanks)
            event.append(line)
        else:
            if event:
                yield b"\n".join(event)
            event = [line]
            go = go and line.startswith(b"panic:")
        blanks = []
    if event:
        yield b"\n".join(event)
