"""Forged snapshot rows decide nothing: authorisation follows the events (AUD-4, ACC-8, ACC-9).

Each test does what a database administrator without the master key could do: insert one row in
the snapshot table (`stored_snapshots` on SQLite, `processor_snapshots` on PostgreSQL), made with
the library's own mapper so that it would load perfectly if it were trusted.
"""

from __future__ import annotations

import io

import pytest
from eventsourcing.domain import Snapshot
from support import login

from processor.credentials import service as credentials
from processor.domain.ids import user_id
from processor.domain.users import User
from processor.integrity.snapshots import check_snapshots
from processor.kernel.errors import AccessDeniedError


def _insert_forged_snapshot(proc, aggregate) -> None:
    """One INSERT into the snapshot table, bypassing the application (as SQL access would)."""
    stored = proc.store.mapper.to_stored_event(Snapshot.take(aggregate))
    proc.store.snapshots.recorder.insert_events([stored])


def _user(proc, name: str) -> User:
    found = proc.find(user_id(name))
    assert isinstance(found, User)
    return found


def test_forged_snapshot_creates_no_user__AUD_4__ACC_12(acme):
    """A snapshot of a GDPA "mallory" who never existed opens no session and grants nothing."""
    with acme.using_clock():
        mallory = User(
            actor="init",
            name="mallory",
            role="gdpa",
            controller=None,
            confidentiality_signed=None,
            trained=None,
        )
        credentials.issue(acme, mallory, "init")  # a credential the forger knows
    _insert_forged_snapshot(acme, mallory)
    assert acme.find(user_id("mallory")) is None
    with pytest.raises(AccessDeniedError, match="CredentialMustBeValid"):
        login(acme, "mallory")
    names = {u["name"] for u in login(acme, "grete").users.list()}
    assert "mallory" not in names


def test_forged_snapshot_does_not_promote_a_bookkeeper__AUD_4__ACC_9(acme):
    """A snapshot that makes ben an administrator leaves him a bookkeeper who may not erase."""
    ben = _user(acme, "ben")
    ben.role = "administrator"
    _insert_forged_snapshot(acme, ben)
    assert _user(acme, "ben").role == "bookkeeper"
    forged = check_snapshots(acme)  # and `processor doctor` names the forged row
    assert [f.key for f in forged] == [f"{ben.id}/{ben.version}"]
    with pytest.raises(AccessDeniedError, match="RoleMustGrantPermission"):
        login(acme, "ben").exports.export("acme", io.StringIO(), everything=True)
    with pytest.raises(AccessDeniedError, match="RoleMustGrantPermission"):
        login(acme, "ben").erasure.erase("acme", "forged", email="nobody@example.dk")


def test_forged_snapshot_does_not_unlock_a_locked_user__AUD_4__ACC_8(acme):
    """A snapshot of a locked user with `locked` cleared leaves the user locked."""
    for _ in range(5):
        with pytest.raises(AccessDeniedError):
            login(acme, "ben").exports.export("acme", io.StringIO(), everything=True)
    assert _user(acme, "ben").locked
    ben = _user(acme, "ben")
    ben.locked = False
    ben.refusals = []
    _insert_forged_snapshot(acme, ben)
    assert _user(acme, "ben").locked
    with pytest.raises(AccessDeniedError, match="UserMustNotBeLocked"):
        login(acme, "ben").controllers.show("acme")


def test_genuine_outbox_snapshots_are_still_used__AUD_4(acme):
    """The outbox's own snapshots carry a valid MAC and load; a forged copy is reported."""
    from subprocessors.outbox import RecipientOutbox

    store = acme.store
    with acme.using_clock():
        outbox = RecipientOutbox(controller_id="acme", actor="sam")
        for n in range(3):
            outbox.queue("erasure", f"ref-{n}", [], actor="sam")
    acme.commit(outbox)
    store.take_snapshot(outbox.id)
    genuine = list(store.snapshots.recorder.select_events(outbox.id))
    assert len(genuine) == 1
    assert store.snapshots.forged_rows(genuine) == []
    assert len(list(store.snapshots.get(outbox.id))) == 1
    loaded = acme.find(outbox.id)
    assert len(loaded.requests) == 3
    forged = Snapshot.take(loaded)
    forged.state["requests"] = {}
    # the forged row claims a later version, so the repository would start from it
    object.__setattr__(forged, "originator_version", loaded.version)
    row = store.mapper.to_stored_event(forged)
    assert store.snapshots.forged_rows([row]) == [row]
