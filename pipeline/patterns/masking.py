r"""Masks for the obvious variables of a log message, applied before Drain sees it, and the miner config.

`Retry 3 of GET https://api.example.com/v1/users took 1.5s (id=550e8400-e29b-41d4-a716-446655440000)`
is mined as `Retry <NUM> of GET <URL> took <DURATION> (id=<UUID>)`: values that vary per event never
split a template, and named masks keep templates readable. Masks run in order, so the specific shapes
(UUID, IP, duration) come before the generic number; extra masks (per topic) run before the defaults.
"""

from collections.abc import Iterable
from typing import NamedTuple

from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig

# A mask never starts or ends inside a word: `user42` and `v2` stay tokens of their own.
_START = r"(?<![\w.\-/])"
_END = r"(?![\w.\-])"


class Mask(NamedTuple):
    """A regex whose matches become `<name>` in the mined text (several masks may share a name)."""

    name: str
    regex: str


DEFAULT_MASKS: tuple[Mask, ...] = (
    Mask("STR", r"\"[^\"\n]{0,200}\"|(?<!\w)'[^'\n]{0,200}'(?!\w)"),
    Mask("URL", r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,15}://[^\s\"'<>]+"),
    Mask("UUID", r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
    Mask("TIME", r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
                 r"|\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"),
    # IPv4 (with port), then IPv6 and other colon-grouped hex (MACs). Each branch starts with its
    # first character class and checks the character before it with a fixed-width lookbehind,
    # so the regex engine skips ahead to candidate characters instead of trying every position.
    Mask("IP", r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?::\d{1,5})?(?![\w.])"),
    Mask("IP", r"[0-9a-fA-F:](?<![\w:][0-9a-fA-F:])[0-9a-fA-F]{0,3}(?::[0-9a-fA-F]{0,4}){2,7}(?![\w:])"),
    Mask("PATH", r"/(?<![\w/.<>]/)[\w.@%+~\-]+(?:/[\w.@%+~\-]+)+/?"),
    Mask("PATH", r"[A-Za-z](?<!\w[A-Za-z]):\\[^\s\"']+"),
    # 0x..., or 8+ hex digits holding both a digit and a letter (a plain long number stays NUM).
    Mask("HEX", r"0(?<!\w0)[xX][0-9a-fA-F]+(?!\w)"),
    Mask("HEX", r"[0-9a-fA-F](?<!\w[0-9a-fA-F])"
                r"(?:(?<=\d)(?=[0-9a-fA-F]*[a-fA-F])|(?<=[a-fA-F])(?=[0-9a-fA-F]*\d))[0-9a-fA-F]{7,}(?!\w)"),
    Mask("DURATION", _START + r"\d+(?:\.\d+)?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h)(?:\d+(?:\.\d+)?"
                     r"(?:ns|us|µs|ms|s|m|h))*" + _END),
    # A sign or digit not inside a word, then digits (`(?<=\d)\d*` after a digit, `\d+` after a sign).
    Mask("NUM", r"[\-+\d](?<![\w.\-/][\-+\d])(?:(?<=\d)\d*|\d+)(?:\.\d+)?(?:[eE][\-+]?\d+)?" + _END),
)


def masking_instructions(extra: Iterable[Mask] = ()) -> list[MaskingInstruction]:
    """drain3 instructions for `extra` masks (first, so they win) then the defaults.

    Raises `re.error` for an invalid extra regex, so a bad per-topic setting fails at startup.
    """
    return [MaskingInstruction(mask.regex, mask.name) for mask in (*extra, *DEFAULT_MASKS)]


def miner_config(
    max_templates: int, extra_masks: Iterable[Mask] = (), sim_th: float = 0.4, depth: int = 4
) -> TemplateMinerConfig:
    """A drain3 config built in code (no drain3.ini): masks, LRU cap on templates, compressed snapshots.

    `max_templates` becomes drain3's `max_clusters`: past it the least recently matched template is
    evicted. Snapshots are taken only when asked (`PatternMiner.state()`), never by time.
    """
    config = TemplateMinerConfig()
    config.masking_instructions = masking_instructions(extra_masks)
    config.drain_max_clusters = max_templates
    config.drain_sim_th = sim_th
    config.drain_depth = depth
    config.snapshot_compress_state = True
    return config
