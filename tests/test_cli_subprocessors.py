"""End-to-end: `processor subprocessors ...` and `controllers instruct --kind transfer`.

Time matters here (notice periods, "as of" checks), so most tests use a simulation store and
set PROCESSOR_NOW on every command, always moving forward.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import Cli, new_tenant

SCC_LIST = {"Team.Blue Denmark A/S", "Ubivox Technologies ApS", "InMobile"}
SHIELD = {"Facebook (og underliggende værktøjer)", "Slack", "Dropbox Inc.", "Microsoft"}
BASIS_RULE = "TransferBasisMustBeInForce"


def at(when: str) -> dict[str, str | None]:
    """The environment that sets PROCESSOR_NOW."""
    return {"PROCESSOR_NOW": when}


def register(cli: Cli, ref: str, agreement: str, when: str) -> str:
    """Register a controller with administrator `<ref>-admin`; return the admin's name."""
    cli.ok("controllers", "register", ref, "--name", ref.title(), "--country", "DK",
           "--account", "paying", "--agreement", agreement, "--admin", f"{ref}-admin",
           user="sam", env=at(when))  # fmt: skip
    return f"{ref}-admin"


def entry(name: str, *extra: str) -> list[str]:
    """`propose`/`add` arguments for a Danish e-mail sub-processor with its agreement."""
    return [
        name, "--country", "DK", "--activity", "email", "--basis", "eea",
        "--registration", "CVR 11223344", "--address", "Østergade 1, 5000 Odense C",
        "--agreement-ref", "SPA-1", "--agreement-date", "2026-02-01", "--beneficiary-clause",
        *extra,
    ]  # fmt: skip


def keep_agreement(cli: Cli, name: str, ref: str, when: str, folder: Path, *extra: str) -> None:
    """Keep the agreement's text with `subprocessors agreement` (SUB-5), as engagement needs."""
    text = folder / "spa.txt"
    text.write_text(f"Sub-processor agreement {ref}, SCC 7.6 included\n", encoding="utf-8")
    cli.ok("subprocessors", "agreement", name, "--ref", ref, "--beneficiary-clause",
           "--text-file", text, *extra, user="grete", env=at(when))  # fmt: skip


@pytest.fixture
def sim(settings):
    """A fresh simulation store, initialised on 2026-03-02."""
    runner = Cli(settings)
    runner.init("--simulation", env=at("2026-03-02T09:00:00+00:00"))
    return runner


@pytest.fixture
def normal(settings):
    """A fresh store on the wall clock."""
    runner = Cli(settings)
    runner.init()
    return runner


