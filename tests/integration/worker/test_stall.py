"""The fetch-stall watchdog, live: records the consumer fetched and then dropped (the faust fetch stall,
pipeline/stall.py) are read again from the committed offset, and nothing is lost or duplicated."""

import json

from tests.integration.worker.harness import (
    DROPPING_WORKER,
    Names,
    WorkerProcess,
    committed,
    create_topics,
    es_count,
    metric_value,
    produce,
    raw_worker_env,
    run_setup,
    wait_until,
)

RECORDS = 400


def test_a_partition_whose_fetched_records_were_dropped_is_read_again(devstack, tmp_path) -> None:
    run_setup(devstack)
    names = Names.new()
    create_topics(devstack, {names.raw: 1})
    produce(devstack, names.raw, [f"level=info msg=stall-{n} n={n}".encode() for n in range(RECORDS)])
    report = tmp_path / "dropped"
    env = raw_worker_env(
        devstack,
        names,
        LOGTRACE_TEST_DROP_TOPIC=names.raw,
        LOGTRACE_TEST_DROP_S="2",
        LOGTRACE_TEST_DROP_FILE=str(report),
    )
    worker = WorkerProcess(env, tmp_path / "worker.log", script=DROPPING_WORKER).start()
    try:
        index = f"logs-logtrace.app-{names.namespace}"
        wait_until(lambda: es_count(devstack, index) >= RECORDS, 60, what="every record indexed")
        wait_until(
            lambda: committed(devstack, names.group, names.raw).get(0) == RECORDS, 30, what="all committed"
        )
        # The stall was real: records were dropped after they were fetched, and the watchdog re-sought.
        assert int(report.read_text()) > 0
        assert metric_value(worker.metrics(), "logtrace_worker_fetch_stalls_total", topic=names.raw) >= 1
        warnings = [
            json.loads(line)
            for line in worker.log_path.read_text().splitlines()
            if '"partition stalled' in line
        ]
        assert warnings and warnings[0]["topic"] == names.raw and warnings[0]["offset"] == 0, warnings
        assert warnings[0]["stall.end_offset"] == RECORDS
        # The warning's state dump shows the drop: aiokafka fetched to the end, faust delivered none of it.
        # (It reads private faust/aiokafka state: an upgrade that moves it shows up here.)
        state = warnings[0]["stall.state"]
        assert "aiokafka" not in state, state
        assert state["aiokafka.position"] == RECORDS and state["faust.read_offset"] is None, state
        assert es_count(devstack, index) == RECORDS  # read again, indexed once
    finally:
        worker.kill()
