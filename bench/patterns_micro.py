"""Micro-benchmark of log pattern mining: µs per raw log line parsed, with and without mining. Not a
test; run it on a quiet machine:

    python -m bench.patterns_micro [--lines 20000] [--repeat 5]

Realistic lines: the messages of the shipped grouping samples (HDFS, Spark, Java, Python, nginx, Go;
`tests/pipeline/patterns/testdata`) with fresh digits, wrapped as JSON app logs and as Java-style text
lines, e.g. `2026-12-03 07:12:01,123 ERROR [main] c.a.Orders - Received block blk_-16 of size 4 from
/10.2.3.4`. Worst case: `bench.parsers_micro` text lines, whose messages are random word salads, so
nearly every line is a new template until the per-key cap evicts.
"""

import argparse
import random
import re
from collections.abc import Callable
from pathlib import Path

import orjson

from bench.parsers_micro import CTX, GENERATORS, _rates
from parsers.raw import RAW_FORMATS
from pipeline.patterns import PatternMiner

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "pipeline" / "patterns" / "testdata"
_DIGIT = re.compile(r"\d")
_LEVELS = ("INFO", "INFO", "INFO", "WARN", "ERROR")


def _messages() -> list[str]:
    rows = (row for path in sorted(SAMPLES.glob("*.tsv")) for row in path.read_text().splitlines())
    return [row.split("\t", 1)[1] for row in rows]


def realistic(count: int, seed: int = 11) -> list[bytes]:
    """`count` lines from the sample messages, digits redrawn, half JSON and half text."""
    rng = random.Random(seed)
    messages = _messages()
    lines = []
    for index in range(count):
        message = _DIGIT.sub(lambda _: str(rng.randrange(10)), rng.choice(messages))
        level = rng.choice(_LEVELS)
        if index % 2:
            lines.append(
                orjson.dumps(
                    {
                        "level": level.lower(),
                        "ts": "2026-12-03T07:12:01.123Z",
                        "logger": "com.acme.Orders",
                        "msg": message,
                    }
                )
            )
        else:
            lines.append(f"2026-12-03 07:12:01,123 {level} [main] c.a.Orders - {message}".encode())
    return lines


def word_salad(count: int, seed: int = 11) -> list[bytes]:
    """`count` text lines of `bench.parsers_micro`: random sentences, the worst case for a miner."""
    rng = random.Random(seed)
    return [GENERATORS["text"](rng).encode() for _ in range(count)]


def _parse_only(line: bytes) -> object:
    return RAW_FORMATS["auto"](line, CTX)


def _parse_and_mine(miner: PatternMiner) -> Callable[[bytes], object]:
    parse = RAW_FORMATS["auto"]

    def run(line: bytes) -> None:
        for doc in parse(line, CTX):
            if isinstance(doc, dict):
                miner.enrich(doc, "app")

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("| lines | parse (µs/line) | parse + mining (µs/line) | mining (µs/line) | templates |")
    print("|---|---:|---:|---:|---:|")
    for name, make in (("realistic", realistic), ("word salad", word_salad)):
        lines = make(args.lines)
        # A warm miner, as in a running worker: templates are known, so this is the steady state.
        miner = PatternMiner()
        mine = _parse_and_mine(miner)
        for line in lines:
            mine(line)
        plain, mined = _rates([_parse_only, mine], lines, args.repeat)
        plain_us, mined_us = 1e6 / plain, 1e6 / mined
        print(
            f"| {name} | {plain_us:.1f} | {mined_us:.1f} | {mined_us - plain_us:.1f} | "
            f"{miner.template_count()} |"
        )


if __name__ == "__main__":
    main()
