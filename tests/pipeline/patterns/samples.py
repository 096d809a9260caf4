"""The shipped grouping samples: `testdata/<runtime>.tsv`, one `label<TAB>message` per line.

Lines with the same label are one event kind and must share a template; different labels must not.
"""

from collections import defaultdict
from pathlib import Path

from pipeline.patterns import PatternMiner

TESTDATA = Path(__file__).parent / "testdata"
RUNTIMES = sorted(path.stem for path in TESTDATA.glob("*.tsv"))


def sample(runtime: str) -> list[tuple[str, str]]:
    """(label, message) rows of one runtime's sample."""
    return [tuple(row.split("\t", 1)) for row in (TESTDATA / f"{runtime}.tsv").read_text().splitlines()]


def grouping_accuracy(rows: list[tuple[str, str]], miner: PatternMiner) -> float:
    """Share of lines whose pattern groups exactly the lines of their label (loghub's grouping accuracy).

    The lines are mined once to learn the templates, then the ids of a second pass are compared, as a
    running worker sees them once its templates have settled.
    """
    for _, message in rows:
        miner.mine(message, "sample")
    ids = [miner.mine(message, "sample").id for _, message in rows]
    by_id: dict[str, set[int]] = defaultdict(set)
    by_label: dict[str, set[int]] = defaultdict(set)
    for index, ((label, _), pattern) in enumerate(zip(rows, ids, strict=True)):
        by_id[pattern].add(index)
        by_label[label].add(index)
    right = sum(by_id[pattern] == by_label[label] for (label, _), pattern in zip(rows, ids, strict=True))
    return right / len(rows)
