"""No staff path into a controller's account; a four-eyes account recovery instead
(ACC-9, ACC-12, ACC-13, ACC-14, AUD-5), on SQLite and PostgreSQL.

The attack (issue 23): the system manager records a `user-request` in the controller's name,
rotates its administrator's credential citing it, logs in, exports and acknowledges the warnings.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import login

from processor import desk
from processor.kernel.errors import AccessDeniedError, RefusedError
from processor.readmodels import tables as t


def _denied_rules(proc, actor: str) -> list[str]:
    with proc.engines.readmodels.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.select(t.denials.c.rule).where(t.denials.c.actor == actor)
            ).all()
        ]


def test_staff_cannot_record_a_user_request_in_the_controllers_name__ACC_13__ACC_9(acme):
    """The takeover's first step is refused for every processor role, and the refusal recorded."""
    for staff in ("sam", "grete"):
        with pytest.raises(AccessDeniedError, match="UserRequestsComeFromTheController"):
            login(acme, staff).controllers.instruct(
                "acme",
                "user-request",
                "please rotate alice (phone call)",
                {"change": "credential", "user": "alice"},
            )
    instructions = login(acme, "alice").controllers.show("acme")["instructions"]
    assert [i for i in instructions if i["kind"] == "user-request"] == []
    with pytest.raises(AccessDeniedError, match="UserChangesNeedTheControllersRequest"):
        login(acme, "sam").users.rotate_credential("alice", request=1)
    assert "UserRequestsComeFromTheController" in _denied_rules(acme, "sam")


def test_the_administrator_records_the_request_and_staff_carry_it_out__ACC_13(acme):
    """The controller's own administrator records the request; the system manager cites it once."""
    number = login(acme, "alice").controllers.instruct(
        "acme", "user-request", "add Carl", {"change": "add", "user": "carl", "role": "support"}
    )["number"]
    added = login(acme, "sam").users.add("carl", "support", controller="acme", request=number)
    assert added["request"] == number


def _start(proc, user: str = "alice2", by: str = "sam") -> dict:
    return login(proc, by).recovery.start("acme", user, "ticket 4711, call-back to CEO")


def test_recovery_journey_four_eyes_wait_and_cancel__ACC_13__AUD_5__ACC_14(acme, clock):
    """Start, same-person approval refused, GDPA approves, early completion refused, an
    administrator cancels; a second recovery completes after the wait, with a handed-over
    credential, and the recovered user cannot acknowledge the recovery's notice.
    """
    from processor.audit.contactpersons import ContactPersonsService

    alice = login(acme, "alice")
    ContactPersonsService(alice.session).set(
        "acme", "data-protection", "Dora Dahl", "dora@acme.example"
    )
    login(acme, "grete")
    started = _start(acme)
    assert started["state"] == "started"
    assert started["notified_administrators"] == ["alice"]
    assert started["notified_contact_persons"] == ["data-protection"]
    told = [n for n in alice.notices.list("acme") if n["kind"] == "account-recovery"]
    assert len(told) == 1
    assert "cancel" in told[0]["body"]
    assert "dora@acme.example" in told[0]["body"]
    with pytest.raises(RefusedError, match="RecoveryNeedsTwoPeople"):
        login(acme, "sam").recovery.approve("acme", 1)
    with pytest.raises(RefusedError, match="RecoveryMustBeApproved"):
        login(acme, "sam").recovery.complete("acme", 1)
    approved = login(acme, "grete").recovery.approve("acme", 1)
    assert approved["wait_ends"] == (clock.now() + timedelta(hours=72)).isoformat()
    with pytest.raises(RefusedError, match="RecoveryWaitMustHaveElapsed"):
        login(acme, "sam").recovery.complete("acme", 1)
    with pytest.raises(AccessDeniedError, match="ControllerUsersSeeOnlyTheirOwn"):
        login(acme, "bob").recovery.cancel("acme", 1, "not mine")
    assert alice.recovery.cancel("acme", 1, "we did not ask")["state"] == "cancelled"
    clock.advance(timedelta(hours=73))
    with pytest.raises(RefusedError, match="RecoveryMustBeOpen"):
        login(acme, "sam").recovery.complete("acme", 1)
    assert login(acme, "alice").find_user("alice2") is None

    _start(acme)
    login(acme, "grete").recovery.approve("acme", 2)
    clock.advance(timedelta(hours=71))
    with pytest.raises(RefusedError, match="RecoveryWaitMustHaveElapsed"):
        login(acme, "sam").recovery.complete("acme", 2)
    clock.advance(timedelta(hours=1))
    done = login(acme, "sam").recovery.complete("acme", 2)
    assert done["state"] == "completed"
    recovered = desk.login(acme, "alice2", done["credential"])
    with pytest.raises(AccessDeniedError, match="CredentialMustBeTheHoldersOwn"):
        recovered.contacts.add("acme", "news", "x@example.dk", "email:form")
    recovered.users.rotate_credential("alice2")
    own = desk.login(acme, "alice2", acme.issued["alice2"])
    notices = [n for n in own.notices.list("acme") if n["kind"] == "account-recovery"]
    assert len(notices) == 3  # the cancelled one started; the second started and completed
    for notice in notices:
        with pytest.raises(RefusedError, match="RecoveredUserMustNotAcknowledgeTheRecovery"):
            own.notices.ack(notice["notice_id"])
    assert alice.notices.ack(notices[-1]["notice_id"])["acknowledged_by"] == "alice"


