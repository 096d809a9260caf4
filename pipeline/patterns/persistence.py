"""drain3's own snapshot format, taken when the worker checkpoints rather than after every new template.

drain3 serializes its whole Drain tree (jsonpickle, zlib, base64) through a `PersistenceHandler`
(`save_state(bytes)` / `load_state()`). `SnapshotSlot` is that handler as one in-memory slot: the
worker copies the slot's bytes into a faust table or a compacted Kafka topic and hands them back
after a restart or rebalance. `CheckpointMiner` is a `TemplateMiner` that differs in two ways:

- it saves only when asked (`checkpoint()`): drain3 would otherwise re-serialize the whole tree after
  every new or changed template (`cluster_created (7)`), O(templates) on the message path;
- its save and load skip drain3's log line `Saving state of N clusters with M messages`, whose
  message count reads every cluster through the LRU cache and so marks them all as just seen,
  in id order: the least recently seen template would no longer be the one evicted.

Snapshots are unpickled: load only what this pipeline wrote (its own table or topic).
"""

import base64
import zlib

import jsonpickle
from drain3.drain import Drain
from drain3.persistence_handler import PersistenceHandler
from drain3.template_miner import TemplateMiner


class SnapshotSlot(PersistenceHandler):
    """Holds one drain3 snapshot (bytes), or None before the first save."""

    def __init__(self, state: bytes | None = None) -> None:
        self.state = state

    def save_state(self, state: bytes) -> None:
        self.state = state

    def load_state(self) -> bytes | None:
        return self.state


class CheckpointMiner(TemplateMiner):
    """A `TemplateMiner` whose snapshots are taken by `checkpoint()`, never by `add_log_message`."""

    persistence_handler: SnapshotSlot

    def get_snapshot_reason(self, change_type: str, cluster_id: int) -> None:
        """Never snapshot from the message path (drain3 asks this after every message)."""
        return None

    def save_state(self, snapshot_reason: str) -> None:
        """drain3's snapshot (jsonpickle of the Drain tree, zlib, base64) into the slot."""
        state = jsonpickle.dumps(self.drain, keys=True).encode()
        self.persistence_handler.save_state(base64.b64encode(zlib.compress(state)))

    def load_state(self) -> None:
        """Take over the tree, clusters (in LRU order) and id counter of the slot's snapshot, if any."""
        state = self.persistence_handler.load_state()
        if state is None:
            return
        loaded: Drain = jsonpickle.loads(zlib.decompress(base64.b64decode(state)), keys=True)
        self.drain.id_to_cluster = loaded.id_to_cluster
        self.drain.clusters_counter = loaded.clusters_counter
        self.drain.root_node = loaded.root_node

    def checkpoint(self) -> bytes:
        """The current state as drain3 snapshot bytes (also left in the slot)."""
        self.save_state("checkpoint")
        return self.persistence_handler.state
