"""Grouping accuracy of the default miner on the shipped samples of six runtimes."""

import pytest

from pipeline.patterns import PatternConfig, PatternMiner
from tests.pipeline.patterns.samples import RUNTIMES, grouping_accuracy, sample

# java holds two look-alikes (`Cache hit ratio for region ... window` / `Cache eviction storm for
# region ... window`, 8 of 12 words shared) that the default similarity (0.5) merges.
EXPECTED = {"go": 1.0, "hdfs": 1.0, "java": 0.83, "nginx": 1.0, "python": 1.0, "spark": 1.0}


def test_every_runtime_has_an_expectation() -> None:
    assert sorted(EXPECTED) == RUNTIMES


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_grouping_accuracy_per_runtime(runtime: str) -> None:
    assert grouping_accuracy(sample(runtime), PatternMiner()) >= EXPECTED[runtime]


def test_overall_grouping_accuracy() -> None:
    """Over all samples, weighted by lines."""
    scores = [(grouping_accuracy(rows, PatternMiner()), len(rows)) for rows in map(sample, RUNTIMES)]
    assert sum(score * lines for score, lines in scores) / sum(lines for _, lines in scores) >= 0.96


def test_higher_similarity_splits_look_alikes_but_not_the_rest() -> None:
    """The trade-off of `sim_th`: 0.7 separates the cache look-alikes but splits `Granted role <*> to
    user <*> by <*>` (3 free words of 8) into one template per line."""
    strict = PatternConfig(sim_th=0.7)
    rows = sample("java")
    cache = [row for row in rows if row[0].startswith("cache_")]
    assert grouping_accuracy(cache, PatternMiner(strict)) == 1.0
    assert grouping_accuracy(cache, PatternMiner()) == 0.0
    roles = [row for row in rows if row[0] == "role"]
    assert grouping_accuracy(roles, PatternMiner()) == 1.0
    assert grouping_accuracy(roles, PatternMiner(strict)) == 0.0


@pytest.mark.parametrize(
    ("runtime", "label", "template"),
    [
        ("hdfs", "received", "Received block <*> of size <NUM> from /<IP>"),
        ("spark", "running", "Running task <NUM> in stage <NUM> (TID <NUM>)"),
        ("java", "order", "Order <UUID> created for customer <NUM> total <NUM> EUR"),
        ("python", "task_ok", "Task tasks.send_email[<UUID>] succeeded in <DURATION>: None"),
        ("go", "dial", "dial tcp <IP>: connect: connection refused"),
    ],
)
def test_templates_read_like_the_event(runtime: str, label: str, template: str) -> None:
    miner = PatternMiner()
    rows = sample(runtime)
    for _, message in rows:
        miner.mine(message, "sample")
    messages = [message for row_label, message in rows if row_label == label]
    assert {miner.mine(message, "sample").template for message in messages} == {template}
