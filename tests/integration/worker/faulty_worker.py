"""`logtrace worker` whose sink fails in the middle of a batch (test-only fault injection, never shipped).

LOGTRACE_TEST_FAULT=raise|hang, LOGTRACE_TEST_FAULT_AFTER=N (documents delivered before the fault),
LOGTRACE_TEST_FAULT_FILE=path (JSON written when the fault fires: the failing batch's offsets).
`raise`: half of the failing batch is delivered, then deliver() raises an unexpected error.
`hang`: half is delivered, then deliver() waits forever — an Elasticsearch that stays down.
"""

import asyncio
import json
import os
import sys

from pipeline.worker import Runtime

MODE = os.environ.pop("LOGTRACE_TEST_FAULT")
AFTER = int(os.environ.pop("LOGTRACE_TEST_FAULT_AFTER"))
REPORT = os.environ.pop("LOGTRACE_TEST_FAULT_FILE")
_original = Runtime.deliver
_delivered = 0


async def _faulty(self, items, dead=()):  # type: ignore[no-untyped-def]
    global _delivered
    sourced = [item for item in items if item.source is not None]
    if not sourced or _delivered + len(items) <= AFTER:
        _delivered += len(items)
        return await _original(self, items, dead)
    half = len(items) // 2
    offsets = sorted(item.source.offset for item in sourced)
    with open(REPORT, "w") as handle:
        json.dump(
            {
                "first_offset": offsets[0],
                "last_offset": offsets[-1],
                "delivered": _delivered,
                "partial": [item.source.offset for item in items[:half]],
            },
            handle,
        )
    await _original(self, items[:half], ())
    if MODE == "raise":
        raise RuntimeError("injected sink failure in the middle of a batch")
    await asyncio.Event().wait()


Runtime.deliver = _faulty  # type: ignore[method-assign]

if __name__ == "__main__":
    from pipeline.cli import main

    sys.argv = ["logtrace", *sys.argv[1:]]
    main()
