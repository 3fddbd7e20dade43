"""End to end: the audit checks' commands, their refusals and exit codes (ACC-7, ACC-10, AUD-2,
AUD-3, AUD-5, AUD-6, SUB-7, SUBJ-9).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from cli_helpers import new_tenant

EMAIL = "hanne.hemmelig@example.dk"


def test_sample_review_and_list_from_the_command_line__ACC_7(shared):
    """`audit sample`, `audit review`, `audit samples`; bad input exits 2, staff-only exits 1."""
    tenant = new_tenant(shared)
    tenant.add(EMAIL, "--first-name", "Hanne")
    shared.ok(
        "users", "add", "sven", "--role", "support",
        "--confidentiality-signed", "2026-01-05", "--trained", "2026-01-06", user="sam",
    )  # fmt: skip
    shared.ok("controllers", "instruct", tenant.ref, "--kind", "support-request", "--case", "T-7",
              "--text", "please look at our list", user=tenant.admin)  # fmt: skip
    shared.ok("support", "view", tenant.ref, "--case", "T-7", "--reason", "ticket T-7",
              user="sven")  # fmt: skip
    drawn = shared.ok("audit", "sample", "--size", "5", "--seed", "9", user="grete")
    assert drawn["size"] >= 1
    entry = drawn["entries"][0]["entry"]
    again = shared.ok("audit", "sample", "--size", "5", "--seed", "9", user="grete")
    assert [e["entry"] for e in again["entries"]] == [e["entry"] for e in drawn["entries"]]
    reviewed = shared.ok(
        "audit", "review", drawn["sample"], "--entry", entry, "--finding", "ok",
        "--note", "checked the ticket", user="grete",
    )  # fmt: skip
    assert reviewed["reviewed"] == 1
    listing = shared.ok("audit", "samples", user="grete")
    assert len(listing["samples"]) == 2
    assert "next sample due" in shared.text("audit", "samples", user="grete")
    shared.fails(2, "audit", "review", drawn["sample"], "--entry", entry, "--finding", "meh",
                 "--note", "x", user="grete")  # fmt: skip
    shared.fails(2, "audit", "review", "not-a-sample", "--entry", entry, "--finding", "ok",
                 "--note", "x", user="grete")  # fmt: skip
    shared.fails(2, "audit", "sample", "--size", "0", user="grete")
    shared.fails(2, "audit", "sample", "--from", "yesterday", user="grete")
    shared.fails(1, "audit", "sample", user=tenant.admin)
    out = shared.text("audit", "sample", "--size", "5", "--seed", "9", user="grete")
    assert EMAIL not in out and "Hanne" not in out


def test_access_sample_is_an_alias_of_audit_sample__ACC_7(shared):
    """`access sample` takes `audit sample`'s options, draws the same entries, records a sample."""
    tenant = new_tenant(shared)
    tenant.add(EMAIL, "--first-name", "Hanne")
    shared.ok(
        "users", "add", "sofus", "--role", "support",
        "--confidentiality-signed", "2026-01-05", "--trained", "2026-01-06", user="sam",
    )  # fmt: skip
    shared.ok("controllers", "instruct", tenant.ref, "--kind", "support-request", "--case", "T-7",
              "--text", "please look at our list", user=tenant.admin)  # fmt: skip
    shared.ok("support", "view", tenant.ref, "--case", "T-7", "--reason", "ticket T-7",
              user="sofus")  # fmt: skip
    args = ("--size", "3", "--seed", "11", "--of", "staff")
    before = len(shared.ok("audit", "samples", user="grete")["samples"])
    audit = shared.ok("audit", "sample", *args, user="grete")
    alias = shared.ok("access", "sample", *args, user="grete")
    own = ("sample", "drawn_at")  # each draw is its own recorded sample
    assert {k: v for k, v in alias.items() if k not in own} == {
        k: v for k, v in audit.items() if k not in own
    }
    listing = shared.ok("audit", "samples", user="grete")["samples"]
    assert len(listing) == before + 2
    assert listing[-1]["sample"] == alias["sample"]
    assert "Alias of `audit sample`" in shared.text("access", "sample", "--help")
    shared.fails(2, "access", "sample", "--size", "0", user="grete")
    shared.fails(1, "access", "sample", user=tenant.admin)