def test_cli_propose_object_engage_with_dates__SUB_2__SUB_3__SUB_5(sim, tmp_path):
    """`propose` prints each controller's written notice with its date and period; beta
    objects in time; `engage` exits 1 until the agreement's text is kept, naming the command
    that keeps it, then before the date exits 1 naming the date; acme's objection on the
    notice date exits 1 saying why; then `engage` works, for acme only.
    """
    acme = register(sim, "acme", "scc", "2026-03-02T10:00:00+00:00")
    beta = register(sim, "beta", "dpa-2018", "2026-03-02T10:05:00+00:00")
    out = sim.ok("subprocessors", "propose", *entry("Delta Mail ApS"), user="grete",
                 env=at("2026-03-03T09:00:00+00:00"))  # fmt: skip
    notices = {n["controller"]: n for n in out["notices"]}
    assert {c: n["engage_not_before"] for c, n in notices.items()} == {
        "acme": "2026-04-02",
        "beta": "2026-04-02",
    }
    assert notices["acme"]["fixed_by_agreement"] is True
    assert notices["beta"]["fixed_by_agreement"] is False
    assert "in advance" in notices["beta"]["period"]
    text = sim.text("subprocessors", "propose", *entry("Echo Mail ApS"), user="grete",
                    env=at("2026-03-03T09:30:00+00:00"))  # fmt: skip
    assert "written notice to 2 controller(s)" in text
    assert "acme (scc): may be engaged from 2026-04-02, objections until 2026-04-01" in text

    objected = sim.ok("subprocessors", "object", "Delta Mail ApS", "--controller", "beta",
                      "--reason", "we keep e-mail in-house", user=beta,
                      env=at("2026-03-10T09:00:00+00:00"))  # fmt: skip
    assert objected["controller"] == "beta"
    unkept = sim.fails(1, "subprocessors", "engage", "Delta Mail ApS", user="grete",
                       env=at("2026-03-20T08:00:00+00:00"))  # fmt: skip
    assert unkept.startswith("error: AgreementTextMustBeKept:")
    assert "\n" not in unkept
    assert ("subprocessors agreement 'Delta Mail ApS' --ref SPA-1 --text-file FILE "
            "--beneficiary-clause") in unkept  # fmt: skip
    keep_agreement(sim, "Delta Mail ApS", "SPA-1", "2026-03-20T08:30:00+00:00", tmp_path,
                   "--date", "2026-02-01")  # fmt: skip
    error = sim.fails(1, "subprocessors", "engage", "Delta Mail ApS", user="grete",
                      env=at("2026-03-20T09:00:00+00:00"))  # fmt: skip
    assert error.startswith("error: NoticePeriodMustHaveElapsed:")
    assert "before 2026-04-02 (today is 2026-03-20)" in error
    late = sim.fails(1, "subprocessors", "object", "Echo Mail ApS", "--controller", "acme",
                     "--reason", "too late", user=acme,
                     env=at("2026-04-02T08:00:00+00:00"))  # fmt: skip
    assert "ObjectionMustPrecedeNoticeDate" in late
    assert "ended on 2026-04-02; objections were possible until 2026-04-01" in late
    engaged = sim.ok("subprocessors", "engage", "Delta Mail ApS", user="grete",
                     env=at("2026-04-02T09:00:00+00:00"))  # fmt: skip
    assert (engaged["for_controllers"], engaged["blocked_by_objection"]) == (["acme"], ["beta"])

    now = at("2026-04-02T10:00:00+00:00")
    theirs = sim.ok("subprocessors", "list", user=beta, env=now)
    delta = next(r for r in theirs["subprocessors"] if r["name"] == "Delta Mail ApS")
    assert (delta["status"], delta["objection"]["reason"]) == (
        "objected",
        "we keep e-mail in-house",
    )
    mine = sim.ok("subprocessors", "list", user=acme, env=now)
    assert next(r for r in mine["subprocessors"] if r["name"] == "Delta Mail ApS")["status"] == (
        "approved"
    )
    then = sim.ok("subprocessors", "list", "--at", "2026-03-05", user=acme, env=now)
    assert next(r for r in then["subprocessors"] if r["name"] == "Delta Mail ApS")["status"] == (
        "notice-period"
    )
    assert (
        sim.ok("subprocessors", "list", "--at", "2026-03-01", user=acme, env=now)["subprocessors"]
        == []
    )
    assert "status: objected" in sim.text("subprocessors", "list", user=beta, env=now)
    sim.fails(2, "subprocessors", "engage", "No Such ApS", user="grete", env=now)
    sim.fails(1, "subprocessors", "engage", "Delta Mail ApS", user="grete", env=now)
    sim.fails(1, "subprocessors", "propose", *entry("Foxtrot ApS"), user=acme, env=now)
    sim.fails(2, "subprocessors", "propose", *entry("Golf ApS", "--activity", "mining"),
              user="grete", env=now)  # fmt: skip
    sim.fails(2, "subprocessors", "list", "--at", "last week", user="grete", env=now)


def test_cli_check_2018_list_as_of_today_and_2019__SUB_6(settings):
    """A controller that signed the 2018 edition in June 2018: checked as of today, the basis
    rule flags exactly the Privacy Shield entries (exit 1, one `error:` line, JSON findings
    naming sub-processor, controller, rule and dates); as of 2019-01-01 it flags none of them.
    """
    sim = Cli(settings)
    sim.init("--simulation", env=at("2018-06-01T09:00:00+00:00"))
    register(sim, "old", "dpa-2018", "2018-06-01T10:00:00+00:00")
    today = sim.run("subprocessors", "check", user="grete", as_json=True)
    assert today.exit_code == 1
    assert today.stderr.startswith("error: CheckFoundFindings:")
    findings = json.loads(today.stdout)["findings"]
    assert set(json.loads(today.stdout)) == {"findings"}
    assert {f["subprocessor"] for f in findings if f["rule"] == BASIS_RULE} == SHIELD
    slack = next(f for f in findings if f["subprocessor"] == "Slack" and f["rule"] == BASIS_RULE)
    assert set(slack) >= {"subprocessor", "controller", "rule", "obligation", "dates", "message"}
    assert (slack["controller"], slack["obligation"], slack["blocking"]) == ("old", "SUB-6", True)
    assert slack["dates"]["invalid_from"] == "2020-07-16"
    assert "C-311/18" in slack["message"]
    no_basis = {
        f["subprocessor"] for f in findings if f["rule"] == "ThirdCountryNeedsTransferBasis"
    }
    assert no_basis == {"Mailgun Technologies Inc.", "Sendgrid"}
    then = sim.run("subprocessors", "check", "--at", "2019-01-01", user="grete", as_json=True)
    assert then.exit_code == 1
    earlier = json.loads(then.stdout)["findings"]
    assert not [f for f in earlier if f["rule"] == BASIS_RULE]
    assert {f["at"] for f in earlier} == {"2019-01-01T23:59:59.999999+00:00"}
    text = sim.run("subprocessors", "check", "--controller", "old", user="old-admin")
    assert text.exit_code == 1
    assert "Slack  TransferBasisMustBeInForce (SUB-6)" in text.stdout


