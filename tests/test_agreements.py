"""Editions, the agreement kept, flagged instructions, legal requirements, trial end and upgrade.

INSTR-2, INSTR-4, INSTR-5, INSTR-6, RET-1, RET-4, through the Python API, on both backends. The
fixtures' acme is on the current SCC edition, beta on the 2018 DPA: every edition test asserts
different numbers for the two, so a controller's edition being ignored turns a test red.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from support import login, sign_agreement

from processor.domain.ids import controller_id
from processor.kernel.errors import AccessDeniedError, InvalidInputError, RefusedError
from processor.policies import load_policies
from subprocessors import load_edition_list

EFFECTIVE = date(2026, 3, 12)  # ten days after the fixtures' START (2026-03-02 09:00)
TEXT = "Databehandleraftale mellem Beta ApS og processor.\n§14 ...\n".encode()


def events(proc, ref: str) -> list[str]:
    """Names of the controller's events, oldest first."""
    return [type(e).__name__ for e in proc.store.events.get(controller_id(ref))]


def notices(proc, ref: str, kind: str) -> list[dict]:
    """The controller's notices of `kind`, as its users see them."""
    return [n for n in login(proc, "grete").notices.list(ref) if n["kind"] == kind]


def midnight(d: date) -> datetime:
    """The start of day `d` in UTC."""
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# -- INSTR-4 / RET-1: each edition's own terms ---------------------------------------------------


def test_each_edition_carries_its_own_terms_with_sources__INSTR_4():
    """The 2018 DPA's terms differ from the SCC's, each with its clause and who fixed it."""
    editions = load_policies().editions.editions
    scc, dpa = editions["scc"], editions["dpa-2018"]
    assert (scc.deletion_after_termination_days, dpa.deletion_after_termination_days) == (120, 0)
    assert (scc.breach_notice_hours, dpa.breach_notice_hours) == (24, 36)
    assert (scc.termination_instruction_days, dpa.termination_instruction_days) == (None, 30)
    assert scc.breach_notice.fixed_by_agreement and not dpa.breach_notice.fixed_by_agreement
    assert not dpa.subprocessor_notice.fixed_by_agreement
    assert "undue delay" in dpa.breach_notice.wording
    assert "in advance" in dpa.subprocessor_notice.wording
    assert dpa.deletion_after_termination.source == "DPA18 §14"
    for terms in (scc, dpa):
        for term in (terms.deletion_after_termination, terms.breach_notice):
            assert term.source and term.wording


def test_subprocessor_notice_term_matches_the_editions_list__INSTR_4():
    """editions.toml and the edition's sub-processor list say the same notice (one truth)."""
    for edition, terms in load_policies().editions.editions.items():
        notice = load_edition_list(edition).notice
        assert terms.subprocessor_notice.value == notice.days
        assert terms.subprocessor_notice.fixed_by_agreement == notice.fixed_by_agreement


def test_show_gives_the_controllers_own_edition_terms__INSTR_4(acme):
    """`controllers show` gives acme the SCC's 24 h and beta the 2018 DPA's 36 h."""
    sam = login(acme, "sam")
    shown = {ref: sam.controllers.show(ref)["agreement_terms"] for ref in ("acme", "beta")}
    assert shown["acme"]["breach_notice_hours"] == 24
    assert shown["beta"]["breach_notice_hours"] == 36
    assert shown["beta"]["terms"]["breach_notice"]["fixed_by_agreement"] is False
    assert shown["acme"]["deletion_after_termination_days"] == 120
    assert shown["beta"]["deletion_after_termination_days"] == 0


def test_retention_due_date_follows_the_controllers_edition__RET_1__INSTR_4(acme, clock):
    """Same end, no instruction: SCC data is due 120 days later, 2018-DPA data at expiry."""
    for ref, admin in (("acme", "alice"), ("beta", "bob")):
        login(acme, admin).lifecycle.terminate(ref, EFFECTIVE.isoformat())
    plan = login(acme, "grete").retention.due(at=midnight(EFFECTIVE))
    due = {d["controller"]: d for d in plan["due"]}
    scheduled = {d["controller"]: d for d in plan["scheduled"]}
    assert due["beta"]["rule"] == "RET-1"
    assert due["beta"]["due_at"] == midnight(EFFECTIVE).isoformat()
    assert scheduled["acme"]["due_at"] == midnight(EFFECTIVE + timedelta(days=120)).isoformat()


