"""Properties: no message makes mining raise, and ids depend on the template text alone."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.patterns import PatternConfig, PatternMiner, new_pattern_doc, pattern_id

LEVELS = st.sampled_from(["trace", "debug", "info", "warn", "error", "fatal", None, 3])
# Text that looks like logs (masks' characters, digits, mask-like `<*>`) as well as any text at all.
LOGGY = st.text(alphabet=st.sampled_from(list("ab01:./-_ \"'<>*=\t\n[]()\\x")), max_size=80)
MESSAGES = st.one_of(st.text(max_size=300), LOGGY)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(MESSAGES, LEVELS, st.sampled_from(["a", "b", ""])), min_size=1, max_size=8))
def test_arbitrary_messages_never_raise(entries: list) -> None:
    miner = PatternMiner(PatternConfig(max_templates=3, max_keys=2, max_params=4, max_param_chars=8))
    for message, level, service in entries:
        doc = {"message": message, "log.level": level, "service.name": service}
        mined = miner.enrich(doc, "app")
        if mined is None:
            assert not message.strip()
            continue
        assert re.fullmatch(r"[0-9a-f]{16}", doc["log.pattern.id"])
        assert doc["log.pattern.id"] == pattern_id(doc["log.pattern.template"])
        assert len(doc.get("log.pattern.params", [])) <= 4
        assert all(len(param) <= 8 for param in doc.get("log.pattern.params", []))
        if mined.alert:
            new_pattern_doc(doc, mined)
    PatternMiner().load(miner.state())


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)))
def test_the_id_is_a_function_of_the_template_text(template: str) -> None:
    """Same text, same id, for any text (lone surrogates included); a copy is not the same object."""
    assert pattern_id(template) == pattern_id("".join(list(template)))
    assert re.fullmatch(r"[0-9a-f]{16}", pattern_id(template))


@settings(max_examples=100, deadline=None)
@given(st.lists(MESSAGES, min_size=1, max_size=6))
def test_two_workers_fed_the_same_lines_agree(messages: list[str]) -> None:
    first, second = PatternMiner(), PatternMiner()
    for message in messages:
        assert first.mine(message, "k").id == second.mine(message, "k").id
