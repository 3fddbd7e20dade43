"""The sub-processor registry through the application, on SQLite and PostgreSQL.

The `acme` fixture registers acme on the current SCC edition and beta on the 2018 edition,
so both editions' approved lists are in the registry (SUB-1). The clock starts 2026-03-02.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from support import keep_subprocessor_agreement, login, sign_agreement

from processor.kernel.errors import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from subprocessors import RecipientOutbox, SubProcessorDetails, subprocessor_id

SPA_TEXT = b"Sub-processor agreement, clause 7.6: the controller is third-party beneficiary."
SCC_LIST = {"Team.Blue Denmark A/S", "Ubivox Technologies ApS", "InMobile"}
SHIELD = {"Facebook (og underliggende værktøjer)", "Slack", "Dropbox Inc.", "Microsoft"}


def details(name="Delta Mail ApS", **overrides) -> SubProcessorDetails:
    fields = {
        "name": name,
        "address": "Østergade 1, 5000 Odense C",
        "country": "DK",
        "activities": ("email",),
        "basis": "eea",
        "registration": "CVR 11223344",
        "agreement_ref": "SPA-2026-1",
        "agreement_date": date(2026, 2, 1),
        "beneficiary_clause": True,
    }
    fields.update(overrides)
    return SubProcessorDetails(**fields)


def names(listing) -> set[str]:
    return {row["name"] for row in listing["subprocessors"]}


def row(listing, name):
    return next(r for r in listing["subprocessors"] if r["name"] == name)


def test_each_edition_starts_with_its_approved_list__SUB_1(acme):
    """The first controller of an edition brings the edition's list into the registry: acme
    (SCC) sees Appendix B's three Danish entries from its signature, beta (2018) Bilag 1's
    fifteen from 2018-05-25 on; a later controller of an edition adds nothing.
    """
    grete = login(acme, "grete")
    assert len(grete.subprocessors.listing()["subprocessors"]) == 18
    mine = login(acme, "alice").subprocessors.listing()
    assert mine["controller"] == "acme"
    assert names(mine) == SCC_LIST
    team_blue = row(mine, "Team.Blue Denmark A/S")
    assert (team_blue["registration"], team_blue["country"], team_blue["activities"]) == (
        "CVR 29412006",
        "DK",
        ["hosting"],
    )
    assert team_blue["address"] == "Højvangen 4, 8660 Skanderborg"
    assert team_blue["basis"] == "eea"
    assert team_blue["status"] == "approved"
    assert team_blue["approved_from"] == acme.now().isoformat()
    theirs = login(acme, "bob").subprocessors.listing()
    assert len(theirs["subprocessors"]) == 15
    assert row(theirs, "Slack")["listed_from"] == "2018-05-25T00:00:00+00:00"
    sam = login(acme, "sam")
    sam.controllers.register("gamma", "Gamma A/S", "DK", "paying", "scc", admin="gina")
    sign_agreement(acme, "gamma")
    assert len(grete.subprocessors.listing()["subprocessors"]) == 18
    assert names(login(acme, "gina").subprocessors.listing()) == SCC_LIST


def test_propose_object_engage_with_dates__SUB_2__SUB_3(acme, clock):
    """A proposal gives every controller written notice with its engagement date (30 days:
    fixed by SCC 7.3, the processor's policy under the 2018 edition's "in advance"); beta
    objects in time, engagement before the date is refused naming it, and once engaged the
    sub-processor works for acme but never for beta.
    """
    grete, bob = login(acme, "grete"), login(acme, "bob")
    out = grete.subprocessors.propose(details())
    keep_subprocessor_agreement(acme, "Delta Mail ApS")
    notices = {n["controller"]: n for n in out["notices"]}
    assert set(notices) == {"acme", "beta"}
    assert notices["acme"]["engage_not_before"] == "2026-04-01"
    assert notices["acme"]["objections_until"] == "2026-03-31"
    assert notices["acme"]["fixed_by_agreement"] is True
    assert "SCC 7.3" in notices["acme"]["period"]
    assert notices["beta"]["fixed_by_agreement"] is False
    assert '"in advance"' in notices["beta"]["period"]
    assert out["may_be_engaged_from"] == "2026-04-01"
    proposed = acme.store.events.get(subprocessor_id("Delta Mail ApS"))
    first = next(iter(proposed))
    assert type(first).__name__ == "SubProcessorProposed"
    assert first.notices == {"acme": "2026-04-01", "beta": "2026-04-01"}

    clock.advance(timedelta(days=10))
    objected = bob.subprocessors.object_to("Delta Mail ApS", "beta", "we keep e-mail in-house")
    assert objected["controller"] == "beta"
    with pytest.raises(RefusedError) as early:
        grete.subprocessors.engage("Delta Mail ApS")
    assert early.value.rule == "NoticePeriodMustHaveElapsed"
    assert "before 2026-04-01" in str(early.value)
    assert "today is 2026-03-12" in str(early.value)
    assert grete.subprocessors.decide("acme", "Delta Mail ApS", "email").rule == (
        "NoticePeriodMustHaveElapsed"
    )

    clock.set(datetime(2026, 4, 1, 8, 0, tzinfo=UTC))
    engaged = grete.subprocessors.engage("delta  mail aps")
    assert engaged["for_controllers"] == ["acme"]
    assert engaged["blocked_by_objection"] == ["beta"]
    assert grete.subprocessors.decide("acme", "Delta Mail ApS", "email").allowed
    refused = grete.subprocessors.decide("beta", "Delta Mail ApS", "email")
    assert (refused.allowed, refused.rule, refused.obligation) == (
        False,
        "MustNotBeObjectedTo",
        "SUB-3",
    )
    view = row(bob.subprocessors.listing(), "Delta Mail ApS")
    assert view["status"] == "objected"
    assert view["objection"]["reason"] == "we keep e-mail in-house"
    assert row(login(acme, "alice").subprocessors.listing(), "Delta Mail ApS")["status"] == (
        "approved"
    )
    before = login(acme, "alice").subprocessors.listing(at=datetime(2026, 3, 20, tzinfo=UTC))
    assert row(before, "Delta Mail ApS")["status"] == "notice-period"


def test_objection_after_the_notice_date_is_refused_with_the_reason__SUB_3(acme, clock):
    """On the notice date the objection period is over: refused, naming both dates; a list
    entry the controller approved by signing cannot be objected to either.
    """
    login(acme, "grete").subprocessors.propose(details())
    clock.advance(timedelta(days=30))
    bob = login(acme, "bob")
    with pytest.raises(RefusedError) as late:
        bob.subprocessors.object_to("Delta Mail ApS", "beta", "too late")
    assert late.value.rule == "ObjectionMustPrecedeNoticeDate"
    message = str(late.value)
    assert "ended on 2026-04-01" in message
    assert "objections were possible until 2026-03-31" in message
    with pytest.raises(RefusedError) as listed:
        bob.subprocessors.object_to("Slack", "beta", "we never wanted it")
    assert "approved when it signed" in str(listed.value)
    with pytest.raises(AccessDeniedError):
        bob.subprocessors.object_to("Delta Mail ApS", "acme", "not ours to say")
    with pytest.raises(InvalidInputError):
        login(acme, "alice").subprocessors.object_to("Delta Mail ApS", "acme", "  ")


def test_adding_to_a_signed_list_needs_notice__SUB_2(acme):
    """`add` enters a list entry approved at signature; for an edition whose controllers
    already signed without it, it is refused (they must be given notice: `propose`), unless
    the entry was on the list from a date before every one of those signatures.
    """
    grete = login(acme, "grete")
    with pytest.raises(RefusedError) as refused:
        grete.subprocessors.add(details())
    assert refused.value.rule == "ListEntryMustPrecedeSignature"
    assert "propose" in str(refused.value)
    added = grete.subprocessors.add(
        details("Forgotten Host A/S", activities=("backup",)),
        editions=["scc"],
        listed_from=date(2026, 1, 1),
    )
    assert added["editions"] == ["scc"]
    assert grete.subprocessors.decide("acme", "Forgotten Host A/S", "backup").allowed
    assert grete.subprocessors.decide("beta", "Forgotten Host A/S", "backup").rule == (
        "MustBeOnControllersList"
    )
    with pytest.raises(RefusedError, match="SubProcessorNamesAreUnique"):
        grete.subprocessors.propose(details("forgotten host a/s"))
    with pytest.raises(InvalidInputError):
        grete.subprocessors.add(details("X", activities=("mining",)), editions=["scc"])
    with pytest.raises(InvalidInputError):
        grete.subprocessors.add(details("Y"), editions=["effecttracker"])


def test_use_outside_the_approved_activity_is_refused__SUB_4(acme):
    """InMobile is approved for SMS only: e-mail through it is refused with the rule."""
    grete = login(acme, "grete")
    assert grete.subprocessors.decide("acme", "InMobile", "sms").allowed
    refused = grete.subprocessors.decide("acme", "InMobile", "email")
    assert (refused.rule, refused.obligation) == ("ActivityMustBeApproved", "SUB-4")
    assert "approved for sms, not for email" in refused.reason
    with pytest.raises(NotFoundError):
        grete.subprocessors.decide("acme", "No Such ApS", "sms")


def test_agreement_is_recorded_before_engagement_and_shown__SUB_5(acme, clock):
    """Engagement needs the sub-processor agreement on record (Art. 28(4)); once recorded
    its reference, date and beneficiary clause are shown, and `check` stops flagging it.
    """
    grete = login(acme, "grete")
    grete.subprocessors.propose(
        details(agreement_ref="", agreement_date=None, beneficiary_clause=None)
    )
    clock.advance(timedelta(days=30))
    with pytest.raises(RefusedError, match="AgreementMustBeRecorded"):
        grete.subprocessors.engage("Delta Mail ApS")
    grete.subprocessors.record_agreement(
        "Delta Mail ApS", "SPA-77", agreement_date=date(2026, 3, 1), beneficiary_clause=True,
        text=SPA_TEXT,
    )  # fmt: skip
    grete.subprocessors.engage("Delta Mail ApS")
    shown = row(login(acme, "alice").subprocessors.listing(), "Delta Mail ApS")
    assert shown["agreement"] == {"ref": "SPA-77", "date": "2026-03-01", "beneficiary_clause": True}
    before = {f["rule"] for f in grete.subprocessors.check("acme")["findings"]}
    assert before == {"AgreementMustBeRecorded", "BeneficiaryClauseMustBeIncluded"}
    for name in SCC_LIST:
        grete.subprocessors.record_agreement(
            name, f"DPA-{name[:4]}", agreement_date=date(2025, 6, 1), beneficiary_clause=True,
            text=SPA_TEXT,
        )  # fmt: skip
    assert grete.subprocessors.check("acme") == {"findings": []}


def test_engagement_needs_the_agreements_text_kept__SUB_5(acme, clock):
    """A reference given at `propose` is not the agreement: once the notice period has run,
    engagement is refused until the agreement's text is kept, and the refusal names the
    command that keeps it; the refusal records nothing, and once the text is kept it engages.
    """
    grete = login(acme, "grete")
    grete.subprocessors.propose(details())
    clock.advance(timedelta(days=30))
    with pytest.raises(RefusedError) as refused:
        grete.subprocessors.engage("Delta Mail ApS")
    assert refused.value.rule == "AgreementTextMustBeKept"
    message = str(refused.value)
    assert message.startswith("AgreementTextMustBeKept: ")
    assert "only its reference SPA-2026-1 is on record" in message
    assert (
        "subprocessors agreement 'Delta Mail ApS' --ref SPA-2026-1 --text-file FILE "
        "--beneficiary-clause"
    ) in message
    assert "\n" not in message
    sid = subprocessor_id("Delta Mail ApS")
    assert [type(e).__name__ for e in acme.store.events.get(sid)] == ["SubProcessorProposed"]
    kept = grete.subprocessors.record_agreement(
        "Delta Mail ApS", "SPA-2026-1", agreement_date=date(2026, 2, 1), beneficiary_clause=True,
        text=SPA_TEXT,
    )["agreement"]  # fmt: skip
    assert kept["text_sha256"] == hashlib.sha256(SPA_TEXT).hexdigest()
    engaged = grete.subprocessors.engage("Delta Mail ApS")
    assert engaged["for_controllers"] == ["acme", "beta"]
    assert [type(e).__name__ for e in acme.store.events.get(sid)] == [
        "SubProcessorProposed",
        "SubProcessorAgreementKept",
        "SubProcessorEngaged",
    ]


def test_engagement_and_agreement_need_the_beneficiary_clause__SUB_5(acme, clock):
    """An agreement without the clause naming the controller third-party beneficiary (SCC 7.6)
    is refused, and so is engaging a proposal whose agreement lacks it; the kept agreement
    carries the SHA-256 of its text, and each amendment is kept with its own.
    """
    grete = login(acme, "grete")
    grete.subprocessors.propose(details(beneficiary_clause=False))
    clock.advance(timedelta(days=30))
    with pytest.raises(RefusedError) as engage:
        grete.subprocessors.engage("Delta Mail ApS")
    assert engage.value.rule == "BeneficiaryClauseMustBeIncluded"
    assert "SCC 7.6" in str(engage.value)
    with pytest.raises(RefusedError, match="BeneficiaryClauseMustBeIncluded"):
        grete.subprocessors.record_agreement(
            "Delta Mail ApS", "SPA-78", agreement_date=date(2026, 3, 1),
            beneficiary_clause=False, text=SPA_TEXT,
        )  # fmt: skip
    with pytest.raises(InvalidInputError, match="text"):
        grete.subprocessors.record_agreement(
            "Delta Mail ApS", "SPA-78", agreement_date=None, beneficiary_clause=True, text=b" "
        )
    kept = grete.subprocessors.record_agreement(
        "Delta Mail ApS", "SPA-78", agreement_date=date(2026, 3, 1), beneficiary_clause=True,
        text=SPA_TEXT,
    )["agreement"]  # fmt: skip
    assert kept["text_sha256"] == hashlib.sha256(SPA_TEXT).hexdigest()
    grete.subprocessors.engage("Delta Mail ApS")
    amended = grete.subprocessors.amend_agreement(
        "Delta Mail ApS", "SPA-78/1", signed_on=date(2026, 3, 30), text=b"Annex C.2 amended"
    )["agreement"]
    assert [(a["ref"], a["signed_on"]) for a in amended["amendments"]] == [
        ("SPA-78/1", "2026-03-30")
    ]
    assert amended["amendments"][0]["text_sha256"] == (
        hashlib.sha256(b"Annex C.2 amended").hexdigest()
    )
    kinds = [type(e).__name__ for e in acme.store.events.get(subprocessor_id("Delta Mail ApS"))]
    assert kinds[-2:] == ["SubProcessorEngaged", "SubProcessorAgreementAmended"]
    assert "SubProcessorAgreementKept" in kinds


def test_controller_gets_the_agreement_and_its_amendments__SUB_9(acme, clock):
    """A controller's administrator gets the copy of the agreement of a sub-processor on its
    list, with its text's hash and every amendment (SCC 7.5); a sub-processor not on its list
    is not shown, and a controller's user sees only its own controller's.
    """
    grete, alice = login(acme, "grete"), login(acme, "alice")
    grete.subprocessors.propose(details())
    grete.subprocessors.record_agreement(
        "Delta Mail ApS", "SPA-79", agreement_date=date(2026, 3, 1), beneficiary_clause=True,
        text=SPA_TEXT,
    )  # fmt: skip
    grete.subprocessors.amend_agreement(
        "Delta Mail ApS", "SPA-79/1", signed_on=date(2026, 3, 2), text=b"amended"
    )
    copy = alice.subprocessors.agreement_copy("Delta Mail ApS")
    assert copy["controller"] == "acme"
    assert copy["agreement"]["ref"] == "SPA-79"
    assert copy["agreement"]["beneficiary_clause"] is True
    assert copy["agreement"]["text_sha256"] == hashlib.sha256(SPA_TEXT).hexdigest()
    assert [a["ref"] for a in copy["agreement"]["amendments"]] == ["SPA-79/1"]
    with pytest.raises(AccessDeniedError):
        alice.subprocessors.agreement_copy("Delta Mail ApS", "beta")
    grete.subprocessors.add(
        details("Forgotten Host A/S", activities=("backup",)),
        editions=["dpa-2018"],
        listed_from=date(2018, 1, 1),
    )
    with pytest.raises(NotFoundError, match="not on acme's list"):
        alice.subprocessors.agreement_copy("Forgotten Host A/S")


def test_a_planned_change_is_told_to_each_controller_with_the_deadline__SUB_2(acme):
    """A proposal sends each affected controller a `subprocessor-change` notice in writing,
    naming the sub-processor, the first day it may be engaged and the last day to object.
    """
    login(acme, "grete").subprocessors.propose(details())
    for user, ref in (("alice", "acme"), ("bob", "beta")):
        [told] = [n for n in login(acme, user).notices.list() if n["kind"] == "subprocessor-change"]
        assert told["controller"] == ref
        assert told["about"] == "subprocessor:Delta Mail ApS"
        assert "Delta Mail ApS is added" in told["title"]
        assert "before 2026-04-01" in told["body"]
        assert "object until 2026-03-31" in told["body"]


def test_third_country_without_instruction_or_basis_is_flagged__SUB_6(acme, clock):
    """A US sub-processor under the Data Privacy Framework processes acme's data only after
    acme's documented transfer instruction naming the US and `dpf`; one under "none" (a
    processing agreement only) is flagged whatever the instruction.
    """
    grete, alice = login(acme, "grete"), login(acme, "alice")
    grete.subprocessors.propose(details("Yankee Mail Inc.", country="US", basis="dpf"))
    grete.subprocessors.propose(details("Plain Mail Inc.", country="US", basis="none"))
    keep_subprocessor_agreement(acme, "Yankee Mail Inc.")
    keep_subprocessor_agreement(acme, "Plain Mail Inc.")
    clock.advance(timedelta(days=30))
    grete.subprocessors.engage("Yankee Mail Inc.")
    grete.subprocessors.engage("Plain Mail Inc.")
    refused = grete.subprocessors.decide("acme", "Yankee Mail Inc.", "email")
    assert (refused.rule, refused.obligation) == ("ThirdCountryNeedsInstruction", "SUB-6")
    findings = grete.subprocessors.check("acme")["findings"]
    flagged = {(f["subprocessor"], f["rule"]) for f in findings if f["blocking"]}
    assert ("Yankee Mail Inc.", "ThirdCountryNeedsInstruction") in flagged
    assert ("Plain Mail Inc.", "ThirdCountryNeedsTransferBasis") in flagged
    alice.controllers.instruct(
        "acme", "transfer", "E-mail via Yankee Mail in the USA.", {"country": "us", "basis": "dpf"}
    )
    assert grete.subprocessors.decide("acme", "Yankee Mail Inc.", "email").allowed
    shown = login(acme, "alice").controllers.show("acme")["instructions"][-1]
    assert shown["details"] == {"country": "US", "basis": "dpf"}
    view = row(alice.subprocessors.listing(), "Yankee Mail Inc.")
    assert (view["third_countries"], view["transfer_instructed"]) == (["US"], True)
    findings = grete.subprocessors.check("acme")["findings"]
    flagged = {(f["subprocessor"], f["rule"]) for f in findings if f["blocking"]}
    assert flagged == {
        ("Plain Mail Inc.", "ThirdCountryNeedsTransferBasis"),
        ("Plain Mail Inc.", "ThirdCountryNeedsInstruction"),
    }
    for bad in ({"country": "US"}, {"country": "US", "basis": "contract"}, {"basis": "scc"}):
        with pytest.raises(InvalidInputError):
            alice.controllers.instruct("acme", "transfer", "x", bad)
    with pytest.raises(InvalidInputError):
        alice.controllers.instruct("acme", "general", "x", {"country": "US", "basis": "dpf"})


def test_2018_list_flags_privacy_shield_today_not_in_2019__SUB_6(acme):
    """Beta signed Bilag 1 (its signature is the transfer instruction for the listed
    entries): today the basis rule flags exactly the Privacy Shield entries; as of a day
    before beta existed nothing is in use for it, so nothing is flagged.
    """
    grete = login(acme, "grete")
    findings = grete.subprocessors.check("beta")["findings"]
    basis = {f["subprocessor"] for f in findings if f["rule"] == "TransferBasisMustBeInForce"}
    assert basis == SHIELD
    assert not [f for f in findings if f["rule"] == "ThirdCountryNeedsInstruction"]
    slack = next(
        f
        for f in findings
        if f["subprocessor"] == "Slack" and f["rule"] != "AgreementMustBeRecorded"
    )
    assert slack["dates"]["invalid_from"] == "2020-07-16"
    assert grete.subprocessors.check("beta", at=datetime(2019, 1, 1, tzinfo=UTC)) == {
        "findings": []
    }


def test_supervision_results_are_given_to_the_controllers__SUB_7(acme, clock):
    """A documented supervision (date, method, finding) is listed for every controller whose
    sub-processor it is; a future date or unknown method is refused.
    """
    grete = login(acme, "grete")
    grete.subprocessors.supervise(
        "Ubivox Technologies ApS", "questionnaire", "no deviations", date(2026, 2, 20)
    )
    shown = row(login(acme, "alice").subprocessors.listing(), "Ubivox Technologies ApS")
    assert shown["supervisions"] == [
        {
            "on": "2026-02-20",
            "method": "questionnaire",
            "finding": "no deviations",
            "recorded_at": clock.now().isoformat(),
            "recorded_by": "grete",
        }
    ]
    with pytest.raises(InvalidInputError):
        grete.subprocessors.supervise("Ubivox Technologies ApS", "vibes", "fine")
    with pytest.raises(InvalidInputError):
        grete.subprocessors.supervise(
            "Ubivox Technologies ApS", "questionnaire", "fine", date(2027, 1, 1)
        )
    with pytest.raises(AccessDeniedError):
        login(acme, "alice").subprocessors.supervise("InMobile", "questionnaire", "fine")


def test_rectify_restrict_erase_reach_every_recipient__SUBJ_5(acme, clock):
    """Each change is queued once per engaged recipient (acme's three), in the same commit as
    the change; a repeated restriction or a lifted one queues nothing; the outbox names
    the contact by id only; `acknowledge` clears one entry, and only once.
    """
    alice, grete = login(acme, "alice"), login(acme, "grete")
    cid = alice.contacts.add(
        "acme", "news", "karen.kristoffersen@example.dk", "email:form", first_name="Karen"
    )["contact_id"]
    alice.contacts.update("acme", cid, {"last_name": "Kristoffersen"})
    alice.contacts.set_state("restrict", "acme", cid, "accuracy contested")
    alice.contacts.set_state("restrict", "acme", cid, "again")
    alice.contacts.set_state("unrestrict", "acme", cid, "")
    alice.contacts.set_state("object", "acme", cid, "")
    alice.erasure.erase("acme", "Art. 17", contact=cid)
    pending = grete.subprocessors.outbox()["pending"]
    assert len(pending) == 9
    kinds = {(e["kind"], e["subprocessor"]) for e in pending}
    assert kinds == {(k, n) for k in ("rectification", "restriction", "erasure") for n in SCC_LIST}
    assert {e["contact_id"] for e in pending} == {cid}
    assert login(acme, "bob").subprocessors.outbox()["pending"] == []
    assert len(alice.subprocessors.outbox()["pending"]) == 9
    with pytest.raises(AccessDeniedError):
        alice.subprocessors.outbox("beta")
    text = json.dumps(pending) + "".join(
        repr(vars(e)) for e in acme.store.events.get(RecipientOutbox.create_id("acme"))
    )
    for secret in ("karen", "Karen", "Kristoffersen", "@example.dk"):
        assert secret not in text
    first = pending[0]["id"]
    done = grete.subprocessors.acknowledge(first)
    assert done["acknowledged_by"] == "grete"
    assert len(grete.subprocessors.outbox()["pending"]) == 8
    with pytest.raises(RefusedError, match="RecipientNoticeMustBePending"):
        grete.subprocessors.acknowledge(first)
    with pytest.raises(NotFoundError):
        grete.subprocessors.acknowledge("not-an-entry")
    # A controller's administrator acknowledges its own controller's entries (SUBJ-5).
    alice.subprocessors.acknowledge(pending[1]["id"])


def test_an_objected_or_proposed_subprocessor_is_no_recipient__SUBJ_5(acme, clock):
    """Only sub-processors that may hold the controller's data are told: not one still in
    its notice period, and never one the controller objected to.
    """
    grete = login(acme, "grete")
    grete.subprocessors.propose(details())
    keep_subprocessor_agreement(acme, "Delta Mail ApS")
    login(acme, "bob").subprocessors.object_to("Delta Mail ApS", "beta", "no")
    bob = login(acme, "bob")
    cid = bob.contacts.add("beta", "news", "x@example.org", "email:form")["contact_id"]
    bob.contacts.update("beta", cid, {"first_name": "X"})
    before = {e["subprocessor"] for e in bob.subprocessors.outbox()["pending"]}
    assert len(before) == 15
    assert "Delta Mail ApS" not in before
    clock.advance(timedelta(days=30))
    grete.subprocessors.engage("Delta Mail ApS")
    bob.contacts.update("beta", cid, {"first_name": "Y"})
    alice = login(acme, "alice")
    aid = alice.contacts.add("acme", "news", "y@example.dk", "email:form")["contact_id"]
    alice.contacts.update("acme", aid, {"first_name": "Z"})
    assert "Delta Mail ApS" not in {
        e["subprocessor"] for e in bob.subprocessors.outbox()["pending"]
    }
    assert "Delta Mail ApS" in {e["subprocessor"] for e in alice.subprocessors.outbox()["pending"]}


def test_erasure_receipt_points_at_the_erasure_not_the_outbox__SUBJ_5(acme):
    """The outbox entry is committed with the erasure, before it: the receipt's leaf is
    still the `ContactErased` event.
    """
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "z@example.dk", "email:form")["contact_id"]
    receipt = alice.erasure.erase("acme", "request", contact=cid)
    notes = acme.store.recorder.select_notifications(start=1, limit=10_000)
    kinds = [type(acme.store.mapper.to_domain_event(n)).__qualname__ for n in notes[-2:]]
    assert kinds == ["RecipientOutbox.RecipientNoticeQueued", "Contact.ContactErased"]
    assert receipt["leaf_index"] == notes[-1].id - 1


def test_staff_and_controller_scopes__SUB_1(acme):
    """Controller users see only their own controller's view and cannot change the registry;
    processor staff see the whole registry with every controller's notices and objections.
    """
    alice = login(acme, "alice")
    with pytest.raises(AccessDeniedError):
        alice.subprocessors.listing("beta")
    with pytest.raises(AccessDeniedError):
        alice.subprocessors.check("beta")
    with pytest.raises(AccessDeniedError):
        alice.subprocessors.propose(details())
    with pytest.raises(AccessDeniedError):
        login(acme, "mia").subprocessors.listing()
    with pytest.raises(NotFoundError):
        login(acme, "grete").subprocessors.listing("nobody")
    staff = login(acme, "sam").subprocessors.listing()
    assert staff["controller"] is None
    assert all("notices" in r and "objections" in r for r in staff["subprocessors"])


def test_a_replacement_notifies_only_the_controllers_using_the_old_one__SUB_2(acme, clock):
    """Replacing InMobile (the SCC list's SMS provider) concerns acme, not beta: only acme
    gets notice, the replacement joins the SCC list only, and the list shows what it replaces.
    """
    grete = login(acme, "grete")
    out = grete.subprocessors.propose(
        details("Sigma SMS ApS", activities=("sms",)), replaces="inmobile"
    )
    assert [n["controller"] for n in out["notices"]] == ["acme"]
    assert (out["replaces"], out["editions"]) == ("InMobile", ["scc"])
    with pytest.raises(NotFoundError):
        grete.subprocessors.propose(details("Tau SMS ApS"), replaces="No Such ApS")
    keep_subprocessor_agreement(acme, "Sigma SMS ApS")
    clock.advance(timedelta(days=30))
    grete.subprocessors.engage("Sigma SMS ApS")
    grete.subprocessors.retire("InMobile", "replaced by Sigma SMS ApS")
    mine = login(acme, "alice").subprocessors.listing()
    assert row(mine, "Sigma SMS ApS")["replaces"] == "InMobile"
    assert row(mine, "InMobile")["status"] == "retired"
    assert grete.subprocessors.decide("acme", "InMobile", "sms").rule == (
        "SubProcessorMustNotBeRetired"
    )
    assert grete.subprocessors.decide("acme", "Sigma SMS ApS", "sms").allowed
    assert "Sigma SMS ApS" not in names(login(acme, "bob").subprocessors.listing())
