"""Ceiling C: a faust worker with the logtrace worker's faust settings whose agents only acknowledge.

Run by `bench.ceilings` as `python -m bench.ack_worker` with the same LOGTRACE_* environment as a
`logtrace worker`, plus BENCH_PROGRESS: a file rewritten twice a second with the records taken so far and
the wall-clock times of the first and latest of them (JSON).
"""

import os
import time
from pathlib import Path
from typing import Any

import faust
import orjson

from pipeline.app import create_app
from pipeline.config.kafka import KafkaSettings
from pipeline.config.worker import WorkerSettings
from pipeline.worker import RAW


def main() -> None:
    settings, kafka = WorkerSettings(), KafkaSettings()
    app = create_app(settings, kafka)
    progress = Path(os.environ["BENCH_PROGRESS"])
    state = {"records": 0, "first": None, "last": None}
    inputs = {
        "raw_logs": [topic.topic for topic in settings.raw_topics],
        "otlp_spans": [settings.otlp_spans_topic],
        "otlp_logs": [settings.otlp_logs_topic],
    }

    async def take(stream: Any) -> None:
        # Same batching as the worker's agents; `take` acknowledges each batch when the next is asked for.
        async for values in stream.take(settings.batch_max_records, within=settings.batch_max_wait_s):
            now = time.time()
            state["first"] = state["first"] or now
            state["last"] = now
            state["records"] += len(values)

    # One agent per input, like the worker (each agent is its own consumer of its topics' partitions).
    for name, topics in inputs.items():
        app.agent(app.topic(*topics, **RAW), name=name, concurrency=1)(take)

    @app.timer(0.5)
    async def report() -> None:
        # Atomically, so the reader never sees half a file.
        progress.with_suffix(".tmp").write_bytes(orjson.dumps(state))
        progress.with_suffix(".tmp").replace(progress)

    faust.Worker(app, loglevel="WARNING", quiet=True, redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