def test_the_access_group_loads_no_audit_service_for_its_alias():
    """Attaching `access sample` imports no sampling service: `access log` stays as quick."""
    code = (
        "import sys, processor_cli.cmd_access\n"
        "assert 'processor.audit.samples' not in sys.modules\n"
        "assert 'processor_cli.cmd_audit_checks' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_change_log_from_the_command_line__ACC_10(shared):
    """`audit changes` lists a controller's changes with fields, filtered by actor."""
    tenant = new_tenant(shared)
    tenant.add(EMAIL, "--first-name", "Hanne")
    rows = shared.ok("audit", "changes", "--controller", tenant.ref, user="grete")["changes"]
    assert {r["actor"] for r in rows} >= {"sam", tenant.admin}
    mine = shared.ok(
        "audit", "changes", "--controller", tenant.ref, "--actor", tenant.admin, user="grete"
    )["changes"]
    assert mine and {r["actor"] for r in mine} == {tenant.admin}
    assert any(r["aggregate"] == "Contact" and r["action"] == "created" for r in mine)
    text = shared.text("audit", "changes", "--controller", tenant.ref, user="grete")
    assert EMAIL not in text and "Hanne" not in text
    shared.fails(2, "audit", "changes", "--controller", "no-such-controller", user="grete")
    shared.fails(2, "audit", "changes", "--from", "2026-13-01", user="grete")
    own = shared.ok("audit", "changes", user=tenant.admin)["changes"]
    assert own and {r["controller"] for r in own} == {tenant.ref}
    shared.fails(1, "audit", "changes", "--controller", "beta-x", user=tenant.admin)


def test_record_and_contact_persons_from_the_command_line__AUD_3__AUD_5(shared):
    """Contact persons of both parties are set and notified; the record shows them in 3 forms."""
    tenant = new_tenant(shared)
    done = shared.ok(
        "processor-contacts", "--role", "data-protection", "--name", "Grete Dahl",
        "--email", "dpo@processor.example", user="grete",
    )  # fmt: skip
    assert done["notified"] >= 1
    shared.ok(
        "controllers", "contacts", tenant.ref, "--role", "representative", "--name", "Rie Rep",
        "--email", "rie@tenant.example", user=tenant.admin,
    )  # fmt: skip
    shown = shared.ok("controllers", "contacts", tenant.ref, user=tenant.admin)
    assert shown["contact_persons"]["representative"]["name"] == "Rie Rep"
    kinds = [n["kind"] for n in shared.ok("notices", user=tenant.admin)["notices"]]
    assert kinds.count("contact-persons-changed") == 2
    shared.fails(2, "controllers", "contacts", tenant.ref, "--role", "representative",
                 "--name", "X", "--email", "nope", user=tenant.admin)  # fmt: skip
    shared.fails(2, "controllers", "contacts", tenant.ref, "--role", "representative",
                 user=tenant.admin)  # fmt: skip
    rec = shared.ok("audit", "record", "--format", "json", user="grete")
    assert tenant.ref in {c["id"] for c in rec["controllers"]}
    md = shared.text("audit", "record", "--format", "markdown", user="grete")
    assert f"## Controller {tenant.ref}" in md
    dpv = json.loads(shared.text("audit", "record", "--format", "dpv", user="grete"))
    assert dpv["@type"] == "dpv:RecordsOfActivities"
    shared.fails(2, "audit", "record", "--format", "rdf", user="grete")
    shared.fails(1, "audit", "record", user=tenant.admin)


def test_packs_challenge_and_reviews_from_the_command_line__AUD_2__SUB_7__SUBJ_9__AUD_6(shared):
    """Packs for the controller itself, a challenge with its notice, and the two reviews."""
    tenant = new_tenant(shared)
    other = new_tenant(shared)
    pack = shared.ok("audit", "controller-pack", tenant.ref, user=tenant.admin)
    assert pack["charge"] == "none"
    shared.fails(1, "audit", "controller-pack", tenant.ref, user=other.admin)
    dpia = shared.ok("audit", "dpia-pack", tenant.ref, user=tenant.admin)
    assert dpia["risks"]
    name = pack["subprocessors"][0]["name"]
    shared.ok("subprocessors", "supervise", name, "--method", "questionnaire",
              "--finding", "fine", user="grete")  # fmt: skip
    done = shared.ok("subprocessors", "challenge", name, "--reason", "self-assessed",
                     user=tenant.admin)  # fmt: skip
    assert done["new_audit_requested"] is True
    kinds = [n["kind"] for n in shared.ok("notices", user=tenant.admin)["notices"]]
    assert "supervision-challenged" in kinds
    shared.fails(2, "subprocessors", "challenge", "No Such Sub", "--reason", "x",
                 user=tenant.admin)  # fmt: skip
    shared.fails(1, "subprocessors", "challenge", name, "--reason", "x", user="grete")
    soon = (datetime.now(UTC).date() + timedelta(days=90)).isoformat()
    risk = shared.ok("audit", "risk-review", "--text", "re-assessed", "--next", soon, user="grete")
    assert risk["next_due"].startswith(soon)
    shared.fails(2, "audit", "risk-review", "--text", "re-assessed", "--next", "2099-01-01",
                 user="grete")  # fmt: skip
    status = shared.ok("audit", "policy-review", "--text", "reviewed", user="grete")
    assert status["overdue"] is False
    shared.fails(1, "audit", "policy-review", "--text", "reviewed", user=tenant.admin)
