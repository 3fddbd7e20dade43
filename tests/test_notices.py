"""Notices to controllers, and a controller told of a suspected misuse (ACC-14).

One mechanism (`ControllerNotified`, `NoticeAcknowledged`) on SQLite and PostgreSQL, through the
Python API and the command line.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from cli_helpers import Cli, new_tenant
from support import START, login

from processor import desk
from processor.domain.ids import user_id
from processor.kernel.errors import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from processor.keys.sealing import records_subject
from processor.notices.domain import BREACH, SUSPECTED_MISUSE, Notice
from processor.notices.post import new_notice
from processor.readmodels.rebuild import rebuild

ATTEMPTS = 5  # policies/profiles.toml: lockout_attempts of the standard profile


def _fail_logins(proc, name: str, times: int = ATTEMPTS) -> None:
    for _ in range(times):
        with pytest.raises(AccessDeniedError):
            desk.login(proc, name, "pcr1_wrong")


def _locked(proc, name: str) -> bool:
    return bool(proc.find(user_id(name)).locked)


def test_locking_a_controller_user_notifies_that_controller__ACC_14(acme):
    """Failed logins up to the lockout lock mia and tell acme once, in the lock's own commit."""
    _fail_logins(acme, "mia", ATTEMPTS - 1)
    assert login(acme, "alice").notices.list() == []
    _fail_logins(acme, "mia", 1)
    assert _locked(acme, "mia")
    _fail_logins(acme, "mia", 2)  # refusals of a locked user lock nothing again

    notices = login(acme, "alice").notices.list()
    assert len(notices) == 1
    notice = notices[0]
    assert notice["controller"] == "acme"
    assert notice["kind"] == SUSPECTED_MISUSE
    assert notice["actor"] == "policy"
    assert notice["at"] == START
    assert "mia" in notice["title"]
    assert f"after {ATTEMPTS} refused attempts" in notice["body"]
    assert "15 minutes" in notice["body"]
    assert notice["policy_version"] == acme.policies.version
    assert notice["acknowledged_at"] is None
    assert login(acme, "bob").notices.list() == []

    # Same commit: the lock and the notice are consecutive records, and the notice names the
    # refusal that caused it.
    notes = acme.store.recorder.select_notifications(start=1, limit=10_000)
    topics = [n.topic.split(":")[-1] for n in notes]
    at = topics.index("Notice.ControllerNotified")
    assert topics[at - 1] == "User.UserLocked"
    assert topics[at - 3] == "AccessDenial.AccessDenied"
    assert notice["about"] == str(notes[at - 3].originator_id)


def test_notice_content_is_sealed_at_rest__ACC_14(acme):
    """The stored event and the read model hold the title and body only as ciphertext."""
    _fail_logins(acme, "mia")
    notice_id = login(acme, "alice").notices.list()[0]["notice_id"]
    stored = acme.find(uuid.UUID(notice_id))
    assert isinstance(stored, Notice)
    assert "mia" not in stored.title
    assert "mia" not in stored.body
    for note in acme.store.recorder.select_notifications(start=1, limit=10_000):
        if note.topic.endswith("Notice.ControllerNotified"):
            assert b"locked" not in note.state


def test_locking_processor_staff_notifies_no_controller__ACC_14(acme):
    """A locked GDPA is locked like anyone, and no controller hears of it."""
    _fail_logins(acme, "grete")
    assert _locked(acme, "grete")
    assert login(acme, "sam").notices.list() == []


def test_a_controller_acknowledges_its_notice_once__ACC_14(acme, clock):
    """Acknowledging records who and when; a second acknowledgement is a recorded refusal."""
    _fail_logins(acme, "mia")
    alice = login(acme, "alice")
    [notice] = alice.notices.list(unacknowledged=True)
    clock.advance(timedelta(hours=2))
    done = alice.notices.ack(notice["notice_id"])
    assert done["acknowledged_by"] == "alice"
    assert done["acknowledged_at"] == START + timedelta(hours=2)
    assert alice.notices.list(unacknowledged=True) == []
    [shown] = alice.notices.list("acme")
    assert shown["acknowledged_by"] == "alice"
    assert shown["acknowledged_at"] == START + timedelta(hours=2)

    with pytest.raises(RefusedError) as refused:
        alice.notices.ack(notice["notice_id"])
    assert refused.value.rule == "NoticeIsAcknowledgedOnce"
    assert not _locked(acme, "alice")


def test_administrators_see_only_their_own_notices__ACC_14(acme):
    """Another controller's notice is unknown to bob; users without the permission are refused."""
    _fail_logins(acme, "mia")
    notice_id = login(acme, "alice").notices.list()[0]["notice_id"]
    bob = login(acme, "bob")
    assert bob.notices.list() == []
    with pytest.raises(AccessDeniedError):
        bob.notices.list("acme")
    for unknown in (notice_id, str(uuid.uuid4()), "not-an-id", str(user_id("alice"))):
        with pytest.raises(NotFoundError, match="unknown notice"):
            bob.notices.ack(unknown)
    with pytest.raises(AccessDeniedError):
        login(acme, "ben").notices.list()
    with pytest.raises(AccessDeniedError):
        login(acme, "grete").notices.ack(notice_id)
    assert [n["notice_id"] for n in login(acme, "grete").notices.list("acme")] == [notice_id]
    assert login(acme, "sam").notices.list("beta") == []
    with pytest.raises(NotFoundError):
        login(acme, "sam").notices.list("nobody")


