"""The controller pack (AUD-2, SUB-7), supervision challenges (SUB-7) and the DPIA pack (SUBJ-9)."""

from __future__ import annotations

import json
import uuid
from datetime import date

import pytest
from support import login

from processor.audit import packs
from processor.audit.challenges import ChallengesService, challenges
from processor.audit.checks_summary import checks_evidence
from processor.audit.contactpersons import ContactPersonsService
from processor.audit.events import SupervisionChallenge
from processor.kernel.errors import AccessDeniedError, InvalidInputError, NotFoundError

SECRET = ("karen.secret@example.dk", "Karenina")


@pytest.fixture
def supervised(acme, clock):
    """Acme's first sub-processor supervised; the processor's representative and DPA recorded."""
    login(acme, "alice").contacts.add("acme", "news", SECRET[0], "email:form", first_name=SECRET[1])
    grete = login(acme, "grete")
    name = grete.subprocessors.listing(controller="acme")["subprocessors"][0]["name"]
    grete.subprocessors.supervise(name, "questionnaire", "answers complete", on=date(2026, 3, 1))
    persons = ContactPersonsService(grete.session)
    persons.set("processor", "representative", "Rasmus Rep", "rep@processor.example")
    persons.set("processor", "data-protection", "Grete Dahl", "dpo@processor.example")
    return acme, name


def test_controller_pack_gives_everything_free_of_charge__AUD_2__SUB_7(supervised):
    """Representative, sub-processors with supervision results, DPA contact, processing, measures."""
    proc, name = supervised
    pack = packs.controller_pack(login(proc, "alice"), "acme")
    assert pack["charge"] == "none"
    assert pack["representative_at_processor"]["email"] == "rep@processor.example"
    assert pack["data_protection_administrator"]["contact"]["name"] == "Grete Dahl"
    sp = next(s for s in pack["subprocessors"] if s["name"] == name)
    assert sp["supervisions"][0]["finding"] == "answers complete"
    assert pack["categories_of_processing"]
    assert pack["security_measures"]
    text = json.dumps(pack)
    for value in SECRET:
        assert value not in text


def test_a_controller_gets_only_its_own_pack__AUD_2(supervised):
    """Beta's administrator may not read acme's pack; the GDPA may read any."""
    proc, _ = supervised
    with pytest.raises(AccessDeniedError):
        packs.controller_pack(login(proc, "bob"), "acme")
    assert packs.controller_pack(login(proc, "grete"), "acme")["controller"] == "acme"
    with pytest.raises(NotFoundError):
        packs.controller_pack(login(proc, "grete"), "nobody")


def test_challenge_is_recorded_and_notified__SUB_7(supervised):
    """A challenge is an event, a notice the processor's staff see, and shows in the pack."""
    proc, name = supervised
    alice = login(proc, "alice")
    done = ChallengesService(alice.session).challenge(name, "the questionnaire is self-assessed")
    assert done["supervision_on"] == "2026-03-01"
    assert done["new_audit_requested"] is True
    challenge = proc.find(uuid.UUID(done["challenge"]))
    assert isinstance(challenge, SupervisionChallenge)
    notices = login(proc, "grete").notices.list(controller="acme")
    (notice,) = [n for n in notices if n["kind"] == "supervision-challenged"]
    assert notice["about"] == done["challenge"]
    assert "self-assessed" in notice["body"]
    pack = packs.controller_pack(alice, "acme")
    sp = next(s for s in pack["subprocessors"] if s["name"] == name)
    assert [c["challenge"] for c in sp["challenges"]] == [done["challenge"]]
    assert len(challenges(proc, "acme")) == 1
    assert checks_evidence(proc, controller="acme", start=None, end=None)["challenges"] == 1
    assert checks_evidence(proc, controller="beta", start=None, end=None)["challenges"] == 0


def test_challenge_needs_a_controller_a_reason_and_a_known_supervision__SUB_7(supervised):
    """Staff cannot challenge; an empty reason or an unknown supervision date is refused."""
    proc, name = supervised
    with pytest.raises(AccessDeniedError):
        ChallengesService(login(proc, "grete").session).challenge(name, "x")
    alice = ChallengesService(login(proc, "alice").session)
    with pytest.raises(InvalidInputError):
        alice.challenge(name, "  ")
    with pytest.raises(NotFoundError):
        alice.challenge(name, "why", supervision_on=date(2020, 1, 1))
    assert challenges(proc) == []


def test_dpia_pack_describes_processing_risks_and_measures__SUBJ_9(supervised):
    """The processing described, each assessed risk with the measures against it."""
    proc, _ = supervised
    pack = packs.dpia_pack(login(proc, "alice"), "acme")
    assert pack["processing"]["categories_of_processing"]
    assert pack["processing"]["categories_of_subjects"]
    assert pack["risks"]
    for risk in pack["risks"]:
        assert risk["measures"], risk["id"]
        assert all(m["description"] for m in risk["measures"])
    assert pack["risk_assessment"]["next_due"]
    with pytest.raises(AccessDeniedError):
        packs.dpia_pack(login(proc, "bob"), "acme")
