"""The sweep itself: certificates, unreadability, permissions, idempotency, interruption.

RET-3, RET-5 and ACC-8/ACC-9 through the Python API, on both backends; the rules deciding what is
due are in test_retention.py, the crash test with real SIGKILLs in test_retention_crash.py.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import login
from test_retention import EFFECTIVE, add_contacts, day, erased_ids, sweep_at

from ledger import Verifier, verify_receipt
from ledger.errors import LedgerError
from processor.kernel.errors import AccessDeniedError, RefusedError
from processor.readmodels import tables as t
from processor.readmodels.rebuild import rebuild
from processor.retention_policy import load_retention_policy
from processor.services import sweeper as sweeper_module


def test_deletion_certificate_verifies_offline_like_an_erasure_receipt__RET_3(acme, clock):
    """The certificate carries counts, time, rule, run and a proof under a signed checkpoint."""
    add_contacts(acme, "acme", "alice", 2, "c")
    alice = login(acme, "alice")
    alice.erasure.erase("acme", "request", email="c0@example.dk")
    with pytest.raises(RefusedError, match="no certificate yet"):
        alice.retention.certificate("acme")
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat())
    swept = sweep_at(acme, clock, day(EFFECTIVE + timedelta(days=121)))
    cert = alice.retention.certificate("acme")
    assert cert["kind"] == "deletion-certificate"
    verifier = Verifier.from_vkey(acme.ledger.vkey())
    assert verify_receipt(cert, verifier).kind == "deletion-certificate"
    details = cert["metadata"]["details"]
    assert details["subjects_made_unreadable"] == {
        "by_this_deletion": 1,
        "erased_earlier": 1,
        "total": 2,
    }
    assert details["rule"] == "RET-1" and details["sweep_run"] == swept["run"]
    assert details["deleted_at"] == day(EFFECTIVE + timedelta(days=121)).isoformat()
    assert details["events_made_unreadable"] >= 1
    assert json.loads(json.dumps(login(acme, "grete").retention.certificate("acme")))["kind"]
    forged = json.loads(json.dumps(cert))
    forged["metadata"]["details"]["subjects_made_unreadable"]["total"] = 1
    with pytest.raises(LedgerError):
        verify_receipt(forged, verifier)
    with pytest.raises(AccessDeniedError):
        login(acme, "bob").retention.certificate("acme")


def test_swept_subjects_are_unreadable_and_leave_no_plaintext__RET_5(
    acme, clock, settings, backend
):
    """After the sweep, every swept key is gone and no stored byte holds a swept value."""
    needles = ["Quixotevej 7", "Zebulon-Fjordgaard"]
    alice = login(acme, "alice")
    cid = alice.contacts.add(
        "acme", "news", "zebulon@example.dk", "email:form:Quixotevej 7 fair",
        last_name="Zebulon-Fjordgaard", fields={"address": "Quixotevej 7"},
    )["contact_id"]  # fmt: skip
    message = alice.messages.record(
        "acme", cid, "email", "Quixotevej 7 offer", "Hi Zebulon-Fjordgaard"
    )
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat(), "delete")
    sweep_at(acme, clock, day(EFFECTIVE))
    assert acme.keys.subject_keys([cid]) == {cid: None}
    shown = alice.messages.show("acme", message["message_id"])
    assert shown["content_erased"] is True and shown["subject"] is None
    assert alice.contacts.show("acme", cid)["fields"] == "[erased]"
    blobs: list[bytes] = []
    if backend == "sqlite":
        blobs += [p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file()]
    else:
        from support import pg_engine

        engine = pg_engine()
        schemas = [settings.events_location().schema, settings.keystore_location().schema]
        with engine.connect() as conn:
            for schema in schemas:
                tables = conn.execute(
                    sa.text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema=:s"
                    ),
                    {"s": schema},
                ).scalars()
                for table in list(tables):
                    rows = conn.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"'))
                    blobs += [repr(tuple(r)).encode() for r in rows]
        engine.dispose()
    assert blobs
    assert not [n for n in needles for b in blobs if n.encode() in b]


def test_only_the_gdpa_sweeps_and_only_admins_or_the_system_manager_terminate__ACC_9(acme):
    """Refusals are recorded (ACC-8) and raised as AccessDeniedError."""
    for user in ("alice", "sam", "mia"):
        with pytest.raises(AccessDeniedError):
            login(acme, user).retention.sweep()
        with pytest.raises(AccessDeniedError):
            login(acme, user).retention.due()
    for user in ("bob", "mia", "ben", "grete"):
        with pytest.raises(AccessDeniedError):
            login(acme, user).lifecycle.terminate("acme", EFFECTIVE.isoformat())
    login(acme, "sam").lifecycle.terminate("acme", EFFECTIVE.isoformat())
    with acme.engines.readmodels.connect() as conn:
        rules = [r[0] for r in conn.execute(sa.select(t.denials.c.command))]
    assert rules.count("retention sweep") == 3 and rules.count("controllers terminate") == 4


def test_sweep_is_idempotent_dry_runs_record_nothing_and_the_future_is_refused(acme, clock):
    """A second run does nothing; a dry run and a refused future sweep add no event (RET-1)."""
    add_contacts(acme, "acme", "alice", 3, "i")
    login(acme, "alice").lifecycle.terminate("acme", EFFECTIVE.isoformat(), "delete")
    clock.set(day(EFFECTIVE))
    grete = login(acme, "grete")
    before = acme.store.recorder.max_notification_id()
    with pytest.raises(RefusedError, match="future"):
        grete.retention.sweep(clock.now() + timedelta(days=1))
    preview = grete.retention.sweep(clock.now() + timedelta(days=1), dry_run=True)
    assert preview["dry_run"] and preview["subjects_due"] == 3 and preview["run"] is None
    assert acme.store.recorder.max_notification_id() == before
    first = grete.retention.sweep()
    after_first = acme.store.recorder.max_notification_id()
    assert grete.retention.sweep()["nothing_due"]
    assert acme.store.recorder.max_notification_id() == after_first
    run = [type(e).__name__ for e in acme.store.events.get(uuid.UUID(first["run"]))]
    assert run == ["SweepStarted", "SweepBatchCompleted", "ControllerSwept", "SweepCompleted"]


def test_an_interrupted_sweep_is_finished_by_the_next_without_double_erasure__RET_5(
    acme, clock, monkeypatch
):
    """A run dying after its first batch is superseded; the next erases the rest, each once."""
    ids = add_contacts(acme, "acme", "alice", 5, "k")
    login(acme, "alice").lifecycle.terminate("acme", EFFECTIVE.isoformat(), "delete")
    small = load_retention_policy().model_copy(update={"sweep_batch_size": 2})
    monkeypatch.setattr("processor.services.retention.load_retention_policy", lambda: small)
    real_tick = sweeper_module.Sweeper._tick

    def dying_tick(self, done):
        real_tick(self, done)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweeper_module.Sweeper, "_tick", dying_tick)
    with pytest.raises(KeyboardInterrupt):
        sweep_at(acme, clock, day(EFFECTIVE))
    assert len(erased_ids(acme, "acme")) == 2
    monkeypatch.setattr(sweeper_module.Sweeper, "_tick", real_tick)
    second = sweep_at(acme, clock, day(EFFECTIVE, 10))
    assert second["contacts_erased"] == 3
    assert erased_ids(acme, "acme") == set(ids)
    for cid in ids:
        names = [type(e).__name__ for e in acme.store.events.get(uuid.UUID(cid))]
        assert names.count("ContactErased") == 1
    cert = login(acme, "alice").retention.certificate("acme")["metadata"]["details"]
    assert cert["subjects_made_unreadable"]["by_this_deletion"] == 5
    with acme.engines.readmodels.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count()).where(t.sweep_runs.c.completed_at.is_(None))
            ).scalar_one()
            == 0
        )


def test_rebuilt_retention_read_models_equal_the_live_ones__RET_3(acme, clock):
    """Messages, sweep runs, totals and deletions are projections: a rebuild gives the same rows."""
    ids = add_contacts(acme, "acme", "alice", 3, "p")
    alice = login(acme, "alice")
    alice.messages.record("acme", ids[0], "email", "s", "b")
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat(), "delete")
    sweep_at(acme, clock, day(EFFECTIVE))
    tables = (t.messages, t.sweep_runs, t.retention_totals, t.deletions)

    def snapshot():
        with acme.engines.readmodels.connect() as conn:
            return {tb.name: sorted(map(tuple, conn.execute(sa.select(tb)))) for tb in tables}

    live = snapshot()
    assert all(live.values())
    rebuild(acme.projector)
    assert snapshot() == live
