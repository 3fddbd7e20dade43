"""Sample checks that can find something (ACC-7, SUB-8).

Deviations are planted the way an insider with the application's own code would: events
built on the aggregate around the services' checks and saved with the application's own
recorder, so the record MAC and the ledger cover them like any honest event.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from uuid import uuid5

import pytest
from support import login, support_view

from processor.audit.checks_summary import checks_evidence
from processor.audit.events import AuditSample
from processor.audit.samples import SamplesService
from processor.domain.access import AccessGrant
from processor.domain.messages import Message
from processor.domain.users import User
from processor.kernel.errors import AccessDeniedError, InvalidInputError, NotFoundError
from subprocessors.outbox import OUTBOX_NAMESPACE, RecipientOutbox

SECRET = ("karen.secret@example.dk", "Karenina", "other.person@example.dk")


@pytest.fixture
def desk(acme):
    """Acme with two contacts, a bound and trained support user `sven`, and one honest reveal."""
    sam = login(acme, "sam")
    sam.users.add("sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06")
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", SECRET[0], "email:form", first_name=SECRET[1])
    alice.contacts.add("acme", "news", SECRET[2], "email:form")
    return acme


def _pseudonyms(proc) -> list[str]:
    return [c["pseudonym"] for c in support_view(proc, "sven", "acme", "alice")["contacts"]]


def _honest_reveal(proc) -> str:
    """Sven asks for one contact, alice approves, sven reveals it: nothing to find."""
    first = _pseudonyms(proc)[0]
    sven = login(proc, "sven")
    g = sven.access.request("acme", "ticket 42", [first], hours=2)["grant"]
    login(proc, "alice").access.decide(g, approve=True)
    sven.access.reveal(g, first)
    return g


def _forge_reveal(proc, grant_id: str, actor: str, contact: str) -> None:
    """Write a reveal straight onto the grant, past every service check, with the app's recorder."""
    grant = proc.find(uuid.UUID(grant_id))
    assert isinstance(grant, AccessGrant)
    with proc.using_clock():
        grant.record_reveal(
            actor=actor, controller="acme", contact=contact, fields=["email"], reason=grant.reason
        )
        proc.commit(grant)


def _contact_ids(proc) -> list[str]:
    sven = login(proc, "sven")
    return [sven.access.contact_by_pseudonym("acme", p) for p in _pseudonyms(proc)]


def _findings(result) -> dict[str, list[str]]:
    return {e["entry"]: e["findings"] for e in result["entries"]}


def test_sample_finds_a_forged_reveal_after_expiry__ACC_7(desk, clock):
    """A reveal written after the grant expired, through the store's own API, is found."""
    g = _honest_reveal(desk)
    first, _ = _contact_ids(desk)
    clock.advance(timedelta(hours=3))
    _forge_reveal(desk, g, "sven", first)
    result = SamplesService(login(desk, "grete").session).draw(size=50, seed=1)
    reveals = [e for e in result["entries"] if e["kind"] == "revealed"]
    assert [e["findings"] for e in reveals] == [[], ["after-expiry"]]
    assert result["deviations"] == 1


def test_sample_finds_a_reveal_outside_the_grants_scope__ACC_7(desk):
    """A reveal of a contact the grant does not cover is found."""
    g = _honest_reveal(desk)
    _, second = _contact_ids(desk)
    _forge_reveal(desk, g, "sven", second)
    result = SamplesService(login(desk, "grete").session).draw(size=50, seed=2)
    reveals = [e for e in result["entries"] if e["kind"] == "revealed"]
    assert [e["findings"] for e in reveals] == [[], ["outside-scope"]]


def test_sample_finds_a_person_without_training__ACC_7(desk):
    """A reveal by a support user with no undertaking or training on record is found."""
    with desk.using_clock():  # the service refuses such a user: forged around it
        una = User(
            actor="sam",
            name="una",
            role="support",
            controller=None,
            confidentiality_signed=None,
            trained=None,
        )
        desk.commit(una)
    first, _ = _contact_ids(desk)
    with desk.using_clock():
        grant = AccessGrant(
            actor="una",
            controller="acme",
            reason="s1.forged",
            contacts=[first],
            hours=2,
            policy_version="forged",
        )
        grant.approve(actor="alice", automatic=False, instruction="")
        desk.commit(grant)
    _forge_reveal(desk, str(grant.id), "una", first)
    result = SamplesService(login(desk, "grete").session).draw(size=50, seed=3)
    (found,) = [e["findings"] for e in result["entries"] if e["actor"] == "una"]
    assert "person-not-trained" in found
    assert "person-not-bound" in found


def test_a_clean_log_has_no_findings_and_the_sample_is_reproducible__ACC_7(desk):
    """Honest reveals and views pass; the same seed draws the same entries."""
    _honest_reveal(desk)
    _honest_reveal(desk)
    grete = SamplesService(login(desk, "grete").session)
    first = grete.draw(size=3, seed=11)
    again = grete.draw(size=3, seed=11)
    assert first["population"] == 4  # two reveals and two support views
    assert first["size"] == 3
    assert [e["entry"] for e in first["entries"]] == [e["entry"] for e in again["entries"]]
    assert all(e["findings"] == [] for e in first["entries"])
    assert first["deviations"] == 0


