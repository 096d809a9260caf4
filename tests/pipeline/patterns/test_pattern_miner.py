"""PatternMiner: document fields, bounds, restarts from snapshots, eviction, new-pattern alerts."""

import hashlib
import json
import os
import subprocess
import sys

from pipeline.mappings import load_fields
from pipeline.patterns import (
    Mined,
    PatternConfig,
    PatternMiner,
    miner_config,
    new_pattern_doc,
    new_pattern_doc_id,
    pattern_id,
)
from pipeline.patterns.miner import key_of
from pipeline.patterns.persistence import CheckpointMiner, SnapshotSlot
from tests.pipeline.patterns.samples import RUNTIMES, sample

REFUSED = "Connection to 10.0.0.7:5432 refused after 3 retries"


def log(message: str, level: str = "error", service: str = "checkout") -> dict:
    return {"@timestamp": "2026-12-03T07:00:00.000000000Z", "message": message, "log.level": level,
            "service.name": service}


def test_enrich_sets_id_template_and_params() -> None:
    doc = log(REFUSED)
    mined = PatternMiner().enrich(doc, "app")
    template = "Connection to <IP> refused after <NUM> retries"
    assert doc["log.pattern.template"] == template
    assert doc["log.pattern.id"] == hashlib.sha1(template.encode()).hexdigest()[:16] == pattern_id(template)
    assert doc["log.pattern.params"] == ["10.0.0.7:5432", "3"]
    assert mined is not None and mined.created and mined.key == key_of("app", "checkout")


def test_a_line_without_variables_has_no_params_field() -> None:
    doc = log("signal process started", "info")
    PatternMiner().enrich(doc)
    assert doc["log.pattern.template"] == "signal process started"
    assert "log.pattern.params" not in doc


def test_documents_without_a_message_are_left_alone() -> None:
    miner = PatternMiner()
    for doc in ({"span.name": "GET /"}, {"message": "  \n "}, {"message": {"structured": True}}):
        before = dict(doc)
        assert miner.enrich(doc) is None
        assert doc == before


def test_only_the_first_line_of_a_multiline_message_is_mined() -> None:
    miner = PatternMiner()
    first = miner.enrich(log("Unhandled error in job 7\nTraceback (most recent call last):\n  File x"))
    second = miner.enrich(log("Unhandled error in job 8\nKeyError: 'a'"))
    assert first is not None and second is not None
    assert first.template == second.template == "Unhandled error in job <NUM>"


def test_params_are_bounded_in_count_and_length() -> None:
    miner = PatternMiner(PatternConfig(max_params=4, max_param_chars=10))
    doc = log("values " + " ".join(str(n) for n in range(40)) + ' "' + "x" * 50 + '"')
    miner.enrich(doc)
    assert doc["log.pattern.params"] == ["0", "1", "2", "3"]
    doc = log('quoted "' + "y" * 50 + '"')
    miner.enrich(doc)
    assert doc["log.pattern.params"] == ['"' + "y" * 9]


def test_services_and_datasets_mine_apart() -> None:
    miner = PatternMiner()
    for service in ("checkout", "payment"):
        for dataset in ("app", "nginx"):
            mined = miner.enrich(log(REFUSED, service=service), dataset)
            assert mined is not None and mined.created
    assert miner.template_count() == 4


def test_ids_survive_a_restart_from_the_snapshots() -> None:
    """Mine every sample, snapshot, start a new miner from the snapshots: same ids, nothing new."""
    messages = [(runtime, message) for runtime in RUNTIMES for _, message in sample(runtime)]
    before = PatternMiner()
    for runtime, message in messages:
        before.mine(message, runtime)
    expected = [before.mine(message, runtime).id for runtime, message in messages]
    after = PatternMiner()
    after.load(before.state(changed_only=False))
    mined = [after.mine(message, runtime) for runtime, message in messages]
    assert [m.id for m in mined] == expected
    assert not any(m.created for m in mined)
    assert after.template_count() == before.template_count()