def test_cli_check_exit_0_after_agreements_and_supervision__SUB_5__SUB_7(normal, tmp_path):
    """With the agreements on record (reference, date, beneficiary clause) `check` finds
    nothing and exits 0 (`{"findings": []}`); supervision results show in the controller's
    list.
    """
    tenant = new_tenant(normal)
    first = normal.run("subprocessors", "check", user="grete")
    assert first.exit_code == 1
    assert "AgreementMustBeRecorded" in first.stdout
    text = tmp_path / "spa.txt"
    text.write_text("Sub-processor agreement with clause 7.6\n", encoding="utf-8")
    for name in SCC_LIST:
        normal.ok("subprocessors", "agreement", name, "--ref", f"DPA/{name[:5]}",
                  "--date", "2025-06-01", "--beneficiary-clause", "--text-file", text,
                  user="grete")  # fmt: skip
    assert normal.ok("subprocessors", "check", user="grete") == {"findings": []}
    assert normal.text("subprocessors", "check", "--controller", tenant.ref, user=tenant.admin) == (
        "no findings\n"
    )
    normal.ok("subprocessors", "supervise", "InMobile", "--method", "isae-3000-report",
              "--finding", "ISAE 3000 2025 without remarks", "--date", "2026-01-15",
              user="sam")  # fmt: skip
    mine = normal.ok("subprocessors", "list", user=tenant.admin)
    inmobile = next(r for r in mine["subprocessors"] if r["name"] == "InMobile")
    assert inmobile["agreement"] == {
        "ref": "DPA/InMob",
        "date": "2025-06-01",
        "beneficiary_clause": True,
    }
    assert [(s["on"], s["method"], s["finding"]) for s in inmobile["supervisions"]] == [
        ("2026-01-15", "isae-3000-report", "ISAE 3000 2025 without remarks")
    ]
    assert "supervised 2026-01-15 (isae-3000-report)" in normal.text(
        "subprocessors", "list", user=tenant.admin
    )
    normal.fails(2, "subprocessors", "supervise", "InMobile", "--method", "vibes",
                 "--finding", "fine", user="grete")  # fmt: skip
    normal.fails(2, "subprocessors", "supervise", "InMobile", "--method", "questionnaire",
                 "--finding", "fine", "--date", "2999-01-01", user="grete")  # fmt: skip
    normal.fails(1, "subprocessors", "supervise", "InMobile", "--method", "questionnaire",
                 "--finding", "fine", user=tenant.admin)  # fmt: skip


