"""End-to-end: the agreement kept, amendments, flagged instructions, legal requirements, upgrades.

`controllers agreement / accept / flag-instruction / confirm-instruction / withdraw-instruction /
legal-requirement / upgrade` and `init --profile effecttracker`, on both backends (INSTR-2,
INSTR-4, INSTR-5, INSTR-6, RET-4).
"""

from __future__ import annotations

import hashlib

from cli_helpers import Cli, new_tenant


def notice_kinds(cli: Cli, ref: str) -> list[str]:
    """The kinds of the notices `ref` received, oldest first."""
    return [n["kind"] for n in cli.ok("notices", "--controller", ref, user="grete")["notices"]]


def test_agreement_and_amendment_from_the_command_line__INSTR_5__INSTR_4(shared, tmp_path):
    """The agreement is kept as a hash; an amendment waits for the administrator's acceptance."""
    tenant = new_tenant(shared, agreement="dpa-2018", signed=False)
    text = tmp_path / "dpa.txt"
    text.write_bytes(b"Databehandleraftale 2018\n")
    args = ["--processor-signatory", "Sam S", "--controller-signatory", "Ada A"]
    out = shared.ok(
        "controllers", "agreement", tenant.ref, "--edition", "dpa-2018", "--signed-on",
        "2026-01-10", "--text-file", text, *args, user="sam",
    )  # fmt: skip
    assert out["text_sha256"] == hashlib.sha256(b"Databehandleraftale 2018\n").hexdigest()
    text.write_bytes(b"SCC 2021/915\n")
    shared.ok(
        "controllers", "agreement", tenant.ref, "--edition", "scc", "--signed-on",
        "2026-02-01", "--text-file", text, *args, user="sam",
    )  # fmt: skip
    shown = shared.ok("controllers", "show", tenant.ref, user=tenant.admin)
    assert shown["agreement"] == "dpa-2018"
    assert shown["pending_amendment"]["edition"] == "scc"
    assert shown["agreement_terms"]["breach_notice_hours"] == 36
    shared.fails(1, "controllers", "accept", tenant.ref, "--edition", "scc", user="sam")
    shared.ok("controllers", "accept", tenant.ref, "--edition", "scc", user=tenant.admin)
    shown = shared.ok("controllers", "show", tenant.ref, user=tenant.admin)
    assert (shown["agreement"], shown["pending_amendment"]) == ("scc", None)
    assert shown["agreement_terms"]["breach_notice_hours"] == 24


def test_flag_and_confirm_an_instruction__INSTR_2(shared):
    """The GDPA flags; the controller is told; processing waits until it confirms."""
    tenant = new_tenant(shared)
    number = shared.ok(
        "controllers", "instruct", tenant.ref, "--kind", "sensitive-data", "--text", "Health",
        user=tenant.admin,
    )["number"]  # fmt: skip
    shared.ok(
        "controllers", "flag-instruction", tenant.ref, number, "--reason", "no Art. 9 ground",
        user="grete",
    )  # fmt: skip
    assert "instruction-flagged" in notice_kinds(shared, tenant.ref)
    line = shared.fails(
        1, "contacts", "add", tenant.ref, "--list", "news", "--email", "f@example.dk",
        "--consent", "email:form", "--field", "custom.health=x", user=tenant.admin,
    )  # fmt: skip
    assert "InstructionMustNotBeFlagged" in line
    shared.ok("controllers", "confirm-instruction", tenant.ref, number, user=tenant.admin)
    shown = shared.ok("controllers", "show", tenant.ref, user=tenant.admin)
    assert shown["instructions"][number - 1]["flag"] == "confirmed"


def test_legal_requirement_is_told__INSTR_6(shared):
    """`controllers legal-requirement` notifies the controller."""
    tenant = new_tenant(shared)
    shared.ok("controllers", "legal-requirement", tenant.ref, "--text", "Tax audit", user="grete")
    assert "legal-requirement" in notice_kinds(shared, tenant.ref)


def test_upgrade_on_request__RET_4(shared):
    """The system manager upgrades a demo only citing the controller's upgrade request."""
    tenant = new_tenant(shared, account="demo")
    shared.fails(1, "controllers", "upgrade", tenant.ref, "--account", "paying", user="sam")
    number = shared.ok(
        "controllers", "instruct", tenant.ref, "--kind", "upgrade-request", "--text", "Upgrade",
        "--account", "paying", user=tenant.admin,
    )["number"]  # fmt: skip
    out = shared.ok(
        "controllers", "upgrade", tenant.ref, "--account", "paying", "--request", number,
        user="sam",
    )  # fmt: skip
    assert (out["previous"], out["account"]) == ("demo", "paying")
    assert shared.ok("controllers", "show", tenant.ref, user=tenant.admin)["account"] == "paying"


def test_init_with_the_effecttracker_profile(settings):
    """`init --profile effecttracker` names the profile; its list enters with the first customer."""
    cli = Cli(settings)
    assert cli.init("--profile", "effecttracker")["profile"] == "effecttracker"
    tenant = new_tenant(cli)
    listing = cli.ok("subprocessors", "list", "--controller", tenant.ref, user="grete")
    assert "Sendgrid" in {row["name"] for row in listing["subprocessors"]}
