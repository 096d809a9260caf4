"""Micro-benchmark of the raw log parsers: lines/s on one core per format, fixed format vs auto-detection,
next to bare `orjson.loads` + `orjson.dumps` of the same lines, and the measured cost of the default
redaction the worker runs next (`Redactor.doc` on every document plus `Redactor.bytes` on the record):
parse+redact lines/s and redaction as a share of the parse cost. Not a test; run it on a quiet machine:

    python -m bench.parsers_micro [--lines 20000] [--repeat 5]

Lines are generated deterministically (seeded), shaped like real output of common runtimes.
"""

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC

import orjson

from parsers.context import ParseContext
from parsers.raw import RAW_FORMATS
from pipeline.enrich.redact import Redactor

CTX = ParseContext(received_ns=1_796_284_800_000_000_000, default_tz=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
_WORDS = (
    "order",
    "payment",
    "cart",
    "user",
    "session",
    "cache",
    "db",
    "queue",
    "retry",
    "timeout",
    "shipped",
    "created",
    "updated",
    "failed",
    "slow",
    "request",
    "served",
    "started",
    "connected",
)
_LEVELS = ("DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR")
_LOGGERS = (
    "com.acme.orders.OrderService",
    "c.a.billing.InvoiceController",
    "org.apache.kafka.clients.Metadata",
)


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(3, 9)))


def _time(rng: random.Random, sep: str = "T") -> str:
    return f"2026-12-03{sep}07:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}"


def _json(rng: random.Random) -> str:
    doc: dict[str, object] = {
        "level": rng.choice(("info", "warn", "error", "debug")),
        "ts": _time(rng) + "Z",
        "logger": rng.choice(_LOGGERS),
        "caller": f"handlers/api.go:{rng.randint(10, 400)}",
        "msg": _sentence(rng),
        "request_id": f"req-{rng.randint(1, 10**6)}",
        "duration_ms": rng.randint(1, 900),
    }
    if rng.random() < 0.5:
        doc["trace_id"] = TRACE
        doc["span_id"] = "00f067aa0ba902b7"
    return orjson.dumps(doc).decode()


def _logfmt(rng: random.Random) -> str:
    return (
        f"ts={_time(rng)}Z level={rng.choice(('info', 'warn', 'error'))} "
        f"caller=main.go:{rng.randint(1, 300)} "
        f'msg="{_sentence(rng)}" status={rng.choice((200, 201, 404, 500))} took={rng.randint(1, 900)}ms '
        f"trace_id={TRACE}"
    )


def _syslog(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return (
            f"<{rng.randint(8, 191)}>1 {_time(rng)}Z web-{rng.randint(1, 9)} api {rng.randint(100, 9999)} "
            f'ID47 [meta sequenceId="{rng.randint(1, 999)}"] {_sentence(rng)}'
        )
    return (
        f"<{rng.randint(8, 191)}>Dec  3 07:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d} web-1 "
        f"sshd[{rng.randint(100, 9999)}]: {_sentence(rng)}"
    )


def _access(rng: random.Random) -> str:
    line = (
        f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)} - - [03/Dec/2026:07:{rng.randint(0, 59):02d}:"
        f'{rng.randint(0, 59):02d} +0000] "{rng.choice(("GET", "POST"))} /api/{rng.choice(_WORDS)}?id='
        f'{rng.randint(1, 9999)} HTTP/1.1" {rng.choice((200, 200, 304, 404, 502))} {rng.randint(0, 90000)} '
        f'"https://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"'
    )
    if rng.random() < 0.5:
        line += f" {rng.random():.3f} {rng.random():.3f}"
    return line


def _text(rng: random.Random) -> str:
    level, logger, message = rng.choice(_LEVELS), rng.choice(_LOGGERS), _sentence(rng)
    layout = rng.randrange(4)
    thread = f"http-nio-8080-exec-{rng.randint(1, 9)}"
    if layout == 0:
        return f"{_time(rng, ' ').replace('.', ',')} {level:5} [{thread}] {logger} - {message}"
    if layout == 1:
        return f"{_time(rng, ' ').replace('.', ',')} - {logger} - {level} - {message}"
    if layout == 2:
        return f"17/06/09 20:{rng.randint(10, 59)}:{rng.randint(10, 59)} {level} executor.Executor: {message}"
    clock = f"07:{rng.randint(10, 59)}:{rng.randint(10, 59)}"
    return f"2026/12/03 {clock} [error] 2841#2841: *{rng.randint(1, 999)} {message}"


GENERATORS: dict[str, Callable[[random.Random], str]] = {
    "json": _json,
    "logfmt": _logfmt,
    "syslog": _syslog,
    "access": _access,
    "text": _text,
}


def _seconds(function: Callable[[bytes], object], lines: list[bytes]) -> float:
    # CPU time of this process: lines/s per core, not skewed by other processes waiting for the CPU.
    start = time.process_time()
    for line in lines:
        function(line)
    return time.process_time() - start


def _rates(functions: list[Callable[[bytes], object]], lines: list[bytes], repeat: int) -> list[float]:
    """Lines/s of each function: best of `repeat` rounds, interleaved so that noise from other processes
    hits them alike."""
    best = [float("inf")] * len(functions)
    order = list(range(len(functions)))
    for _ in range(repeat):
        for index in order:
            best[index] = min(best[index], _seconds(functions[index], lines))
        # Alternate who goes first, so caches and clock ramps favour none of them.
        order.reverse()
    return [len(lines) / seconds for seconds in best]


def _baseline(line: bytes) -> bytes:
    try:
        return orjson.dumps(orjson.loads(line))
    except orjson.JSONDecodeError:
        # Non-JSON formats: what orjson costs to reject the line and write it back as a string.
        return orjson.dumps(line.decode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--formats", nargs="*", default=list(GENERATORS), choices=list(GENERATORS))
    args = parser.parse_args()
    print(
        "| format | fixed (lines/s) | auto (lines/s) | auto cost | fixed+redact (lines/s) | redact µs/line "
        "| redact cost (% of parse) | orjson loads+dumps (lines/s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    redactor = Redactor()
    for name in args.formats:
        generate = GENERATORS[name]
        rng = random.Random(name)
        lines = [generate(rng).encode() for _ in range(args.lines)]
        fixed, auto = RAW_FORMATS[name], RAW_FORMATS["auto"]

        def parse_redact(line: bytes, parse: Callable = fixed) -> object:
            docs = parse(line, CTX)
            for doc in docs:
                redactor.doc(doc)
            return redactor.bytes(line)

        fixed_rate, auto_rate, redact_rate, base_rate = _rates(
            [
                lambda line, parse=fixed: parse(line, CTX),
                lambda line, parse=auto: parse(line, CTX),
                parse_redact,
                _baseline,
            ],
            lines,
            args.repeat,
        )
        redactor.drain()
        cost = fixed_rate / auto_rate - 1
        redact_us = (1 / redact_rate - 1 / fixed_rate) * 1e6
        share = fixed_rate / redact_rate - 1
        print(
            f"| {name} | {fixed_rate:,.0f} | {auto_rate:,.0f} | {cost:+.0%} | {redact_rate:,.0f} "
            f"| {redact_us:.1f} | {share:+.0%} | {base_rate:,.0f} |"
        )


if __name__ == "__main__":
    main()