def test_notice_content_reads_erased_after_the_controller_records_key_is_shredded__ACC_14(
    acme, clock
):
    """Shredding acme's records key erases the content; kind and time stay, locks still work."""
    _fail_logins(acme, "mia")
    acme.sealer.shred([records_subject("acme")], clock.now())
    [notice] = login(acme, "grete").notices.list()
    assert notice["title"] == "[erased]"
    assert notice["body"] == "[erased]"
    assert notice["kind"] == SUSPECTED_MISUSE
    assert notice["at"] == START

    _fail_logins(acme, "ben")  # nothing can be sealed for acme any more: locked, untold
    assert _locked(acme, "ben")
    assert len(login(acme, "grete").notices.list("acme")) == 1
    with pytest.raises(RefusedError) as refused:
        new_notice(acme, controller="acme", kind=BREACH, title="t", body="b", actor="grete")
    assert refused.value.rule == "ControllerDataMustNotBeDeleted"


def test_new_notice_is_stored_only_with_the_callers_commit__ACC_14(acme):
    """`new_notice` returns an uncommitted aggregate; the caller's commit stores and lists it."""
    notice = new_notice(
        acme,
        controller="beta",
        kind=BREACH,
        title="Breach at the e-mail sub-processor",
        body="Anne Quixote's address may have been read.",
        actor="grete",
        about="breach-1",
    )
    assert login(acme, "bob").notices.list() == []
    acme.commit(notice)
    [shown] = login(acme, "bob").notices.list()
    assert shown["title"] == "Breach at the e-mail sub-processor"
    assert shown["body"] == "Anne Quixote's address may have been read."
    assert shown["about"] == "breach-1"
    assert shown["actor"] == "grete"
    with pytest.raises(InvalidInputError):
        new_notice(acme, controller="beta", kind="gossip", title="t", body="b", actor="grete")
    with pytest.raises(NotFoundError):
        new_notice(acme, controller="nobody", kind=BREACH, title="t", body="b", actor="grete")


def test_rebuilt_notices_equal_the_live_ones__ACC_14(acme):
    """The read model is a projection: a rebuild gives the same notices and acknowledgements."""
    _fail_logins(acme, "mia")
    _fail_logins(acme, "bob")
    alice = login(acme, "alice")
    alice.notices.ack(alice.notices.list()[0]["notice_id"])
    live = login(acme, "grete").notices.list()
    rebuild(acme.projector)
    assert login(acme, "grete").notices.list() == live
    assert [n["controller"] for n in live] == ["acme", "beta"]


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli(shared: Cli) -> Cli:
    """One store per backend for the command-line tests: conftest's `shared`, by this name."""
    return shared


def _lock_by_cli(cli: Cli, name: str) -> None:
    for _ in range(ATTEMPTS):
        cli.fails(1, "notices", user=name, env={"PROCESSOR_CREDENTIAL": "pcr1_wrong"})


def test_cli_lists_and_acknowledges_a_misuse_notice__ACC_14(cli):
    """`notices` lists the lockout notice to the tenant's admin; `notices ack ID` records it."""
    tenant = new_tenant(cli)
    other = new_tenant(cli)
    user = tenant.user("marketing")
    _lock_by_cli(cli, user)

    [notice] = cli.ok("notices", user=tenant.admin)["notices"]
    assert notice["kind"] == SUSPECTED_MISUSE
    assert notice["controller"] == tenant.ref
    assert user in notice["title"]
    text = cli.text("notices", "--unacknowledged", user=tenant.admin)
    assert notice["notice_id"] in text
    assert "UNACKNOWLEDGED" in text
    assert cli.ok("notices", user=other.admin)["notices"] == []
    assert "no notices" in cli.text("notices", user=other.admin)
    staff = cli.ok("notices", "--controller", tenant.ref, user="grete")["notices"]
    assert [n["notice_id"] for n in staff] == [notice["notice_id"]]

    assert "unknown notice" in cli.fails(2, "notices", "ack", notice["notice_id"], user=other.admin)
    cli.fails(1, "notices", "--controller", tenant.ref, user=other.admin)
    done = cli.ok("notices", "ack", notice["notice_id"], user=tenant.admin)
    assert done["acknowledged_by"] == tenant.admin
    assert cli.ok("notices", "--unacknowledged", user=tenant.admin)["notices"] == []
    cli.fails(1, "notices", "ack", notice["notice_id"], user=tenant.admin)
    listed = json.loads(cli.run("notices", user=tenant.admin, as_json=True).stdout)
    assert listed["notices"][0]["acknowledged_by"] == tenant.admin