def test_late_2018_termination_is_accepted_flagged_and_told__RET_1(acme):
    """Under the 2018 DPA an end without a 30-day instruction is recorded, flagged and told."""
    result = login(acme, "bob").lifecycle.terminate("beta", EFFECTIVE.isoformat())
    assert result["flagged"]
    assert "TerminationFlagged" in events(acme, "beta")
    told = notices(acme, "beta", "termination-flagged")
    assert len(told) == 1
    assert "TerminationNeedsTimelyInstruction" in told[0]["body"]
    # The same end under the SCC needs no advance instruction: nothing flagged.
    assert login(acme, "alice").lifecycle.terminate("acme", EFFECTIVE.isoformat())["flagged"] == []
    assert "TerminationFlagged" not in events(acme, "acme")


def test_timely_2018_instruction_is_not_flagged__RET_1(acme):
    """An instruction 30 or more days before the end satisfies DPA18 §14: no flag, no notice."""
    end = (EFFECTIVE + timedelta(days=40)).isoformat()
    result = login(acme, "bob").lifecycle.terminate("beta", end, instruction="delete")
    assert result["flagged"] == []
    assert notices(acme, "beta", "termination-flagged") == []


# -- INSTR-5: the agreement itself ------------------------------------------------------------


def test_agreement_is_kept_as_hash_and_signatories__INSTR_5(acme):
    """The signed text's SHA-256, the date and both signatories are kept; the text is not."""
    sam = login(acme, "sam")
    sam.controllers.register("delta", "Delta ApS", "DK", "paying", "dpa-2018")
    result = sam.agreements.record("delta", "dpa-2018", "2026-03-01", TEXT, "Sam Hansen", "Bo Beta")
    assert result["status"] == "in force"
    shown = sam.controllers.show("delta")
    [doc] = shown["agreement_documents"]
    assert doc["text_sha256"] == hashlib.sha256(TEXT).hexdigest()
    assert doc["signed_by"] == {"processor": "Sam Hansen", "controller": "Bo Beta"}
    assert doc["signed_on"] == "2026-03-01"
    assert shown["pending_amendment"] is None
    stored = [e for e in acme.store.events.get(controller_id("delta"))]
    assert not any("Bo Beta" in repr(vars(e)) for e in stored)


def test_amendment_applies_only_after_the_administrator_accepts__INSTR_5(acme, clock):
    """A new edition is pending (old terms apply) until beta's administrator accepts it."""
    sam, bob = login(acme, "sam"), login(acme, "bob")
    # beta's dpa-2018 agreement is on record from the fixture (INSTR-5).
    pending = sam.agreements.record("beta", "scc", "2026-03-02", b"SCC text", "Sam", "Bo")
    assert pending["status"] == "pending acceptance by the controller"
    shown = sam.controllers.show("beta")
    assert shown["agreement"] == "dpa-2018"
    assert shown["pending_amendment"]["edition"] == "scc"
    assert shown["agreement_terms"]["deletion_after_termination_days"] == 0
    with pytest.raises(AccessDeniedError):
        sam.agreements.accept("beta", "scc")  # the processor cannot accept for the controller
    with pytest.raises(RefusedError, match="AmendmentMustBeAcceptedAsPending"):
        bob.agreements.accept("beta", "dpa-2018")
    bob.agreements.accept("beta", "scc")
    shown = sam.controllers.show("beta")
    assert shown["agreement"] == "scc"
    assert shown["pending_amendment"] is None
    assert shown["agreement_terms"]["deletion_after_termination_days"] == 120
    assert shown["agreement_documents"][-1]["accepted_by"] == "bob"
    # The accepted edition's terms now decide: a late end is no longer flagged.
    assert bob.lifecycle.terminate("beta", EFFECTIVE.isoformat())["flagged"] == []


