"""`logtrace worker` whose consumer drops fetched records for a while (test-only fault injection).

It reproduces the fetch stall of faust-streaming/faust#629 as we observed it (pipeline/stall.py): faust
drops records aiokafka has fetched, so the fetch position is past them and they are never fetched again.
LOGTRACE_TEST_DROP_TOPIC=topic, LOGTRACE_TEST_DROP_S=seconds (dropping starts at the topic's first
record), LOGTRACE_TEST_DROP_FILE=path (how many records were dropped, written when dropping ends).
"""

import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from faust.transport.consumer import Consumer

TOPIC = os.environ.pop("LOGTRACE_TEST_DROP_TOPIC")
SECONDS = float(os.environ.pop("LOGTRACE_TEST_DROP_S"))
REPORT = os.environ.pop("LOGTRACE_TEST_DROP_FILE")
_original = Consumer.getmany
_started: float | None = None
_dropped = 0


async def _dropping(self: Consumer, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
    global _started, _dropped
    async for tp, message in _original(self, timeout):
        if tp.topic == TOPIC and _started is None:
            _started = time.monotonic()
        if _started is not None and _dropped >= 0:
            if time.monotonic() - _started < SECONDS:
                if tp.topic == TOPIC:
                    _dropped += 1
                    continue
            else:
                with open(REPORT, "w") as handle:
                    handle.write(str(_dropped))
                _dropped = -1  # done
        yield tp, message


Consumer.getmany = _dropping  # type: ignore[method-assign]

if __name__ == "__main__":
    from pipeline.cli import main

    sys.argv = ["logtrace", *sys.argv[1:]]
    main()
