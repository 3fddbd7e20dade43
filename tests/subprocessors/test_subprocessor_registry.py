"""The sub-processor aggregate: list entries, proposals, notice, objection, agreement and
supervision, each refused or recorded as its obligation says.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from eventsourcing.application import Application
from subprocessor_strategies import keep_agreement, make_details

from processor.kernel.errors import InvalidInputError, RefusedError
from subprocessors import (
    ControllerFacts,
    SubProcessor,
    add_edition_list,
    check,
    facts_as_of,
    may_process,
    notice_dates,
    subprocessor_id,
)

SIGNED = datetime(2026, 1, 10, tzinfo=UTC)


def scc_controller(cid: str = "acme") -> ControllerFacts:
    return ControllerFacts(cid, "scc", SIGNED)


def propose(notices: dict[str, date], **overrides) -> SubProcessor:
    return SubProcessor.propose(make_details(**overrides), notices=notices, actor="dpo")


def proposed_and_agreed(notices: dict[str, date]) -> SubProcessor:
    """A proposal whose agreement text is kept, so only the notice dates decide engagement."""
    sp = propose(notices)
    keep_agreement(sp)
    return sp


def test_the_name_identifies_the_subprocessor__SUB_1(sp_clock):
    """The id is derived from the name (case and spacing ignored), so one name is one entry."""
    sp = propose({"acme": date(2026, 12, 21)})
    assert sp.id == subprocessor_id("Delta Mail ApS") == subprocessor_id("  delta   MAIL aps ")


def test_edition_list_entries_are_approved_for_that_editions_controllers__SUB_1(
    sp_clock, editions, transfer_policy
):
    """Appendix B entries are on every SCC controller's list from its signature, with the
    recorded name, CVR, address, country, activity and basis; not on a 2018 controller's.
    """
    sps = add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))
    team_blue = sps[0].facts()
    assert (team_blue.name, team_blue.registration, team_blue.country) == (
        "Team.Blue Denmark A/S",
        "CVR 29412006",
        "DK",
    )
    assert team_blue.address == "Højvangen 4, 8660 Skanderborg"
    assert (team_blue.activities, team_blue.basis) == (frozenset({"hosting"}), "eea")
    assert [type(e).__name__ for e in sps[0].collect_events()] == ["SubProcessorAdded"]
    at = datetime(2026, 6, 1, tzinfo=UTC)
    assert may_process(scc_controller(), team_blue, "hosting", at, transfer_policy).allowed
    old = ControllerFacts("old", "dpa-2018", SIGNED)
    refused = may_process(old, team_blue, "hosting", at, transfer_policy)
    assert refused.rule == "MustBeOnControllersList"
    before_signing = may_process(
        scc_controller(), team_blue, "hosting", SIGNED - timedelta(days=1), transfer_policy
    )
    assert before_signing.rule == "MustBeOnControllersList"


def test_list_without_a_date_needs_one__SUB_1(sp_clock, editions):
    """The SCC list applies from each signature; seeding it without a date is refused."""
    with pytest.raises(InvalidInputError, match="listed_from"):
        add_edition_list(editions["scc"], actor="dpo")


def test_engaging_before_the_notice_date_is_refused__SUB_2(sp_clock):
    """A proposal notified on 2026-11-21 with 30 days' notice cannot be engaged on day 29."""
    sp = proposed_and_agreed({"acme": date(2026, 12, 21), "beta": date(2026, 12, 1)})
    sp_clock.advance(timedelta(days=29))
    with pytest.raises(RefusedError) as caught:
        sp.engage(actor="dpo")
    assert caught.value.rule == "NoticePeriodMustHaveElapsed"
    assert "acme" in str(caught.value)
    assert "before 2026-12-21" in str(caught.value)
    sp_clock.advance(timedelta(days=1))
    sp.engage(actor="dpo")
    assert sp.engaged_at == sp_clock.now()
    assert sp.engaged_by == "dpo"


def test_notice_must_name_a_later_day__SUB_2(sp_clock):
    """A notice whose engagement date is the proposal day itself gives no notice at all."""
    with pytest.raises(RefusedError) as caught:
        propose({"acme": date(2026, 11, 21)})
    assert caught.value.rule == "NoticeMustBeGivenInAdvance"
    with pytest.raises(InvalidInputError, match="ISO date"):
        SubProcessor.propose(make_details(), notices={"acme": "21/12/2026"}, actor="dpo")


def test_processing_waits_for_each_controllers_notice_date__SUB_2(sp_clock, transfer_policy):
    """Once engaged, a sub-processor works for a controller only from that controller's own
    notice date (controllers on different editions may have different dates).
    """
    sp = proposed_and_agreed({"acme": date(2026, 12, 21)})
    sp_clock.advance(timedelta(days=30))
    sp.engage(actor="dpo")
    facts = sp.facts()
    day_before = datetime(2026, 12, 20, 23, 0, tzinfo=UTC)
    assert may_process(scc_controller(), facts, "email", day_before, transfer_policy).rule == (
        "NoticePeriodMustHaveElapsed"
    )
    assert may_process(scc_controller(), facts, "email", sp_clock.now(), transfer_policy).allowed
    not_notified = may_process(
        scc_controller("other"), facts, "email", sp_clock.now(), transfer_policy
    )
    assert not not_notified.allowed