def test_one_open_recovery_at_a_time_and_only_for_the_controllers_administrator__ACC_13(acme):
    """A second start while one is open is refused; a marketing user cannot be 'recovered'."""
    with pytest.raises(RefusedError, match="RecoveryIsForTheControllersAdministrator"):
        _start(acme, user="mia")
    with pytest.raises(RefusedError, match="RecoveryIsForTheControllersAdministrator"):
        _start(acme, user="bob")
    _start(acme)
    with pytest.raises(RefusedError, match="OneRecoveryAtATime"):
        _start(acme, user="alice3")
    with pytest.raises(AccessDeniedError, match="RoleMustGrantPermission"):
        login(acme, "alice").recovery.start("acme", "alice4", "ticket")


def _audit(proc):
    from processor.audit.samples import SamplesService

    return SamplesService(login(proc, "grete").session)


def test_staff_user_changes_are_deviation_candidates_until_reviewed__ACC_13__ACC_7(acme, clock):
    """A recovery's credential and a requested addition are in status, the report and every
    sample until the GDPA reviews them; registration and the administrator's own changes are not.
    """
    from processor.audit.report import build_report
    from processor.audit.status import StatusService

    grete = login(acme, "grete")
    assert StatusService(grete.session).status()["staff_user_changes_unreviewed"] == []
    number = login(acme, "alice").controllers.instruct(
        "acme", "user-request", "add Carl", {"change": "add", "user": "carl", "role": "support"}
    )["number"]
    login(acme, "sam").users.add("carl", "support", controller="acme", request=number)
    _start(acme)
    grete.recovery.approve("acme", 1)
    clock.advance(timedelta(hours=72))
    login(acme, "sam").recovery.complete("acme", 1)

    status = StatusService(grete.session).status()
    changes = status["staff_user_changes_unreviewed"]
    assert [(c["user"], c["change"], c["actor"]) for c in changes] == [
        ("carl", "added", "sam"),
        ("carl", "credential", "sam"),
        ("alice2", "added", "sam"),
        ("alice2", "credential", "sam"),
    ]
    assert any("staff changes to controllers' users" in line for line in status["attention"])
    kinds = {d["kind"] for d in build_report(grete.session)["deviations"]}
    assert "staff-user-change-unreviewed" in kinds

    for of, size in (("staff", 1), ("subprocessors", 1), ("user-changes", 10)):
        sample = _audit(acme).draw(size=size, seed=7, of=of)
        sampled = [e for e in sample["entries"] if e["kind"] == "user-change"]
        assert len(sampled) == 4, of
        assert all(e["findings"] == ["staff-changed-a-controllers-user"] for e in sampled)
    for entry in sampled:
        _audit(acme).review(sample["sample"], entry["entry"], "ok", "alice asked; ticket 4711")
    assert StatusService(grete.session).status()["staff_user_changes_unreviewed"] == []
    kinds = {d["kind"] for d in build_report(grete.session)["deviations"]}
    assert "staff-user-change-unreviewed" not in kinds
    later = _audit(acme).draw(size=5, seed=7, of="staff")
    assert [e for e in later["entries"] if e["kind"] == "user-change"] == []


def test_four_eyes_hold_even_when_one_role_may_start_and_approve__ACC_13(acme):
    """A role table widened by mistake (the system manager may also approve) still does not let
    the person who started a recovery approve it.
    """
    roles = acme.policies.roles
    manager = roles.processor["system-manager"]
    widened = manager.model_copy(
        update={"permissions": manager.permissions | {"controllers.recovery.approve"}}
    )
    roles.processor["system-manager"] = widened
    try:
        _start(acme)
        with pytest.raises(RefusedError, match="RecoveryNeedsTwoPeople"):
            login(acme, "sam").recovery.approve("acme", 1)
        assert login(acme, "grete").recovery.list("acme")[0]["state"] == "started"
    finally:
        roles.processor["system-manager"] = manager