def test_ids_are_the_same_in_another_process() -> None:
    """No per-process salt (Python's `hash()` has one): a fresh interpreter mines the same ids."""
    messages = [message for _, message in sample("hdfs")]
    miner = PatternMiner()
    expected = [miner.mine(message, "k").id for message in messages]
    script = (
        "import sys, json\n"
        "from pipeline.patterns import PatternMiner\n"
        "miner = PatternMiner()\n"
        "print(json.dumps([miner.mine(m, 'k').id for m in json.load(sys.stdin)]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "random"}
    result = subprocess.run([sys.executable, "-c", script], input=json.dumps(messages), capture_output=True,
                            text=True, check=True, env=env)
    assert json.loads(result.stdout) == expected


def test_state_holds_only_the_keys_changed_since_the_last_call() -> None:
    miner = PatternMiner()
    miner.enrich(log(REFUSED), "app")
    miner.enrich(log(REFUSED, service="payment"), "app")
    assert set(miner.state()) == {key_of("app", "checkout"), key_of("app", "payment")}
    assert miner.state() == {}
    miner.enrich(log(REFUSED.replace("3", "4")), "app")  # same template, nothing to save
    assert miner.state() == {}
    miner.enrich(log("Disk full on /var/lib/data"), "app")
    assert set(miner.state()) == {key_of("app", "checkout")}


def test_drain3_does_not_snapshot_on_the_message_path() -> None:
    slot = SnapshotSlot()
    miner = CheckpointMiner(slot, miner_config(max_templates=10))
    miner.add_log_message("one new template")
    assert slot.state is None
    assert miner.checkpoint() == slot.state is not None


def test_least_recently_seen_templates_are_evicted_under_the_cap() -> None:
    miner = PatternMiner(PatternConfig(max_templates=2))
    lines = ["alpha started", "beta finished cleanly", "gamma is a longer line here"]
    evicted = [miner.mine(line, "k").evicted for line in lines[:2]]
    miner.mine(lines[0], "k")  # alpha is now more recent than beta
    evicted.append(miner.mine(lines[2], "k").evicted)
    assert evicted == [0, 0, 1]
    assert miner.template_count() == 2
    assert not miner.mine(lines[0], "k").created  # kept
    assert miner.mine(lines[1], "k").created  # evicted, so mined anew (and evicts gamma)


def test_the_lru_order_survives_a_restart() -> None:
    miner = PatternMiner(PatternConfig(max_templates=2))
    for line in ("alpha started", "beta finished cleanly", "alpha started"):
        miner.mine(line, "k")
    restarted = PatternMiner(PatternConfig(max_templates=2))
    restarted.load(miner.state(changed_only=False))
    assert restarted.mine("gamma is a longer line here", "k").evicted == 1
    assert not restarted.mine("alpha started", "k").created


def test_the_key_cap_drops_the_least_recent_key_with_its_templates() -> None:
    miner = PatternMiner(PatternConfig(max_keys=2))
    miner.mine("alpha started", "a")
    miner.mine("beta finished cleanly", "a")
    miner.mine("alpha started", "b")
    miner.mine("alpha started", "a")  # b is now the least recent key
    assert miner.mine("alpha started", "c").evicted == 1
    assert miner.template_count() == 3
    assert miner.mine("alpha started", "b").evicted == 2  # a goes, with both its templates


def test_new_pattern_alert_fires_once_per_service_and_template_at_warn_or_above() -> None:
    miner = PatternMiner()
    alerts = [
        miner.enrich(log(REFUSED, "info")),  # seen, but not at an alerting level
        miner.enrich(log(REFUSED, "error")),  # first at error: alert
        miner.enrich(log(REFUSED.replace("3", "9"), "warn")),  # same template, already alerted
        miner.enrich(log(REFUSED, "fatal", service="payment")),  # another service: its own first
        miner.enrich(log("Disk full on /var/lib/data", "warn")),
        miner.enrich(log("Disk full on /srv/x/y", "warn")),
    ]
    assert [mined.alert for mined in alerts if mined] == [False, True, False, True, True, False]


def test_a_generalized_template_does_not_alert_again() -> None:
    """Drain widens `Granted role admin to user bob` to `... <*> ...`: a new id, the same pattern."""
    miner = PatternMiner()
    first = miner.enrich(log("Granted role admin to user bob by carol", "warn"))
    second = miner.enrich(log("Granted role viewer to user dave by erin", "warn"))
    assert first and first.alert and second and not second.alert
    assert first.id != second.id


def test_alerts_do_not_fire_again_after_a_restart() -> None:
    miner = PatternMiner()
    miner.enrich(log(REFUSED))
    restarted = PatternMiner()
    restarted.load(miner.state())
    mined = restarted.enrich(log(REFUSED))
    assert mined and not mined.alert


def test_new_pattern_document() -> None:
    doc = log(REFUSED)
    doc["trace.id"] = "4bf92f3577b34da6a3ce929d0e0e4736"
    mined = PatternMiner().enrich(doc)
    assert isinstance(mined, Mined) and mined.alert
    event = new_pattern_doc(doc, mined)
    assert event == {
        "@timestamp": "2026-12-03T07:00:00.000000000Z",
        "service.name": "checkout",
        "trace.id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "event.kind": "alert",
        "log.level": "error",
        "message": "New error log pattern for checkout: Connection to <IP> refused after <NUM> retries",
        "log.pattern.id": mined.id,
        "log.pattern.template": "Connection to <IP> refused after <NUM> retries",
    }


def test_the_same_event_from_two_workers_has_one_document_id() -> None:
    first, second = (PatternMiner().enrich(log(message)) for message in (REFUSED, REFUSED.replace("3", "8")))
    other = PatternMiner().enrich(log(REFUSED, service="payment"))
    assert first and second and other and first.alert and second.alert
    assert new_pattern_doc_id(first) == new_pattern_doc_id(second) != new_pattern_doc_id(other)


def test_every_field_written_is_declared() -> None:
    doc = log(REFUSED)
    mined = PatternMiner().enrich(doc)
    assert mined is not None
    declared = load_fields()
    assert set(doc) <= set(declared)
    assert set(new_pattern_doc(doc, mined)) <= set(declared)
    assert {"log.pattern.id", "log.pattern.template", "log.pattern.params"} <= set(doc)