def test_cli_transfer_needs_instruction_and_activity_scope__SUB_4__SUB_6(sim, tmp_path):
    """A US sub-processor under the DPF is flagged until the controller instructs the
    transfer (`controllers instruct --kind transfer --country US --basis dpf`); it is listed
    with its approved activity only; bad instruction details exit 2.
    """
    acme = register(sim, "acme", "scc", "2026-03-02T10:00:00+00:00")
    sim.ok("subprocessors", "propose", "Yankee Mail Inc.", "--country", "US", "--activity",
           "email", "--basis", "dpf", "--address", "1 Main St, Boston MA",
           "--agreement-ref", "SPA-US", "--beneficiary-clause", user="grete", env=at("2026-03-03T09:00:00+00:00"))  # fmt: skip
    keep_agreement(sim, "Yankee Mail Inc.", "SPA-US", "2026-03-03T09:30:00+00:00", tmp_path)
    sim.ok("subprocessors", "engage", "Yankee Mail Inc.", user="grete",
           env=at("2026-04-02T09:00:00+00:00"))  # fmt: skip
    now = at("2026-04-02T10:00:00+00:00")
    result = sim.run("subprocessors", "check", "--controller", "acme", user="grete", env=now,
                     as_json=True)  # fmt: skip
    rules = {(f["subprocessor"], f["rule"]) for f in json.loads(result.stdout)["findings"]}
    assert ("Yankee Mail Inc.", "ThirdCountryNeedsInstruction") in rules
    listed = sim.ok("subprocessors", "list", user=acme, env=now)
    yankee = next(r for r in listed["subprocessors"] if r["name"] == "Yankee Mail Inc.")
    assert (yankee["activities"], yankee["third_countries"], yankee["transfer_instructed"]) == (
        ["email"],
        ["US"],
        False,
    )
    sim.fails(2, "controllers", "instruct", "acme", "--kind", "transfer", "--country", "US",
              "--basis", "contract", "--text", "x", user=acme, env=now)  # fmt: skip
    sim.fails(2, "controllers", "instruct", "acme", "--kind", "transfer", "--country", "USA",
              "--basis", "dpf", "--text", "x", user=acme, env=now)  # fmt: skip
    sim.fails(2, "controllers", "instruct", "acme", "--kind", "general", "--country", "US",
              "--basis", "dpf", "--text", "x", user=acme, env=now)  # fmt: skip
    sim.ok("controllers", "instruct", "acme", "--kind", "transfer", "--country", "US",
           "--basis", "dpf", "--text", "E-mail via Yankee Mail (DPF certified).", user=acme,
           env=at("2026-04-02T11:00:00+00:00"))  # fmt: skip
    later = at("2026-04-02T12:00:00+00:00")
    after = sim.run("subprocessors", "check", "--controller", "acme", user="grete", env=later,
                    as_json=True)  # fmt: skip
    rules = {(f["subprocessor"], f["rule"]) for f in json.loads(after.stdout)["findings"]}
    assert ("Yankee Mail Inc.", "ThirdCountryNeedsInstruction") not in rules
    before = sim.run("subprocessors", "check", "--controller", "acme", "--at",
                     "2026-04-02T10:30:00+00:00", user="grete", env=later, as_json=True)  # fmt: skip
    rules = {(f["subprocessor"], f["rule"]) for f in json.loads(before.stdout)["findings"]}
    assert ("Yankee Mail Inc.", "ThirdCountryNeedsInstruction") in rules


def test_cli_outbox_one_entry_per_recipient_and_ack__SUBJ_5(normal):
    """Rectify, restrict and erase each queue one entry per engaged recipient (the SCC
    list's three); entries carry the contact id, never the e-mail or name; `outbox ack ID`
    clears one, a second ack exits 1, an unknown id exits 2.
    """
    tenant = new_tenant(normal)
    cid = tenant.add("karen.kristoffersen@example.dk", "--first-name", "Karen")
    normal.ok("contacts", "update", tenant.ref, cid, "--set", "last_name=Kristoffersen",
              user=tenant.admin)  # fmt: skip
    normal.ok("contacts", "restrict", tenant.ref, cid, "--reason", "contested", user=tenant.admin)
    normal.ok("erase", tenant.ref, "--contact", cid, "--reason", "Art. 17", user=tenant.admin)
    shown = normal.run("subprocessors", "outbox", user="grete", as_json=True)
    assert shown.exit_code == 0
    pending = json.loads(shown.stdout)["pending"]
    assert len(pending) == 9
    assert {(e["kind"], e["subprocessor"]) for e in pending} == {
        (kind, name) for kind in ("rectification", "restriction", "erasure") for name in SCC_LIST
    }
    assert {e["contact_id"] for e in pending} == {cid}
    for secret in ("karen", "Karen", "Kristoffersen", "example.dk"):
        assert secret not in shown.stdout
    mine = normal.ok("subprocessors", "outbox", user=tenant.admin)
    assert mine["controller"] == tenant.ref
    assert len(mine["pending"]) == 9
    done = normal.ok("subprocessors", "outbox", "ack", pending[0]["id"], user="sam")
    assert (done["id"], done["acknowledged_by"]) == (pending[0]["id"], "sam")
    assert len(normal.ok("subprocessors", "outbox", user="grete")["pending"]) == 8
    again = normal.fails(1, "subprocessors", "outbox", "ack", pending[0]["id"], user="grete")
    assert "RecipientNoticeMustBePending" in again
    normal.fails(2, "subprocessors", "outbox", "ack", "no-such-entry", user="grete")
    text = normal.text("subprocessors", "outbox", "--controller", tenant.ref, user="grete")
    assert len(text.splitlines()) == 8
    assert cid in text