def test_objection_blocks_processing__SUB_3(sp_clock, transfer_policy):
    """An objection within the notice period is recorded with its reason and keeps the
    sub-processor away from that controller's data for good; others are unaffected, and
    engagement need not wait for the objector.
    """
    sp = proposed_and_agreed({"acme": date(2027, 1, 30), "beta": date(2026, 12, 21)})
    sp.object_to("acme", "hosting outside our approved vendors", actor="acme-admin")
    assert sp.objections["acme"].reason == "hosting outside our approved vendors"
    sp_clock.advance(timedelta(days=30))
    sp.engage(actor="dpo")
    later = sp_clock.now() + timedelta(days=365)
    acme = may_process(scc_controller("acme"), sp.facts(), "email", later, transfer_policy)
    assert (acme.allowed, acme.rule, acme.obligation) == (False, "MustNotBeObjectedTo", "SUB-3")
    assert may_process(scc_controller("beta"), sp.facts(), "email", later, transfer_policy).allowed


def test_objection_after_the_notice_date_is_refused_with_the_last_day__SUB_3(sp_clock):
    """After the notice date the objection is refused, and the message says until when it
    was possible.
    """
    sp = propose({"acme": date(2026, 12, 21)})
    sp_clock.set(datetime(2026, 12, 21, 8, 0, tzinfo=UTC))
    with pytest.raises(RefusedError) as caught:
        sp.object_to("acme", "too late", actor="acme-admin")
    assert caught.value.rule == "ObjectionMustPrecedeNoticeDate"
    assert "ended on 2026-12-21" in str(caught.value)
    assert "possible until 2026-12-20" in str(caught.value)


def test_objection_needs_a_notice_and_a_reason__SUB_3(sp_clock, editions):
    """A controller not notified (or which approved the list at signing) cannot object;
    an objection must give its reason; a second objection is refused.
    """
    sp = propose({"acme": date(2026, 12, 21)})
    with pytest.raises(RefusedError, match="was not notified"):
        sp.object_to("stranger", "no", actor="x")
    with pytest.raises(InvalidInputError):
        sp.object_to("acme", "  ", actor="x")
    sp.object_to("acme", "no", actor="x")
    with pytest.raises(RefusedError) as caught:
        sp.object_to("acme", "still no", actor="x")
    assert caught.value.rule == "ObjectionIsRecordedOnce"


def test_subprocessor_is_used_only_for_its_activity__SUB_4(sp_clock, editions, transfer_policy):
    """InMobile is approved for SMS: e-mail through it is refused, naming both."""
    sps = add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))
    inmobile = next(sp for sp in sps if sp.name == "InMobile").facts()
    decision = may_process(scc_controller(), inmobile, "email", sp_clock.now(), transfer_policy)
    assert (decision.rule, decision.obligation) == ("ActivityMustBeApproved", "SUB-4")
    assert "approved for sms, not for email" in decision.reason
    assert may_process(scc_controller(), inmobile, "sms", sp_clock.now(), transfer_policy).allowed


def test_engagement_needs_the_recorded_agreement__SUB_5(sp_clock):
    """Art. 28(4): no engagement before the sub-processor agreement is on record; recording
    it keeps the reference, its date and the third-party-beneficiary clause.
    """
    sp = propose({"acme": date(2026, 11, 22)}, agreement_ref="", agreement_date=None)
    sp_clock.advance(timedelta(days=1))
    with pytest.raises(RefusedError) as caught:
        sp.engage(actor="dpo")
    assert caught.value.rule == "AgreementMustBeRecorded"
    sp.record_agreement(
        "DPA-SUB-77",
        agreement_date=date(2026, 11, 20),
        beneficiary_clause=True,
        text_sha256=hashlib.sha256(b"DPA-SUB-77").hexdigest(),
        actor="dpo",
    )
    facts = sp.facts()
    assert (facts.agreement_ref, facts.agreement_date, facts.beneficiary_clause) == (
        "DPA-SUB-77",
        date(2026, 11, 20),
        True,
    )
    assert sp.agreement_recorded_by == "dpo"
    sp.engage(actor="dpo")


def test_missing_agreement_and_beneficiary_clause_are_reported__SUB_5(
    sp_clock, editions, transfer_policy
):
    """Seeded entries without a recorded agreement, and agreements without the beneficiary
    clause the edition requires, are documentation findings (not blocking).
    """
    sps = [
        sp.facts()
        for sp in add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))
    ]
    findings = check([scc_controller()], sps, sp_clock.now(), transfer_policy, editions=editions)
    rules = sorted({(f.rule, f.blocking) for f in findings})
    assert rules == [("AgreementMustBeRecorded", False), ("BeneficiaryClauseMustBeIncluded", False)]
    assert len(findings) == 6


