"""Micro-benchmark of the default redaction (pipeline.enrich.redact): µs per line, clean vs with secrets.

    .venv/bin/python -m bench.redact_micro [--lines 20000] [--repeat 5] [--baseline OLD_REDACT_PY]

Measures `Redactor.text` on the line, `Redactor.bytes` on the record, and `Redactor.doc` on a freshly
parsed document (what prepare() runs per document; each round redacts its own copies, so documents with
secrets are measured on their first redaction), for clean lines and for lines carrying a secret.
CPU time of this process, best of `--repeat` rounds. `--baseline` loads another version of
pipeline/enrich/redact.py from a file and prints its numbers next to these (before/after in one run).
"""

import argparse
import copy
import importlib.util
import time
from collections.abc import Callable
from typing import Any

from parsers.context import ParseContext
from parsers.raw import RAW_FORMATS
from pipeline.enrich.redact import Redactor

CLEAN = [
    b'{"@timestamp":"2026-01-01T00:00:00Z","level":"info","message":"GET /api/orders/42 200 in 12ms",'
    b'"service":"checkout","user":"bob","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}',
    b'level=info msg="order shipped" order_id=98213 duration_ms=41 region=eu-west-1',
    b'10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET /index.html HTTP/1.1" 200 5120 "-" "curl/8"',
]
SECRET = [
    b'{"@timestamp":"2026-01-01T00:00:00Z","level":"info","message":"login password=hunter2 ok",'
    b'"service":"auth","authorization":"Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig"}',
    b'level=warn msg="charge" card="4111 1111 1111 1111" key=AKIAIOSFODNN7EXAMPLE',
    b'10.0.0.1 - - [01/Jan/2026:00:00:00 +0000] "GET https://u:pw@h/x?token=abc HTTP/1.1" 200 51 "-" "-"',
]


def _best(function: Callable[[Any], object], batches: list[list[Any]]) -> float:
    """µs per item: best round (CPU time); each round gets its own batch of items."""
    best = float("inf")
    for items in batches:
        started = time.process_time()
        for item in items:
            function(item)
        best = min(best, (time.process_time() - started) / len(items))
    return best * 1e6


def measure(
    redactor: Any, lines: list[bytes], lines_per_round: int, repeat: int
) -> tuple[float, float, float]:
    """(text µs, bytes µs, doc µs) of `redactor` per line of `lines`."""
    parse = RAW_FORMATS["auto"]
    ctx = ParseContext(received_ns=1_796_284_800_000_000_000)
    count = max(1, lines_per_round // len(lines))
    texts = [line.decode() for line in lines] * count
    raws = list(lines) * count
    docs = [parse(line, ctx)[0] for line in lines]
    fresh = [[copy.deepcopy(doc) for _ in range(count) for doc in docs] for _ in range(repeat)]
    result = (
        _best(redactor.text, [texts] * repeat),
        _best(redactor.bytes, [raws] * repeat),
        _best(redactor.doc, fresh),
    )
    redactor.drain()
    return result


def _load(path: str) -> Any:
    spec = importlib.util.spec_from_file_location("redact_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Redactor()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline", help="another redact.py to compare with")
    args = parser.parse_args()
    redactors = [("current", Redactor())]
    if args.baseline:
        redactors.insert(0, ("baseline", _load(args.baseline)))
    print("| version | case | text µs | bytes µs | doc µs |")
    print("|---|---|---:|---:|---:|")
    for name, lines in (("clean", CLEAN), ("secrets", SECRET)):
        for version, redactor in redactors:
            t_text, t_bytes, t_doc = measure(redactor, lines, args.lines, args.repeat)
            print(f"| {version} | {name} | {t_text:.2f} | {t_bytes:.2f} | {t_doc:.2f} |")


if __name__ == "__main__":
    main()