def test_processing_waits_for_the_signed_agreement__INSTR_5(acme):
    """A controller with no signed agreement on record adds, imports and sends nothing; the
    refusal names the rule and the command that records it, and once it is recorded it may.
    """
    sam = login(acme, "sam")
    sam.controllers.register("gamma", "Gamma ApS", "DK", "paying", "scc", admin="gina")
    gina = login(acme, "gina")
    with pytest.raises(RefusedError) as refused:
        gina.contacts.add("gamma", "news", "a@example.dk", "email:form")
    assert refused.value.rule == "AgreementMustBeOnRecord"
    assert "processor controllers agreement gamma --edition scc" in str(refused.value)
    assert "a@example.dk" not in str(refused.value)
    with pytest.raises(RefusedError, match="AgreementMustBeOnRecord"):
        gina.imports.import_csv("gamma", io.BytesIO(b"email\nb@example.dk\n"), "news", "form")
    with pytest.raises(RefusedError, match="AgreementMustBeOnRecord"):
        gina.messages.send("gamma", "news", "email", "Hello", "Body")
    # A document of another edition waits for acceptance: it is not the agreement in force.
    sam.agreements.record("gamma", "dpa-2018", "2026-03-01", TEXT, "Sam", "Gina")
    with pytest.raises(RefusedError, match="AgreementMustBeOnRecord"):
        gina.contacts.add("gamma", "news", "a@example.dk", "email:form")
    gina.agreements.accept("gamma", "dpa-2018")
    assert gina.contacts.add("gamma", "news", "a@example.dk", "email:form")["created"]


# -- INSTR-2: flagged instructions ------------------------------------------------------------


def test_flagged_sensitive_data_instruction_holds_processing__INSTR_2(acme):
    """Processing on a flagged instruction is refused with the rule until it is confirmed."""
    alice, grete = login(acme, "alice"), login(acme, "grete")
    number = alice.controllers.instruct("acme", "sensitive-data", "Health notes.")["number"]
    grete.agreements.flag("acme", number, "Art. 9 data without a ground")
    told = notices(acme, "acme", "instruction-flagged")
    assert len(told) == 1 and f"instruction:{number}" == told[0]["about"]
    with pytest.raises(RefusedError, match="InstructionMustNotBeFlagged"):
        alice.contacts.add("acme", "news", "a@example.dk", "email:form", fields={"health": "x"})
    alice.agreements.settle("acme", number, confirm=True)
    alice.contacts.add("acme", "news", "a@example.dk", "email:form", fields={"health": "x"})
    assert alice.controllers.show("acme")["instructions"][number - 1]["flag"] == "confirmed"


def test_withdrawn_instruction_supports_nothing__INSTR_2(acme):
    """A withdrawn flagged instruction is as if never given."""
    alice, grete = login(acme, "alice"), login(acme, "grete")
    number = alice.controllers.instruct("acme", "sensitive-data", "Health notes.")["number"]
    grete.agreements.flag("acme", number, "no ground")
    alice.agreements.settle("acme", number, confirm=False)
    with pytest.raises(RefusedError) as refused:
        alice.contacts.add("acme", "news", "a@example.dk", "email:form", fields={"health": "x"})
    assert refused.value.rule == "SensitiveDataNeedsInstruction"


def test_flagging_is_the_gdpas_and_settling_the_controllers__INSTR_2(acme):
    """Only the GDPA flags; only the controller confirms; nothing unflagged can be settled."""
    alice, sam = login(acme, "alice"), login(acme, "sam")
    number = alice.controllers.instruct("acme", "general", "Send weekly.")["number"]
    with pytest.raises(AccessDeniedError):
        sam.agreements.flag("acme", number, "no")
    with pytest.raises(RefusedError, match="InstructionMustBeFlagged"):
        alice.agreements.settle("acme", number, confirm=True)
    with pytest.raises(InvalidInputError):
        login(acme, "grete").agreements.flag("acme", 99, "no such instruction")


def test_flagged_standing_support_access_approves_nothing__INSTR_2(acme):
    """A flagged standing support-access instruction no longer approves grants by itself."""
    alice, grete = login(acme, "alice"), login(acme, "grete")
    sam = login(acme, "sam")
    sam.users.add("sue", "support", confidentiality_signed="2026-01-05", trained="2026-01-06")
    number = alice.controllers.instruct("acme", "support-access", "Help us any time.")["number"]
    sue = login(acme, "sue")
    assert sue.access.request("acme", "ticket 1")["automatic"] is True
    grete.agreements.flag("acme", number, "blanket access is disproportionate")
    assert sue.access.request("acme", "ticket 2")["automatic"] is False
    alice.agreements.settle("acme", number, confirm=True)
    assert sue.access.request("acme", "ticket 3")["automatic"] is True


def test_flagged_user_request_is_refused_with_the_rule__INSTR_2(acme):
    """The system manager cannot carry out a user request while it is flagged."""
    sam, grete, alice = login(acme, "sam"), login(acme, "grete"), login(acme, "alice")
    number = alice.controllers.instruct(
        "acme", "user-request", "Add Ulla", {"change": "add", "user": "ulla", "role": "support"}
    )["number"]
    grete.agreements.flag("acme", number, "no such person at acme")
    with pytest.raises(RefusedError, match="InstructionMustNotBeFlagged"):
        sam.users.add("ulla", "support", controller="acme", request=number)
    alice.agreements.settle("acme", number, confirm=True)
    sam.users.add("ulla", "support", controller="acme", request=number)


