"""LOGTRACE_LIMIT_*: configurable per-event bounds, validated at start-up, passed to the parsers."""

import pytest
from pydantic import ValidationError

from parsers.context import ParseContext
from parsers.json_log import parse
from parsers.limits import DEFAULT_LIMITS
from parsers.result import ParseError
from pipeline.config.limits import LimitSettings


def test_defaults_are_the_parsers_defaults() -> None:
    """With nothing set, the worker applies exactly the parsers' default limits."""
    assert LimitSettings().limits() == DEFAULT_LIMITS


def test_environment_sets_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable changes its bound and leaves the others alone."""
    monkeypatch.setenv("LOGTRACE_LIMIT_MAX_JSON_DEPTH", "4")
    limits = LimitSettings().limits()
    assert limits.max_json_depth == 4
    assert limits.max_record_bytes == DEFAULT_LIMITS.max_record_bytes


@pytest.mark.parametrize(
    ("name", "value"),
    [("max_value_chars", 100_000), ("max_json_depth", 0), ("max_record_bytes", 10), ("max_attributes", -1)],
)
def test_out_of_range_values_fail_at_start_up(name: str, value: int) -> None:
    """A bound that would let one event hurt the cluster (or make no sense) is refused."""
    with pytest.raises(ValidationError, match=name):
        LimitSettings(**{name: value})


def test_a_configured_depth_reaches_the_parser() -> None:
    """JSON nested deeper than the configured depth is an error result with its specific reason."""
    ctx = ParseContext(received_ns=1, limits=LimitSettings(max_json_depth=3).limits())
    results = parse(b'{"a": {"b": {"c": {"d": 1}}}}', ctx)
    assert [r.reason for r in results if isinstance(r, ParseError)] == ["json_too_deep"]
    shallow = parse(b'{"a": {"b": 1}}', ctx)
    assert not any(isinstance(r, ParseError) for r in shallow)
