"""End-to-end: the lifecycle on the command line, on a simulation store (RET-1 .. RET-7, SUBJ-7)."""

from __future__ import annotations

import json

import pytest
from cli_helpers import Cli

T0 = "2026-03-02T09:00:00+00:00"
EFFECTIVE = "2026-03-10"
DUE = "2026-07-08T00:00:00+00:00"  # EFFECTIVE + 120 days
AFTER = "2026-07-08T09:00:00+00:00"


def at(when):
    """The environment that sets PROCESSOR_NOW."""
    return {"PROCESSOR_NOW": when}


@pytest.fixture
def sim(settings):
    """A simulation store at T0 with acme (paying, admin alice) and beta (freemium, admin bob)."""
    runner = Cli(settings)
    runner.init("--simulation", env=at(T0))
    for ref, account, admin in (("acme", "paying", "alice"), ("beta", "freemium", "bob")):
        runner.ok("controllers", "register", ref, "--name", ref.title(), "--country", "DK",
                  "--account", account, "--agreement", "scc", "--admin", admin, user="sam", env=at(T0))  # fmt: skip
        runner.sign(ref, "scc", env=at(T0))
    return runner


def add(runner, ref, admin, email, *extra, when=T0):
    """Add a contact; return its id."""
    out = runner.ok("contacts", "add", ref, "--list", "news", "--email", email,
                    "--consent", "email:double-opt-in", *extra, user=admin, env=at(when))  # fmt: skip
    return out["contact_id"]


def test_terminate_sweep_and_verify_the_certificate_offline__RET_1__RET_3(sim, tmp_path):
    """Terminate -> due -> (future refused, dry run) -> sweep -> idempotent -> certificate verifies."""
    cid = add(sim, "acme", "alice", "karen@example.dk")
    add(sim, "beta", "bob", "bo@example.dk")
    body = tmp_path / "body.txt"
    body.write_text("Dear Karen, spring is here.", encoding="utf-8")
    sent = sim.ok("messages", "record", "acme", "--contact", cid, "--channel", "email",
                  "--subject", "Spring", "--body-file", body, user="alice", env=at(T0))  # fmt: skip
    shown = sim.ok("messages", "show", "acme", sent["message_id"], user="alice", env=at(T0))
    assert shown["body"] == "Dear Karen, spring is here."
    out = sim.ok(
        "controllers", "terminate", "acme", "--effective", EFFECTIVE, user="alice", env=at(T0)
    )
    assert out["data"]["due_at"] == DUE and out["data"]["rule"] == "RET-1"
    due = sim.ok("retention", "due", "--at", DUE, user="grete", env=at(T0))
    assert [(d["controller"], d["contacts"], d["messages"]) for d in due["due"]] == [("acme", 1, 1)]
    assert "RET-1" in sim.text("retention", "due", "--at", DUE, user="grete", env=at(T0))
    error = sim.fails(1, "retention", "sweep", "--at", DUE, user="grete", env=at(T0))
    assert "future" in error
    preview = sim.ok("retention", "sweep", "--at", DUE, "--dry-run", user="grete", env=at(T0))
    assert preview["dry_run"] is True and preview["subjects_due"] == 1
    assert "no certificate yet" in sim.fails(
        1, "retention", "certificate", "acme", user="alice", env=at(T0)
    )
    swept = sim.ok("retention", "sweep", user="grete", env=at(AFTER))
    assert swept["swept"] == ["acme"] and swept["contacts_erased"] == 1
    assert sim.text("retention", "sweep", user="grete", env=at(AFTER)).startswith("nothing due")
    cert = tmp_path / "certificate.json"
    sim.text("retention", "certificate", "acme", "--out", cert, user="alice", env=at(AFTER))
    key = sim.public_key(tmp_path / "ledger.pub")
    verified = sim.ok("receipts", "verify", cert, "--public-key", key)
    assert verified["kind"] == "deletion-certificate" and verified["simulation"] is True
    assert verified["details"]["subjects_made_unreadable"]["total"] == 1
    printed = json.loads(sim.text("retention", "certificate", "acme", user="grete", env=at(AFTER)))
    assert printed["kind"] == "deletion-certificate"
    assert (
        sim.ok("contacts", "show", "acme", cid, user="alice", env=at(AFTER))["fields"] == "[erased]"
    )
    assert sim.ok("messages", "show", "acme", sent["message_id"], user="alice", env=at(AFTER))[
        "content_erased"
    ]


