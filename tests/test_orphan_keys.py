"""`doctor` finds keys of no subject and `doctor --repair --confirm` destroys them (RET-5, AUD-4).

A killed import leaves the keys it made for its batch (up to 1,000) with no `ContactAdded`
for any of them. Simulated here as the import does it: the sealer makes the batch's keys and
the process stops before the events are stored.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from cli_helpers import Cli, new_tenant
from support import login

from processor.domain.ids import store_id
from processor.integrity.doctor import run_doctor
from processor.integrity.orphans import ORPHAN, ORPHAN_AGE, repair_orphans

BATCH = 1000


def _killed_import(proc, count: int = BATCH) -> list[str]:
    """The keys an import makes for its batch, and then nothing: the process was killed."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    proc.sealer.new_subjects(ids, proc.now())
    proc.end_command()
    return ids


def _orphans_found(report) -> set[str]:
    return {f["key"].split(" ")[0] for f in report["findings"] if f["problem"] == ORPHAN}


def test_doctor_reports_keys_of_no_subject_once_older_than_the_threshold__RET_5__AUD_4(acme, clock):
    """A killed import's keys are reported after the threshold, never a live contact's key."""
    alice = login(acme, "alice")
    kept = alice.contacts.add("acme", "news", "kept@example.dk", "email:form")["contact_id"]
    orphans = _killed_import(acme)
    young = run_doctor(login(acme, "grete").session)
    assert young["ok"], young["findings"]  # an import in flight is not flagged
    clock.advance(ORPHAN_AGE + timedelta(minutes=1))
    report = run_doctor(login(acme, "grete").session)
    assert _orphans_found(report) == set(orphans)
    assert str(kept) not in _orphans_found(report)
    assert report["counts"]["keystore"] == BATCH and not report["ok"]


def test_repair_destroys_keys_of_no_subject_only_when_confirmed_each_batch_an_event__RET_5__AUD_4(
    acme, clock
):
    """Without --confirm nothing changes; with it the keys go and an event names them."""
    orphans = _killed_import(acme, 3)
    clock.advance(ORPHAN_AGE + timedelta(minutes=1))
    grete = login(acme, "grete")
    plan = repair_orphans(grete.session, confirm=False)
    assert sorted(plan["orphan_keys"]) == sorted(orphans) and plan["destroyed"] == 0
    assert not any(acme.keys.is_shredded(sid) for sid in orphans)
    done = repair_orphans(grete.session, confirm=True)
    assert done["destroyed"] == 3 and done["events"] == 1
    assert all(acme.keys.is_shredded(sid) for sid in orphans)
    recorded = [
        e
        for e in acme.store.events.get(store_id())
        if type(e).__qualname__ == "Store.OrphanSubjectKeysDestroyed"
    ]
    assert [(sorted(e.subject_ids), e.keys, e.actor) for e in recorded] == [
        (sorted(orphans), 3, "grete")
    ]
    assert acme.ledger.verify().ok
    after = run_doctor(grete.session)
    assert after["ok"], after["findings"]


def test_repair_is_refused_to_a_controllers_administrator__RET_5(acme, clock):
    """Only the people who may run the doctor may repair the key store."""
    from processor.kernel.errors import AccessDeniedError

    _killed_import(acme, 1)
    clock.advance(ORPHAN_AGE + timedelta(minutes=1))
    with pytest.raises(AccessDeniedError):
        repair_orphans(login(acme, "alice").session, confirm=True)


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner(shared: Cli) -> Cli:
    """One store per backend for the command-line tests: conftest's `shared`, by this name."""
    return shared


def test_cli_doctor_reports_and_repair_confirm_destroys_keys_of_no_subject__RET_5__AUD_4(
    runner: Cli,
):
    """`doctor` exits 3 naming each; `--repair` only plans (exit 1); `--confirm` destroys (0)."""
    tenant = new_tenant(runner)
    tenant.add("stays@example.dk")
    proc = runner.open()
    try:
        # Made an hour ago by an import that was killed before it stored its events.
        orphans = [str(uuid.uuid4()) for _ in range(5)]
        proc.keys.create_subject_keys(orphans, proc.now() - timedelta(hours=1))
        fresh = [str(uuid.uuid4())]
        proc.keys.create_subject_keys(fresh, proc.now())  # an import still in flight
    finally:
        proc.close()
    result = runner.run("doctor", user="grete", as_json=True)
    assert result.exit_code == 3
    assert _orphans_found(json.loads(result.stdout)) == set(orphans)
    line = runner.fails(1, "doctor", "--repair", user="sam")
    assert "--confirm" in line
    done = runner.ok("doctor", "--repair", "--confirm", user="sam")
    assert sorted(done["orphan_keys"]) == sorted(orphans) and done["destroyed"] == len(orphans)
    assert runner.ok("doctor", user="grete")["ok"]
    assert "no keys of no subject" in runner.text("doctor", "--repair", user="sam")
    runner.fails(1, "doctor", "--repair", "--confirm", user=tenant.admin)