def test_sample_and_review_are_events_and_never_show_values__ACC_7(desk):
    """Drawing records `AuditSampleDrawn`, a review `SampleEntryReviewed`; no value is shown."""
    _honest_reveal(desk)
    grete = SamplesService(login(desk, "grete").session)
    drawn = grete.draw(size=2, seed=5)
    sample = desk.find(uuid.UUID(drawn["sample"]))
    assert isinstance(sample, AuditSample)
    entry = drawn["entries"][0]["entry"]
    reviewed = grete.review(drawn["sample"], entry, "deviation", "asked sven; ticket unclear")
    assert (reviewed["reviewed"], reviewed["unreviewed"], reviewed["deviations"]) == (1, 1, 1)
    names = [type(e).__name__ for e in desk.store.events.get(sample.id)]
    assert names == ["AuditSampleDrawn", "SampleEntryReviewed"]
    listing = grete.list()
    assert listing["unreviewed"] == 1
    text = json.dumps([drawn, reviewed, listing])
    for value in SECRET:
        assert value not in text
    with pytest.raises(InvalidInputError):
        grete.review(drawn["sample"], entry, "fine", "x")
    with pytest.raises(NotFoundError):
        grete.review(drawn["sample"], "e999999", "ok", "x")


def test_only_the_gdpa_draws_samples__ACC_7(desk):
    """Support staff may not draw or review samples; the refusal is recorded."""
    with pytest.raises(AccessDeniedError):
        SamplesService(login(desk, "sven").session).draw(size=1, seed=1)


def test_policy_says_when_a_sample_is_due_and_flags_an_overdue_one__ACC_7(desk, clock):
    """The audit policy's interval runs from the last sample; past it, the sample is overdue."""
    _honest_reveal(desk)
    grete = SamplesService(login(desk, "grete").session)
    grete.draw(size=1, seed=1)
    evidence = checks_evidence(desk, controller=None, start=None, end=None)
    assert evidence["samples"]["overdue"] is False
    assert (evidence["samples"]["drawn"], evidence["samples"]["unreviewed"]) == (1, 1)
    clock.advance(timedelta(days=31))
    evidence = checks_evidence(desk, controller=None, start=None, end=None)
    assert evidence["samples"]["overdue"] is True
    assert grete.list()["overdue"] is True
    json.dumps(evidence)  # JSON-serialisable, for the report


def test_sample_of_subprocessors_checks_each_carrier_against_its_engagement__SUB_8(desk, clock):
    """Messages a sub-processor carried are sampled and checked against its approval then."""
    alice = login(desk, "alice")
    alice.controllers.instruct("acme", "marketing", "Send our newsletter.")
    contact = _contact_ids(desk)[0]
    alice.messages.record("acme", contact, "email", "Hello", list_name="news")
    grete = SamplesService(login(desk, "grete").session)
    result = grete.draw(size=10, seed=4, of="subprocessors")
    carried = [e for e in result["entries"] if e["kind"] == "carried"]
    assert len(carried) == 1
    assert carried[0]["findings"] == []
    assert carried[0]["subprocessor"]


def test_sample_finds_a_message_carried_outside_the_approved_activity__SUB_8(desk):
    """A message forged as carried by a sub-processor not approved for SMS is found."""
    alice = login(desk, "alice")
    alice.controllers.instruct("acme", "marketing", "Send our newsletter.")
    contact = _contact_ids(desk)[0]
    sent = alice.messages.record("acme", contact, "email", "Hello", list_name="news")
    honest = desk.find(uuid.UUID(sent["message_id"]))
    assert isinstance(honest, Message)
    with desk.using_clock():
        forged = Message(
            actor="alice",
            controller="acme",
            number=honest.number + 1,
            contact=contact,
            medium="sms",
            key_id=honest.key_id,
            content=honest.content,
            content_bytes=1,
            content_expires_at=None,
            policy_version="forged",
            list_name="news",
            subprocessor=honest.subprocessor,
            instruction=honest.instruction,
        )
        desk.commit(forged)
    result = SamplesService(login(desk, "grete").session).draw(size=10, seed=4, of="subprocessors")
    findings = {e["entry"]: e["findings"] for e in result["entries"] if e["kind"] == "carried"}
    assert sorted(map(bool, findings.values())) == [False, True]
    assert result["deviations"] == 1


def test_sample_checks_changes_passed_on_to_recipients__SUB_8(desk):
    """An erasure passed on to acme's recipients passes; one queued to a stranger is found."""
    alice = login(desk, "alice")
    first = _contact_ids(desk)[0]
    alice.erasure.erase("acme", "asked to be forgotten", contact=first)
    grete = login(desk, "grete")
    mine = {sp["id"] for sp in grete.subprocessors.listing(controller="acme")["subprocessors"]}
    theirs = [
        sp["id"]
        for sp in grete.subprocessors.listing(controller="beta")["subprocessors"]
        if sp["id"] not in mine
    ]
    assert theirs, "the two editions' lists should differ"
    outbox = desk.find(uuid5(OUTBOX_NAMESPACE, "acme"))
    assert isinstance(outbox, RecipientOutbox)
    with desk.using_clock():
        outbox.queue("erasure", "ref-forged", [uuid.UUID(theirs[0])], actor="alice")
        desk.commit(outbox)
    result = SamplesService(grete.session).draw(size=50, seed=8, of="subprocessors")
    passed = [e for e in result["entries"] if e["kind"] == "passed-on"]
    assert len(passed) >= 2
    flagged = [e for e in passed if e["findings"]]
    assert len(flagged) == 1

    def position(e: dict) -> int:
        return int(e["entry"][1:].split(".")[0])

    assert position(flagged[0]) == max(position(e) for e in passed)  # the forged one