def test_export_all_to_a_directory_writes_the_standard_return__RET_2(sim, tmp_path):
    """`export --all --out DIR`: JSONL + CSV per data set and a manifest; a file path still works."""
    add(sim, "acme", "alice", "a@example.dk", "--first-name", "Anna")
    sim.ok("controllers", "terminate", "acme", "--effective", EFFECTIVE, "--instruction", "return",
           "--return-to", "Nordmail ApS", user="sam", env=at(T0))  # fmt: skip
    held = sim.ok("retention", "due", user="grete", env=at(AFTER))
    assert held["held"][0]["controller"] == "acme" and held["due"] == []
    out = tmp_path / "acme-return"
    manifest = sim.ok("export", "acme", "--all", "--out", out, user="alice", env=at(AFTER))
    assert manifest["counts"]["contacts"] == 1 and manifest["return_to"] == "Nordmail ApS"
    names = sorted(p.name for p in out.iterdir())
    assert names == ["consents.csv", "consents.jsonl", "contacts.csv", "contacts.jsonl", "manifest.json",
                     "memberships.csv", "memberships.jsonl", "messages.csv", "messages.jsonl"]  # fmt: skip
    assert "Anna" in (out / "contacts.csv").read_text(encoding="utf-8")
    sim.fails(2, "export", "acme", "--all", "--out", out, user="alice", env=at(AFTER))
    single = tmp_path / "all.json"
    assert (
        sim.ok("export", "acme", "--all", "--out", single, user="alice", env=at(AFTER))["contacts"]
        == 1
    )
    assert sim.ok("retention", "sweep", user="grete", env=at(AFTER))["swept"] == ["acme"]


def test_lifecycle_refusals_and_invalid_input_have_their_exit_codes__RET_6(sim):
    """Exit 1 for rules and permissions, 2 for invalid input and unknown ids."""
    cid = add(sim, "beta", "bob", "b@example.dk", "--phone", "+4512345678")
    sim.fails(2, "controllers", "terminate", "acme", "--effective", EFFECTIVE, "--instruction", "retain",
              user="alice", env=at(T0))  # fmt: skip
    sim.fails(
        2, "controllers", "terminate", "acme", "--effective", "10/03/2026", user="alice", env=at(T0)
    )
    sim.fails(
        2, "controllers", "terminate", "nobody", "--effective", EFFECTIVE, user="sam", env=at(T0)
    )
    sim.fails(
        1, "controllers", "terminate", "acme", "--effective", EFFECTIVE, user="bob", env=at(T0)
    )
    sim.fails(
        1, "controllers", "withdraw-termination", "acme", "--reason", "x", user="alice", env=at(T0)
    )
    sim.fails(1, "retention", "sweep", user="alice", env=at(T0))
    sim.fails(1, "retention", "due", user="sam", env=at(T0))
    sim.fails(
        1,
        "messages",
        "record",
        "beta",
        "--contact",
        cid,
        "--channel",
        "sms",
        user="bob",
        env=at(T0),
    )
    retained = sim.ok("controllers", "terminate", "acme", "--effective", EFFECTIVE, "--instruction", "retain",
                      "--legal-ground", "Bookkeeping Act §10", "--retain-until", "2031-12-31",
                      user="alice", env=at(T0))  # fmt: skip
    assert retained["data"]["status"] == "held" and retained["data"]["rule"] == "RET-6"
    sim.fails(1, "contacts", "add", "acme", "--list", "news", "--email", "n@example.dk",
              "--consent", "email:x", user="alice", env=at(AFTER))  # fmt: skip
    withdrawn = sim.ok(
        "controllers",
        "withdraw-termination",
        "acme",
        "--reason",
        "stays",
        user="alice",
        env=at(AFTER),
    )
    assert withdrawn["data"]["status"] == "open"
    add(sim, "acme", "alice", "n@example.dk", when=AFTER)


def test_handoff_writes_the_carriers_file_0600_and_refuses_a_closed_account__SUB_9__RET_1(
    sim, tmp_path
):
    """`messages handoff --out` writes one JSON line per message (address and content only),
    private to its owner; after the account closes nothing more leaves for a carrier.
    """
    cid = add(sim, "acme", "alice", "karen@example.dk")
    sent = sim.ok("messages", "record", "acme", "--contact", cid, "--channel", "email",
                  "--subject", "Spring", user="alice", env=at(T0))  # fmt: skip
    out = tmp_path / "handoff.jsonl"
    result = sim.ok("messages", "handoff", "acme", "--via", sent["subprocessor"], "--out", out,
                    user="alice", env=at(T0))  # fmt: skip
    assert result["handed_over"] == 1 and "messages" not in result
    assert out.stat().st_mode & 0o777 == 0o600
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == [{"message_id": sent["message_id"], "channel": "email",
                      "to": "karen@example.dk", "subject": "Spring"}]  # fmt: skip
    sim.ok("controllers", "terminate", "acme", "--effective", EFFECTIVE, user="alice", env=at(T0))
    error = sim.fails(1, "messages", "handoff", "acme", "--via", sent["subprocessor"], "--out",
                      tmp_path / "later.jsonl", user="alice", env=at(AFTER))  # fmt: skip
    assert "karen" not in error and not (tmp_path / "later.jsonl").exists()
