"""Log pattern mining: every log message gets the id and text of its template, mined online with Drain.

`2026-12-03 07:12:01 INFO Received block blk_-1608 of size 67108864 from /10.251.43.21` gets
`log.pattern.template` `Received block <*> of size <NUM> from /<IP>` (once Drain has seen a second
block id) and a `log.pattern.id` hashed from that text, so the same template has the same id in every
worker and after every restart.
Pure code: the worker owns the miner, persists `PatternMiner.state()` and counts the outcomes.
"""

from pipeline.patterns.events import new_pattern_doc, new_pattern_doc_id
from pipeline.patterns.masking import DEFAULT_MASKS, Mask, miner_config
from pipeline.patterns.miner import Mined, PatternConfig, PatternMiner, pattern_id

__all__ = [
    "DEFAULT_MASKS",
    "Mask",
    "Mined",
    "PatternConfig",
    "PatternMiner",
    "miner_config",
    "new_pattern_doc",
    "new_pattern_doc_id",
    "pattern_id",
]
