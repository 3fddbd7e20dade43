"""End-to-end: the staff takeover refused, and `controllers recovery ...` on a simulation store,
on SQLite and PostgreSQL (ACC-9, ACC-12, ACC-13, ACC-14, AUD-5).

Time is driven by PROCESSOR_NOW (a simulation store honours it and never goes back), so the
waiting period is judged against recorded times, never the wall clock.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cli_helpers import Cli, new_tenant, shared_store
from support import BACKENDS

T0 = datetime(2027, 9, 1, 8, 0, tzinfo=UTC)  # ahead of the wall: unset, time stands still


def later(hours: float = 0) -> dict[str, str | None]:
    """PROCESSOR_NOW moved forward: the module's tests share one simulated time line."""
    global T0  # noqa: PLW0603 - one time line for the module's store
    T0 += timedelta(hours=hours)
    return {"PROCESSOR_NOW": T0.isoformat()}


@pytest.fixture(scope="module", params=BACKENDS)
def sim(request, tmp_path_factory):
    """A simulation store shared by this module's tests (one per backend).

    Not conftest's `shared`: these tests need simulation mode, on the module's own time line.
    """
    base = tmp_path_factory.mktemp("store")
    with shared_store(request.param, base, "--simulation", env=later()) as runner:
        yield runner


def test_cli_the_system_manager_cannot_record_a_user_request__ACC_13__ACC_9(sim: Cli):
    """The takeover's first step (sam writes the controller's request) exits 1, recorded; the
    rotation citing a request that does not exist is refused too; the administrator can.
    """
    env = later(1)
    tenant = new_tenant(sim)
    error = sim.fails(
        1, "controllers", "instruct", tenant.ref, "--kind", "user-request", "--change",
        "credential", "--user", tenant.admin, "--text", "phone call from the CEO",
        user="sam", env=env,
    )  # fmt: skip
    assert "UserRequestsComeFromTheController" in error
    assert "\n" not in error
    shown = sim.ok("controllers", "show", tenant.ref, user=tenant.admin, env=env)
    assert [i for i in shown["instructions"] if i["kind"] == "user-request"] == []
    error = sim.fails(
        1, "users", "credential", tenant.admin, "--rotate", "--request", "1", user="sam", env=env
    )
    assert "UserChangesNeedTheControllersRequest" in error
    assert "UserRequestsComeFromTheController" in {d["rule"] for d in sim.denials("sam")}
    own = sim.ok(
        "controllers", "instruct", tenant.ref, "--kind", "user-request", "--change", "add",
        "--user", f"{tenant.ref}-carl", "--role", "support", "--text", "add Carl",
        user=tenant.admin, env=env,
    )  # fmt: skip
    assert own["number"] == 1


def test_cli_recovery_four_eyes_wait_cancel_complete__ACC_13__AUD_5(sim: Cli, tmp_path):
    """Sam starts, sam's approval refused, grete approves, early completion refused, the
    administrator cancels; a second recovery completes after 72 h into a 0600 file; the
    credential only rotates; the recovered user cannot acknowledge the recovery notices.
    """
    tenant = new_tenant(sim)
    ref, new_admin = tenant.ref, f"{tenant.ref}-admin2"
    start = ("controllers", "recovery", "start", ref, "--user", new_admin,
             "--verification", "ticket 4711; called back the CEO")  # fmt: skip
    started = sim.ok(*start, user="sam", env=later(1))
    assert (started["recovery"], started["state"]) == (1, "started")
    assert started["notified_administrators"] == [tenant.admin]
    error = sim.fails(1, "controllers", "recovery", "approve", ref, "1", user="sam", env=later())
    assert "RecoveryNeedsTwoPeople" in error
    sim.ok("controllers", "recovery", "approve", ref, "1", user="grete", env=later())
    error = sim.fails(1, "controllers", "recovery", "complete", ref, "1", user="sam", env=later(71))
    assert "RecoveryWaitMustHaveElapsed" in error
    cancelled = sim.ok(
        "controllers", "recovery", "cancel", ref, "1", "--reason", "nobody here asked",
        user=tenant.admin, env=later(),
    )  # fmt: skip
    assert cancelled["state"] == "cancelled"
    error = sim.fails(1, "controllers", "recovery", "complete", ref, "1", user="sam", env=later(2))
    assert "RecoveryMustBeOpen" in error

    sim.ok(*start, user="sam", env=later())
    sim.ok("controllers", "recovery", "approve", ref, "2", user="grete", env=later())
    out = tmp_path / "recovered.credential"
    done = sim.ok(
        "controllers", "recovery", "complete", ref, "2", "--credential-out", out,
        user="sam", env=later(72),
    )  # fmt: skip
    assert done["state"] == "completed"
    assert out.read_text(encoding="utf-8").strip() == done["credential"]
    assert out.stat().st_mode & 0o777 == 0o600
    handed = {"PROCESSOR_CREDENTIAL": done["credential"], **later()}
    error = sim.fails(1, "export", ref, "--all", user=new_admin, env=handed)
    assert "CredentialMustBeTheHoldersOwn" in error
    sim.ok("users", "credential", new_admin, "--rotate", user=new_admin, env=handed)
    notices = sim.ok("notices", "--controller", ref, user=new_admin, env=later())["notices"]
    recovery_notices = [n for n in notices if n["kind"] == "account-recovery"]
    assert len(recovery_notices) == 3
    error = sim.fails(
        1, "notices", "ack", recovery_notices[-1]["notice_id"], user=new_admin, env=later()
    )
    assert "RecoveredUserMustNotAcknowledgeTheRecovery" in error
    sim.ok("notices", "ack", recovery_notices[-1]["notice_id"], user=tenant.admin, env=later())


def test_cli_staff_user_changes_wait_in_status_until_the_gdpa_reviews_them__ACC_13__ACC_7(
    sim: Cli,
):
    """After sam carries out an administrator's request, `status` names the change (exit 1)
    until grete reviews it in a sample; every sample carries it.
    """
    tenant = new_tenant(sim)
    carl = f"{tenant.ref}-carl"
    number = sim.ok(
        "controllers", "instruct", tenant.ref, "--kind", "user-request", "--change", "add",
        "--user", carl, "--role", "bookkeeper", "--text", "add Carl", user=tenant.admin,
        env=later(1),
    )["number"]  # fmt: skip
    sim.ok(
        "users", "add", carl, "--role", "bookkeeper", "--controller", tenant.ref,
        "--request", number, user="sam", env=later(),
    )  # fmt: skip
    result = sim.run("status", user="grete", as_json=True, env=later())
    assert result.exit_code == 1
    waiting = [c for c in json_of(result)["staff_user_changes_unreviewed"] if c["user"] == carl]
    assert [c["change"] for c in waiting] == ["added", "credential"]
    sample = sim.ok("audit", "sample", "--size", "1", "--seed", "3", user="grete", env=later())
    sampled = [e for e in sample["entries"] if e["kind"] == "user-change"]
    assert {e["entry"] for e in sampled} >= {c["entry"] for c in waiting}
    for entry in sampled:
        sim.ok(
            "audit", "review", sample["sample"], "--entry", entry["entry"], "--finding", "ok",
            "--note", "the administrator asked", user="grete", env=later(),
        )  # fmt: skip
    after = json_of(sim.run("status", user="grete", as_json=True, env=later()))
    assert after["staff_user_changes_unreviewed"] == []


def json_of(result) -> dict:
    """The JSON document a command printed, whatever its exit code."""
    return json.loads(result.stdout)
