"""End-to-end: `processor status`, `processor --version` and shell completion (issue 18)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from cli_helpers import PROCESSOR, Cli, describe, keep_listed_agreements, new_tenant

from processor.domain.ids import user_id
from processor.versions import STORE_SCHEMA_VERSION, policy_versions

T0 = "2026-03-02T09:00:00+00:00"
AFTER_TRIAL = "2026-04-10T09:00:00+00:00"


@pytest.fixture
def store(settings):
    """A fresh, initialised store on the backend under test."""
    runner = Cli(settings)
    runner.init()
    return runner


def test_status_shows_the_store_at_a_glance(store, backend):
    """`status --json` names the backend, the counts, the ledger head and the read models'
    position, and exits 0 on a healthy store, for the GDPA and the system manager alike.
    """
    tenant = new_tenant(store)
    keep_listed_agreements(store)
    tenant.add("status.one@example.dk")
    out = store.ok("status", user="grete")
    assert (out["backend"], out["simulation"], out["store_schema"]) == (
        backend,
        False,
        STORE_SCHEMA_VERSION,
    )
    assert out["counts"]["controllers"] == 1
    assert out["counts"]["contacts"] == 1
    assert out["counts"]["events"] == out["ledger"]["signed_position"] > 0
    assert out["ledger"]["unsigned_events"] == 0
    assert out["read_models"]["behind"] == 0
    assert out["ledger"]["last_verified"] is None
    assert out["attention"] == []
    text = store.text("status", user="sam")
    assert "all well" in text
    assert "never" in text


def test_status_is_for_the_gdpa_and_system_manager_only__ACC_9(store):
    """A controller's administrator may not see the processor-wide status (exit 1, recorded)."""
    tenant = new_tenant(store)
    store.fails(1, "status", user=tenant.admin)
    assert {d["rule"] for d in store.denials(tenant.admin)} == {"RoleMustGrantPermission"}


def test_status_shows_when_the_ledger_was_last_verified__AUD_4(store):
    """`ledger verify` records its outcome outside the store; `status` shows when and whether
    it passed, and verifying wrote no event (the event count is unchanged).
    """
    before = store.ok("status", user="grete")
    assert store.ok("ledger", "verify", user="grete")["ok"] is True
    after = store.ok("status", user="grete")
    verified = after["ledger"]["last_verified"]
    assert verified["ok"] is True
    assert verified["records_checked"] == before["counts"]["events"]
    assert after["counts"]["events"] == before["counts"]["events"]


def test_status_exits_1_when_users_are_locked_out__ACC_8(store):
    """Users locked out after refused attempts need a GDPA: `status` exits 1 and says so."""
    tenant = new_tenant(store)
    for _ in range(5):
        store.fails(1, "controllers", "show", tenant.ref, user=tenant.admin,
                    env={"PROCESSOR_CREDENTIAL": "pcr1_wrong"})  # fmt: skip
    result = store.run("status", user="grete", as_json=True)
    assert result.exit_code == 1, describe(result)
    out = json.loads(result.stdout)
    assert out["counts"]["users_locked"] == 1
    assert any("locked" in item for item in out["attention"])
    assert result.stderr.startswith("error: needs attention: ")


def test_status_exits_1_when_the_log_runs_ahead_of_ledger_and_read_models__AUD_4(store):
    """A stored event neither signed nor projected (a command that died half-way) shows as
    unsigned and as read models behind: `status` judges the store as it is, without catching up.
    """
    with store.open() as proc:
        grete = proc.find(user_id("grete"))
        grete.review(actor="grete", note="saved, then the process died")
        proc.store.save(grete)
    result = store.run("status", user="grete", as_json=True)
    assert result.exit_code == 1, describe(result)
    out = json.loads(result.stdout)
    assert out["ledger"]["unsigned_events"] == 1
    assert out["read_models"]["behind"] == 1
    assert "not yet signed" in result.stderr