def test_supervision_is_documented_on_the_subprocessor__SUB_7(sp_clock, editions):
    """A supervision is recorded with its date, method, finding and who did it; an unknown
    method, an empty finding or a date in the future is refused.
    """
    sp = add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))[0]
    sp.supervise(
        date(2026, 11, 3), "questionnaire", "ISAE 3402 type 2 report received", actor="gdpa"
    )
    (supervision,) = sp.facts().supervisions
    assert (supervision.on, supervision.method, supervision.actor) == (
        date(2026, 11, 3),
        "questionnaire",
        "gdpa",
    )
    assert supervision.recorded_at == sp_clock.now()
    with pytest.raises(InvalidInputError):
        sp.supervise(date(2026, 11, 3), "gut-feeling", "fine", actor="gdpa")
    with pytest.raises(InvalidInputError):
        sp.supervise(date(2026, 11, 3), "questionnaire", " ", actor="gdpa")
    with pytest.raises(InvalidInputError):
        sp.supervise(date(2026, 12, 1), "questionnaire", "later", actor="gdpa")
    names = [type(e).__name__ for e in sp.collect_events()]
    assert names == ["SubProcessorAdded", "SubProcessorSupervised"]


def test_retired_subprocessor_processes_nothing__SUB_1(sp_clock, editions, transfer_policy):
    """Retiring takes the entry off every list from that moment; retiring twice is refused."""
    sp = add_edition_list(editions["scc"], actor="dpo", listed_from=date(2025, 1, 1))[1]
    sp.retire("replaced by a new e-mail provider", actor="dpo")
    decision = may_process(scc_controller(), sp.facts(), "email", sp_clock.now(), transfer_policy)
    assert decision.rule == "SubProcessorMustNotBeRetired"
    before = may_process(
        scc_controller(), sp.facts(), "email", sp_clock.now() - timedelta(hours=1), transfer_policy
    )
    assert before.allowed
    with pytest.raises(RefusedError):
        sp.retire("again", actor="dpo")


def test_every_event_carries_actor_and_clock_time_and_survives_storage__SUB_1(sp_clock):
    """Stored and reloaded through the eventsourcing application, the aggregate has the same
    facts; every event names its actor and has the injected clock's time.
    """
    replaced = subprocessor_id("Old Mail ApS")
    sp = SubProcessor.propose(
        make_details(country="US", data_locations=("IE",), basis="dpf"),
        notices={"acme": "2026-12-21"},
        editions=["scc"],
        replaces=replaced,
        actor="dpo",
    )
    sp.object_to("acme", "no US", actor="acme-admin")
    keep_agreement(sp, actor="gdpa")
    sp_clock.advance(timedelta(days=31))
    sp.engage(actor="dpo")
    app = Application()
    app.save(sp)
    stored = list(app.events.get(sp.id))
    assert [type(e).__name__ for e in stored] == [
        "SubProcessorProposed",
        "SubProcessorObjectedTo",
        "SubProcessorAgreementKept",
        "SubProcessorEngaged",
    ]
    assert [e.actor for e in stored] == ["dpo", "acme-admin", "gdpa", "dpo"]
    assert stored[-1].timestamp == sp_clock.now()
    reloaded = app.repository.get(sp.id)
    assert reloaded.facts() == sp.facts()
    assert reloaded.replaces == replaced
    assert facts_as_of(stored, datetime(2026, 11, 21, 11, tzinfo=UTC)) is None
    assert facts_as_of(stored, sp_clock.now() - timedelta(days=1)).engaged_at is None


def test_notice_dates_follow_each_controllers_edition__SUB_2(editions):
    """The application computes each affected controller's notice date from its edition's
    rule (30 days fixed by SCC 7.3; 30 days by policy under the 2018 DPA).
    """
    rules = {name: edition.notice for name, edition in editions.items()}
    controllers = [scc_controller("acme"), ControllerFacts("old", "dpa-2018", SIGNED)]
    assert notice_dates(controllers, date(2026, 11, 21), rules) == {
        "acme": "2026-12-21",
        "old": "2026-12-21",
    }
    with pytest.raises(InvalidInputError, match="no notice rule"):
        notice_dates([ControllerFacts("x", "dpa-1999", SIGNED)], date(2026, 11, 21), rules)


def test_an_engagement_from_before_the_text_was_required_still_replays__SUB_5(sp_clock):
    """Rules judge commands, not history: a sub-processor engaged on a reference alone (as the
    registry allowed before engagement needed the kept text) reloads engaged, without its text.
    """
    sp = propose({"acme": date(2026, 11, 22)})
    sp_clock.advance(timedelta(days=1))
    # The event as older versions recorded it: triggered directly, so no rule judges it.
    sp._engaged(actor="dpo")
    app = Application()
    app.save(sp)
    reloaded = app.repository.get(sp.id)
    assert (reloaded.engaged_at, reloaded.agreement_sha256) == (sp_clock.now(), "")
    assert reloaded.facts() == sp.facts()
