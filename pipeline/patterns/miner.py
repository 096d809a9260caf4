"""Online template mining per (dataset, service) with drain3, and the pattern fields of a log document.

A log `{"message": "Connection to 10.0.0.7:5432 refused after 3 retries", "log.level": "error",
"service.name": "checkout"}` gains `log.pattern.template` `Connection to <IP> refused after <NUM>
retries`, `log.pattern.id` (first 16 hex of the template's SHA-1: the same template has the same id in
every worker and after restarts, whatever order drain3 numbered its clusters in) and
`log.pattern.params` `["10.0.0.7:5432", "3"]`. Memory is bounded twice: templates per key (drain3's
LRU `max_clusters`) and keys per miner (least recently used key dropped whole).
"""

import hashlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from parsers.result import Doc
from pipeline.patterns.masking import Mask, miner_config
from pipeline.patterns.persistence import CheckpointMiner, SnapshotSlot

ALERT_LEVELS = frozenset({"warn", "error", "fatal"})
_ID_HEX = 16


def pattern_id(template: str) -> str:
    """The stable id of a template: the first 16 hex digits of the SHA-1 of its text."""
    return hashlib.sha1(template.encode("utf-8", "surrogatepass")).hexdigest()[:_ID_HEX]


def key_of(dataset: str, service: str) -> str:
    """The miner key of a (dataset, service): JSON, so no two pairs share one."""
    return orjson.dumps([dataset, service]).decode()


@dataclass(frozen=True, slots=True)
class PatternConfig:
    """Bounds and Drain settings; `extra_masks` run before the defaults (e.g. per-topic order ids).

    `sim_th` is the share of a template's literal tokens a message must repeat to join it. 0.5 (drain3
    defaults to 0.4) keeps `Granted role admin to user bob by carol` in one template across users
    and roles; 0.7 would split those but keep apart look-alikes sharing 2/3 of their words.
    """

    max_templates: int = 1000
    max_keys: int = 500
    max_params: int = 16
    max_param_chars: int = 128
    max_message_chars: int = 1024
    sim_th: float = 0.5
    depth: int = 4
    extra_masks: tuple[Mask, ...] = ()


@dataclass(frozen=True, slots=True)
class Mined:
    """What mining one message did.

    `created`: drain3 started a new template for it. `alert`: first time this template is seen at
    warn level or above for its key (emit `new_pattern_doc`, bump the new-pattern counter).
    `evicted`: templates dropped to make room (0, 1, or a whole key's when the key cap hit).
    """

    key: str
    id: str
    template: str
    params: list[str]
    created: bool
    alert: bool
    evicted: int


@dataclass(slots=True)
class _KeyMiner:
    """One key's drain3 miner and the drain3 cluster ids that already raised a new-pattern alert."""

    drain: CheckpointMiner
    alerted: set[int] = field(default_factory=set)

    def snapshot(self) -> bytes:
        return orjson.dumps({"drain": self.drain.checkpoint().decode(), "alerted": sorted(self.alerted)})


class PatternMiner:
    """Template miners per (dataset, service), with snapshots for restarts and rebalances."""

    def __init__(self, config: PatternConfig | None = None) -> None:
        self.config = config or PatternConfig()
        self._keys: OrderedDict[str, _KeyMiner] = OrderedDict()
        self._changed: set[str] = set()

    def template_count(self) -> int:
        """Templates held over all keys (the gauge of the pattern memory)."""
        return sum(len(miner.drain.drain.id_to_cluster) for miner in self._keys.values())

    def enrich(self, doc: Doc, dataset: str = "") -> Mined | None:
        """Set the `log.pattern.*` fields of a log document in place; None when it has no message.

        `dataset` is the one the sink will route the document to, so each stream mines its own
        templates; the service is `service.name` (empty when unknown).
        """
        message = doc.get("message")
        if not isinstance(message, str):
            return None
        line = message.strip().split("\n", 1)[0][: self.config.max_message_chars].strip()
        if not line:
            return None
        service = doc.get("service.name")
        mined = self.mine(line, key_of(dataset, service if isinstance(service, str) else ""),
                          doc.get("log.level"))
        doc["log.pattern.id"] = mined.id
        doc["log.pattern.template"] = mined.template
        if mined.params:
            doc["log.pattern.params"] = mined.params
        return mined

    def mine(self, line: str, key: str, level: object = None) -> Mined:
        """Mine one single-line message under `key`."""
        miner, evicted = self._miner(key)
        drain = miner.drain
        full = len(drain.drain.id_to_cluster) >= self.config.max_templates
        result = drain.add_log_message(line)
        created = result["change_type"] == "cluster_created"
        if created and full:
            evicted += 1
            clusters = drain.drain.id_to_cluster
            miner.alerted = {cluster_id for cluster_id in miner.alerted if cluster_id in clusters}
        cluster_id = result["cluster_id"]
        alert = level in ALERT_LEVELS and cluster_id not in miner.alerted
        if alert:
            miner.alerted.add(cluster_id)
        if alert or result["change_type"] != "none":
            self._changed.add(key)
        template = result["template_mined"]
        return Mined(key, pattern_id(template), template, self._params(drain, template, line),
                     created, alert, evicted)

    def _miner(self, key: str) -> tuple[_KeyMiner, int]:
        """The miner of `key` (most recently used now) and the templates evicted to make room for it."""
        miner = self._keys.get(key)
        if miner is not None:
            self._keys.move_to_end(key)
            return miner, 0
        miner = self._keys[key] = self._new(SnapshotSlot())
        evicted = 0
        while len(self._keys) > self.config.max_keys:
            dropped_key, dropped = self._keys.popitem(last=False)
            self._changed.discard(dropped_key)
            evicted += len(dropped.drain.drain.id_to_cluster)
        return miner, evicted

    def _new(self, slot: SnapshotSlot, alerted: set[int] | None = None) -> _KeyMiner:
        config = self.config
        drain_config = miner_config(config.max_templates, config.extra_masks, config.sim_th, config.depth)
        return _KeyMiner(CheckpointMiner(slot, drain_config), alerted or set())

    def _params(self, drain: CheckpointMiner, template: str, line: str) -> list[str]:
        """The message's values at the template's masks and wildcards, bounded in count and length."""
        if "<" not in template:
            return []
        extracted = drain.extract_parameters(template, line, exact_matching=False) or ()
        limit = self.config.max_param_chars
        return [param.value[:limit] for param in extracted[: self.config.max_params]]

    def state(self, changed_only: bool = True) -> dict[str, bytes]:
        """Snapshots per key, of the keys whose templates or alerts changed since the last call
        (of every key with `changed_only=False`). Each value is JSON holding drain3's snapshot."""
        keys = self._changed if changed_only else self._keys.keys()
        snapshots = {key: self._keys[key].snapshot() for key in keys}
        self._changed.clear()
        return snapshots

    def load(self, state: Mapping[str, bytes]) -> None:
        """Take over the snapshots of `state()` (after a restart, or for keys gained in a rebalance)."""
        for key, snapshot in state.items():
            saved = orjson.loads(snapshot)
            self._keys[key] = self._new(SnapshotSlot(saved["drain"].encode()), set(saved["alerted"]))
            self._keys.move_to_end(key)
        while len(self._keys) > self.config.max_keys:
            self._keys.popitem(last=False)