def test_status_exits_1_when_a_sweep_is_due__RET_4(settings):
    """In a simulation past a demo account's trial, `status` reports the sweep that is due."""
    sim = Cli(settings)
    sim.env["PROCESSOR_NOW"] = T0
    sim.init("--simulation")
    tenant = new_tenant(sim, account="demo")
    result = sim.run("status", user="grete", as_json=True, env={"PROCESSOR_NOW": AFTER_TRIAL})
    assert result.exit_code == 1, describe(result)
    out = json.loads(result.stdout)
    assert out["simulation"] is True
    assert out["retention"]["demo_trials_ended"] == [tenant.ref]
    assert (
        "SIMULATION" in sim.run("status", user="grete", env={"PROCESSOR_NOW": AFTER_TRIAL}).stdout
    )


def test_version_names_package_policies_and_store_schema():
    """`--version` prints the package version, each policy file's version and the schema."""
    result = subprocess.run(
        [str(PROCESSOR), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("processor ")
    assert f"store schema {STORE_SCHEMA_VERSION}" in result.stdout
    versions = policy_versions()
    assert {"roles", "editions", "profiles", "accounts", "fields"} <= versions.keys()
    for name, version in versions.items():
        assert f"{name}: {version}" in result.stdout
    assert "unreadable" not in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_shell_completion_script_is_produced(shell):
    """`_PROCESSOR_COMPLETE=<shell>_source processor` prints click's completion script."""
    env = {**os.environ, "_PROCESSOR_COMPLETE": f"{shell}_source"}
    result = subprocess.run(
        [str(PROCESSOR)], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "_PROCESSOR_COMPLETE" in result.stdout
    assert result.stderr == ""


def test_shell_completion_completes_subcommands_and_options():
    """Completion offers the commands, and a subcommand's options (global ones too)."""
    env = {**os.environ, "_PROCESSOR_COMPLETE": "bash_complete", "COMP_WORDS": "processor sta",
           "COMP_CWORD": "1"}  # fmt: skip
    result = subprocess.run(
        [str(PROCESSOR)], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert "plain,status" in result.stdout.splitlines()


def test_status_advises_a_second_administrator_without_failing__ACC_8(store):
    """A controller with one active administrator gets advice in `status` (the command that
    adds a second); advice does not change the exit status, and a second administrator ends it.
    """
    tenant = new_tenant(store)
    keep_listed_agreements(store)
    out = store.ok("status", user="grete")
    assert out["attention"] == []
    (advice,) = out["advice"]
    assert f"controller {tenant.ref} has one active administrator ({tenant.admin})" in advice
    assert f"--role administrator --controller {tenant.ref}" in advice
    assert "advice (does not change the exit status)" in store.text("status", user="grete")
    store.ok("users", "add", f"{tenant.ref}-second", "--role", "administrator",
             "--controller", tenant.ref, user=tenant.admin)  # fmt: skip
    assert store.ok("status", user="grete")["advice"] == []


def test_status_report_and_check_agree_and_name_the_fix__SUB_5(store):
    """Issue 25: a fresh store with a controller lists the sub-processor agreements not yet on
    record in `status` (exit 1), the report's deviations and `subprocessors check`, each with
    the command that records them; once recorded, all three are clean together.
    """
    new_tenant(store)
    status = store.run("status", user="grete", as_json=True)
    assert status.exit_code == 1
    attention = json.loads(status.stdout)["attention"]
    fix = "processor --as GDPA subprocessors agreement"
    assert any("AgreementMustBeRecorded" in line and fix in line for line in attention)
    model = json.loads(store.text("audit", "report", "--format", "json", user="grete"))
    texts = [d["text"] for d in model["deviations"]]
    assert any("AgreementMustBeRecorded" in t and fix in t for t in texts)
    found = store.run("subprocessors", "check", user="grete")
    assert found.exit_code == 1 and "resolve: " + fix in found.stdout
    keep_listed_agreements(store)
    assert store.ok("status", user="grete")["attention"] == []
    model = json.loads(store.text("audit", "report", "--format", "json", user="grete"))
    assert model["deviations"] == []
    assert store.run("subprocessors", "check", user="grete").exit_code == 0
