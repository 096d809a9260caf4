"""Masks: each obvious variable becomes its named mask; words with digits and plain words stay."""

import re

import pytest
from drain3.masking import LogMasker

from pipeline.patterns import Mask, PatternConfig, PatternMiner, miner_config
from pipeline.patterns.masking import masking_instructions


def mask(text: str, extra: tuple[Mask, ...] = ()) -> str:
    return LogMasker(masking_instructions(extra), "<", ">").mask(text)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("took 35ms then 1.5s then 1h2m3.5s", "took <DURATION> then <DURATION> then <DURATION>"),
        ("size 67108864 delta -5 ratio +0.25 exp 1e-3", "size <NUM> delta <NUM> ratio <NUM> exp <NUM>"),
        ("id=550e8400-e29b-41d4-a716-446655440000", "id=<UUID>"),
        ("from /10.251.43.21 to 10.0.0.1:5432", "from /<IP> to <IP>"),
        ("peer fe80::1 and 2001:db8::ff00:42:8329", "peer <IP> and <IP>"),
        ("open /var/log/app/x.log or C:\\Temp\\a.txt", "open <PATH> or <PATH>"),
        ("ptr 0x7ffe12 trace 4bf92f3577b34da6a3ce929d0e0e4736", "ptr <HEX> trace <HEX>"),
        ("GET https://api.example.com/v1/users?id=4", "GET <URL>"),
        ("at 2026-12-03T07:12:01.123Z and 07:12:01,5", "at <TIME> and <TIME>"),
        ("user 'bob' said \"no such file\"", "user <STR> said <STR>"),
        # Not variables: digits inside words, apostrophes, C++ scopes, single path segments.
        ("user42 v2 can't std::vector /api x-9 HTTP/1.1", "user42 v2 can't std::vector /api x-9 HTTP/1.1"),
        ("deadbeefcafe is a word, 123456789 a number", "deadbeefcafe is a word, <NUM> a number"),
    ],
)
def test_default_masks(text: str, masked: str) -> None:
    assert mask(text) == masked


def test_extra_masks_run_before_the_defaults() -> None:
    order = Mask("ORDER", r"\bORD-\d+\b")
    assert mask("shipped ORD-1234 in 3 parcels", (order,)) == "shipped <ORDER> in <NUM> parcels"
    miner = PatternMiner(PatternConfig(extra_masks=(order,)))
    mined = miner.mine("shipped ORD-1234 in 3 parcels", "k")
    assert mined.template == "shipped <ORDER> in <NUM> parcels"
    assert mined.params == ["ORD-1234", "3"]


def test_an_invalid_extra_mask_fails_at_startup() -> None:
    with pytest.raises(re.error):
        miner_config(100, (Mask("BAD", "(unclosed"),))


def test_config_is_built_in_code() -> None:
    config = miner_config(250, sim_th=0.6, depth=5)
    assert (config.drain_max_clusters, config.drain_sim_th, config.drain_depth) == (250, 0.6, 5)
    assert {instruction.mask_with for instruction in config.masking_instructions} >= {"NUM", "IP", "UUID"}