def test_cli_administrator_acks_own_outbox_entries_only__SUBJ_5(normal):
    """An administrator acknowledges its own controller's outbox entries, as the reference says;
    another controller's entry is unknown to it (exit 2) and naming that controller is refused
    (exit 1); acknowledging its own is no refusal and never counts toward its lockout (ACC-8).
    """
    one, two = new_tenant(normal), new_tenant(normal)
    for tenant, email in ((one, "ack.one@example.dk"), (two, "ack.two@example.dk")):
        cid = tenant.add(email)
        normal.ok("erase", tenant.ref, "--contact", cid, "--reason", "Art. 17", user=tenant.admin)
    mine = normal.ok("subprocessors", "outbox", user=one.admin)["pending"]
    theirs = normal.ok("subprocessors", "outbox", user=two.admin)["pending"]
    done = normal.ok("subprocessors", "outbox", "ack", mine[0]["id"], user=one.admin)
    assert (done["id"], done["acknowledged_by"]) == (mine[0]["id"], one.admin)
    left = normal.ok("subprocessors", "outbox", user=one.admin)["pending"]
    assert len(left) == len(mine) - 1
    normal.fails(2, "subprocessors", "outbox", "ack", theirs[0]["id"], user=one.admin)
    normal.fails(1, "subprocessors", "outbox", "ack", theirs[0]["id"],
                 "--controller", two.ref, user=one.admin)  # fmt: skip
    assert len(normal.ok("subprocessors", "outbox", user=two.admin)["pending"]) == len(theirs)
    assert {d["rule"] for d in normal.denials(one.admin)} == {"ControllerUsersSeeOnlyTheirOwn"}


def test_cli_controller_users_see_only_their_own_view__SUB_1(normal):
    """A controller's administrator sees its own approved list (with each entry's registration
    number, address, country, activity and basis) and nobody else's; staff see the registry.
    """
    one, two = new_tenant(normal), new_tenant(normal, agreement="dpa-2018")
    mine = normal.ok("subprocessors", "list", user=one.admin)
    assert mine["controller"] == one.ref
    assert {r["name"] for r in mine["subprocessors"]} == SCC_LIST
    inmobile = next(r for r in mine["subprocessors"] if r["name"] == "InMobile")
    assert (inmobile["registration"], inmobile["country"], inmobile["activities"]) == (
        "CVR 31426472",
        "DK",
        ["sms"],
    )
    assert inmobile["basis"] == "eea"
    assert len(normal.ok("subprocessors", "list", user=two.admin)["subprocessors"]) == 15
    normal.fails(1, "subprocessors", "list", "--controller", two.ref, user=one.admin)
    normal.fails(1, "subprocessors", "check", "--controller", two.ref, user=one.admin)
    normal.fails(1, "subprocessors", "outbox", "--controller", two.ref, user=one.admin)
    normal.fails(1, "subprocessors", "object", "InMobile", "--controller", two.ref,
                 "--reason", "x", user=one.admin)  # fmt: skip
    assert {d["rule"] for d in normal.denials(one.admin)} == {"ControllerUsersSeeOnlyTheirOwn"}
    normal.fails(2, "subprocessors", "list", "--controller", "nobody", user="grete")
    staff = normal.ok("subprocessors", "list", user="grete")
    assert len(staff["subprocessors"]) == 18
    text = normal.text("subprocessors", "list", user="grete")
    assert "Team.Blue Denmark A/S (CVR 29412006): DK; hosting; basis eea" in text
    refused = normal.fails(1, "subprocessors", "add", *entry("Late Mail ApS"), user="grete")
    assert "ListEntryMustPrecedeSignature" in refused
    assert "propose" in refused


def test_demo_tells_a_subprocessor_change_and_the_check__SUB_2__SUB_3__SUB_6__SUBJ_5(tmp_path):
    """The demo proposes Nordmail ApS with written notice and keeps its agreement's text,
    fjord-books objects, engaging at once is refused, 31 days later it is engaged for
    nordic-shoes only, and the `check` summary flags the 2018 list's Privacy Shield entries.
    """
    from processor.config import Settings

    data_dir = tmp_path / "demo"
    out = Cli(Settings(data_dir=data_dir)).ok("demo", "--contacts", "12")
    story = "\n".join(out["story"])
    assert "proposed Nordmail ApS for e-mail, written notice" in story
    assert "kept the agreement SPA-2026-07 with Nordmail ApS, text SHA-256" in story
    assert "NoticePeriodMustHaveElapsed" in story
    assert "engaged for nordic-shoes, never for fjord-books" in story
    assert out["subprocessors"]["privacy_shield_flagged"] == sorted(SHIELD)
    assert out["subprocessors"]["outbox_pending"] == 9
    assert out["subprocessors"]["blocking"] == 6