def test_flagged_transfer_instruction_covers_no_transfer__INSTR_2(acme):
    """decide() sees no transfer instruction while the controller's one is flagged."""
    alice, grete = login(acme, "alice"), login(acme, "grete")
    number = alice.controllers.instruct(
        "acme", "transfer", "Use US tools", {"country": "US", "basis": "dpf"}
    )["number"]
    facts = grete.subprocessors
    ctrl = grete.controllers.get("acme")
    before = facts.controller_facts(ctrl).transfer_instructions
    grete.agreements.flag("acme", number, "no assessment")
    ctrl = grete.controllers.get("acme")
    after = facts.controller_facts(ctrl).transfer_instructions
    assert len(before) == len(after) + 1
    assert not any(i.basis == "dpf" and i.country == "US" for i in after if i.text)


# -- INSTR-6: legal requirements --------------------------------------------------------------


def test_legal_requirement_is_recorded_and_told__INSTR_6(acme):
    """The GDPA records a legally required processing; the controller gets the notice first."""
    grete = login(acme, "grete")
    result = grete.agreements.legal_requirement("acme", "Court order 12/2026: disclose logs")
    assert "LegalRequirementNotified" in events(acme, "acme")
    [told] = notices(acme, "acme", "legal-requirement")
    assert "Court order 12/2026" in told["body"]
    assert told["notice_id"] == result["notice"]
    with pytest.raises(AccessDeniedError):
        login(acme, "alice").agreements.legal_requirement("acme", "self-made")


# -- RET-4: trial end and upgrade -------------------------------------------------------------


def _demo(proc) -> None:
    login(proc, "sam").controllers.register("demo", "Demo ApS", "DK", "demo", "scc", admin="dora")
    sign_agreement(proc, "demo")


def test_trial_end_is_told_with_the_offer_to_upgrade__RET_4(acme, clock):
    """The sweep that finds the trial over tells the controller and offers the upgrade."""
    _demo(acme)
    clock.set(clock.now() + timedelta(days=31))
    login(acme, "grete").retention.sweep()
    [told] = notices(acme, "demo", "trial-end")
    assert "upgrade" in told["body"]


def test_upgraded_account_keeps_its_data__RET_4(acme, clock):
    """An upgrade on the controller's request stops the demo deletion; due shows the rule."""
    _demo(acme)
    dora, sam, grete = login(acme, "dora"), login(acme, "sam"), login(acme, "grete")
    dora.contacts.add("demo", "news", "d@example.dk", "email:form")
    clock.set(clock.now() + timedelta(days=31))
    grete.retention.sweep()
    with pytest.raises(RefusedError, match="UpgradeNeedsTheControllersRequest"):
        sam.agreements.upgrade("demo", "paying", None)
    number = dora.controllers.instruct(
        "demo", "upgrade-request", "Please upgrade us", {"account": "paying"}
    )["number"]
    with pytest.raises(AccessDeniedError):
        dora.agreements.upgrade("demo", "paying", number)
    sam.agreements.upgrade("demo", "paying", number)
    with pytest.raises(InvalidInputError, match="no upgrade"):
        sam.agreements.upgrade("demo", "paying", number)  # already paying
    clock.set(clock.now() + timedelta(days=200))
    plan = grete.retention.due()
    assert "demo" not in {d["controller"] for d in plan["due"] + plan["scheduled"]}
    [kept] = [d for d in plan["kept"] if d["controller"] == "demo"]
    assert kept["rule"] == "RET-4"
    grete.retention.sweep()
    assert dora.contacts.id_by_email("demo", "d@example.dk") is not None
    assert dora.contacts.active_count("demo") == 1


def test_demo_without_upgrade_is_still_swept__RET_4(acme, clock):
    """Without an upgrade the demo data goes 90 days after the trial, rule RET-4."""
    _demo(acme)
    login(acme, "dora").contacts.add("demo", "news", "d@example.dk", "email:form")
    clock.set(clock.now() + timedelta(days=121))
    result = login(acme, "grete").retention.sweep()
    assert [d["rule"] for d in result["due"] if d["controller"] == "demo"] == ["RET-4"]
