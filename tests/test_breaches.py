"""The breach register through the application, on SQLite and PostgreSQL (BR-1 to BR-5).

The `acme` fixture registers acme on the SCC edition (24 h to notify it, fixed by SCC 10.2) and
beta on the 2018 edition ("without undue delay": 36 h, the processor's own choice). The clock
starts 2026-03-02 09:00 and every deadline is judged against it, never the wall clock.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from support import login

from processor.audit.status import StatusService
from processor.breaches.domain import Breach
from processor.breaches.impact import UNINTELLIGIBLE
from processor.breaches.report import breach_evidence, timeline_svg
from processor.breaches.responses import BreachResponsesService
from processor.breaches.service import BreachesService
from processor.kernel.errors import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from processor.services import keys as keyservice

CONSENT = "email:double-opt-in:signup form"
UBIVOX = "Ubivox Technologies ApS"  # acme's e-mail sub-processor from its signed list (SCC B)


def breaches(proc, user: str) -> BreachesService:
    return BreachesService(login(proc, user).session)


def responses(proc, user: str) -> BreachResponsesService:
    """The controller's part of a breach (its notices and export), as `user`."""
    return BreachResponsesService(login(proc, user).session)


def add(proc, user: str, ref: str, email: str, **fields: str) -> str:
    out = login(proc, user).contacts.add(ref, "news", email, CONSENT, fields=fields or None)
    return str(out["contact_id"])


def open_on(proc, *systems: str, **extra) -> dict:
    return breaches(proc, "grete").open(
        kinds=["confidentiality"], nature="Mailbox of the e-mail provider taken over",
        systems=list(systems), **extra,
    )  # fmt: skip


def test_notice_one_minute_late_on_both_editions__BR_1(acme, clock):
    """A notice 1 minute after 24 h (SCC) or 36 h (2018 DPA, our choice) is late; on time is met;
    an unmet clock past its due time is overdue, and `status` and `list --overdue` say so.
    """
    add(acme, "alice", "acme", "ann@example.dk")
    add(acme, "bob", "beta", "bo@example.dk")
    grete = breaches(acme, "grete")
    first = open_on(acme, "hosting")
    assert {c["controller"] for c in first["clocks"]} == {"acme", "beta"}
    bases = {c["controller"]: c["basis"] for c in first["clocks"]}
    assert "fixed by the agreement" in bases["acme"]
    assert "processor's own policy choice" in bases["beta"]

    clock.advance(timedelta(hours=24, minutes=1))
    overdue = grete.list(overdue_only=True)
    assert overdue["overdue"] == 1
    assert [
        c["controller"] for c in overdue["breaches"][0]["clocks"] if c["state"] == "overdue"
    ] == ["acme"]
    attention = StatusService(login(acme, "grete").session).status()["attention"]
    assert any("breach" in line for line in attention)
    late = grete.notify(first["id"], controllers=["acme"])["notices"][0]
    assert late["on_time"] is False
    clock.set(first["clocks"][0]["started_at"] and clock.now() + timedelta(hours=11, minutes=59))
    on_time = grete.notify(first["id"], controllers=["beta"])["notices"][0]
    assert on_time["on_time"] is True  # 35 h 59 min after awareness
    states = {(c["controller"], c["clock"]): c["state"] for c in grete.show(first["id"])["clocks"]}
    assert states[("acme", "processor-to-controller")] == "late"
    assert states[("beta", "processor-to-controller")] == "met"
    assert grete.list(overdue_only=True)["overdue"] == 0

    second = open_on(acme, "hosting")
    clock.advance(timedelta(hours=24))
    assert grete.notify(second["id"], controllers=["acme"])["notices"][0]["on_time"] is True
    clock.advance(timedelta(hours=12, minutes=1))
    assert grete.notify(second["id"], controllers=["beta"])["notices"][0]["on_time"] is False
    evidence = breach_evidence(acme, controller=None, start=None, end=None)
    late_clocks = {(c["breach"], c["controller"]) for c in evidence["overdue_clocks"]}
    assert late_clocks == {(first["id"], "acme"), (second["id"], "beta")}
    assert evidence["policy_clocks"]["dpa-2018"].startswith("36 h")


def test_a_notice_43_hours_after_discovery_is_late_under_the_scc_though_awareness_was_later__BR_1(
    acme, clock
):
    """SCC 10.2 counts the 24 hours from the discovery: a breach discovered 20 h before the stated
    awareness and notified 23 h after it (43 h after the discovery) is late for acme (SCC), and
    overdue before that; beta's 2018 clock (DPA18 §10) still runs from the awareness and is met.
    """
    add(acme, "alice", "acme", "ann@example.dk")
    add(acme, "bob", "beta", "bo@example.dk")
    grete = breaches(acme, "grete")
    discovered = clock.now() - timedelta(hours=20)
    opened = open_on(acme, "hosting", discovered_at=discovered)
    started = {c["controller"]: c for c in opened["clocks"]}
    assert started["acme"]["started_at"] == discovered.isoformat()
    assert started["acme"]["due"] == (discovered + timedelta(hours=24)).isoformat()
    assert started["acme"]["basis"].endswith("counted from the discovery")
    assert started["beta"]["started_at"] == clock.now().isoformat()
    assert started["beta"]["basis"].endswith("counted from the awareness")

    clock.advance(timedelta(hours=4, minutes=1))  # 24 h 1 min after the discovery
    states = {c["controller"]: c["state"] for c in grete.show(opened["id"])["clocks"]}
    assert states == {"acme": "overdue", "beta": "running"}
    clock.advance(timedelta(hours=18, minutes=59))  # 43 h after the discovery
    notices = grete.notify(opened["id"], controllers=["acme", "beta"])["notices"]
    assert {n["controller"]: n["on_time"] for n in notices} == {"acme": False, "beta": True}
    shown = {
        c["controller"]: c["state"]
        for c in grete.show(opened["id"])["clocks"]
        if c["clock"] == "processor-to-controller"
    }
    assert shown == {"acme": "late", "beta": "met"}


def test_impact_follows_the_subprocessor_facts_and_the_window__BR_2(acme, clock):
    """A sub-processor breach reaches the subjects alive in the window for the controllers it
    served: erased before the window and added after it are out; beta never used Ubivox.
    """
    gone = add(acme, "alice", "acme", "gone@example.dk")
    login(acme, "alice").erasure.erase("acme", "asked to be forgotten", contact=gone)
    login(acme, "alice").controllers.instruct("acme", "sensitive-data", "Health notes allowed")
    clock.advance(timedelta(hours=1))
    start = clock.now()
    add(acme, "alice", "acme", "ann@example.dk", first_name="Ann", health_note="asthma")
    add(acme, "alice", "acme", "carl@example.dk", club="chess")
    add(acme, "bob", "beta", "bo@example.dk")
    clock.advance(timedelta(hours=2))
    end = clock.now()
    clock.advance(timedelta(hours=1))
    add(acme, "alice", "acme", "late@example.dk")
    opened = open_on(acme, f"subprocessor:{UBIVOX}", occurred_from=start, occurred_to=end)
    impact = opened["impact"]
    assert [c["controller"] for c in impact["controllers"]] == ["acme"]
    mine = impact["controllers"][0]
    assert mine["subjects"] == 2
    assert mine["records"] == 4  # two profiles, two consents
    assert mine["categories"] == [
        "consent evidence", "contact data", "custom fields", "sensitive fields (Art. 9)",
    ]  # fmt: skip
    assert impact["unintelligible"] is False

    store_only = open_on(acme, "store", occurred_from=start, occurred_to=end)["impact"]
    assert store_only["unintelligible"] is True
    assert store_only["note"] == UNINTELLIGIBLE
    assert {c["controller"]: c["subjects"] for c in store_only["controllers"]} == {
        "acme": 2,
        "beta": 1,
    }


def test_notice_carries_counts_and_categories_never_values__BR_2(acme, clock):
    """The notice gives nature, numbers, categories, consequences, measures and contact point in
    Markdown and JSON, and holds no personal value of any subject.
    """
    add(acme, "alice", "acme", "ann.secret@example.dk", first_name="Annabelle")
    clock.advance(timedelta(hours=1))
    opened = open_on(acme, f"subprocessor:{UBIVOX}", contact_point="DPO desk, dpo@processor.test")
    grete = breaches(acme, "grete")
    grete.update(opened["id"], measures=["Revoked the provider's API keys"], measure_kind="contain")
    given = grete.notify(
        opened["id"], all_affected=True, consequences="Phishing aimed at the subjects",
        measures="Keys revoked; provider audited",
    )["notices"][0]  # fmt: skip
    content = given["content"]
    assert content["approximate_number_of_data_subjects"] == 1
    assert content["nature_of_breach"]["types"] == ["confidentiality"]
    assert content["likely_consequences"] == "Phishing aimed at the subjects"
    assert content["measures_taken_or_proposed"]["measures"][0]["text"] == (
        "Revoked the provider's API keys"
    )
    assert content["contact_point"] == "DPO desk, dpo@processor.test"
    body = login(acme, "alice").notices.list()[-1]["body"]
    assert body.startswith("# Personal-data breach BR-0001")
    block = body.split("```json\n", 1)[1].rsplit("\n```", 1)[0]
    assert json.loads(block) == content
    for value in ("ann.secret", "Annabelle"):
        assert value not in body


def test_controller_records_its_own_notices_and_sees_only_its_own__BR_3(acme, clock):
    """Alice records acme's authority notice and subjects decision and exports (logged) the
    contacts; bob of beta cannot see acme's breach; marketing may not export.
    """
    ann = add(acme, "alice", "acme", "ann@example.dk", first_name="Ann")
    clock.advance(timedelta(hours=1))
    opened = open_on(acme, "controller:acme")
    grete = breaches(acme, "grete")
    alice = breaches(acme, "alice")
    with pytest.raises(NotFoundError):
        alice.show(opened["id"])  # not notified yet: nothing to see
    grete.notify(opened["id"], controllers=["acme"])
    given_at = clock.now()
    clock.advance(timedelta(hours=73))
    with pytest.raises(InvalidInputError, match="delay-reason"):
        responses(acme, "alice").authority_notice(
            opened["id"], controller="acme", at=clock.now(), authority="Datatilsynet"
        )
    responses(acme, "alice").authority_notice(
        opened["id"], controller="acme", at=given_at + timedelta(hours=70),
        authority="Datatilsynet", reference="2026-431-0001",
    )  # fmt: skip
    responses(acme, "alice").subjects_notice(
        opened["id"], controller="acme", notified=True, channel="e-mail", at=clock.now()
    )
    exported = responses(acme, "alice").export_subjects(opened["id"], "acme")
    assert exported["rows"] == [
        {
            "contact_id": ann,
            "email": "ann@example.dk",
            "phone": "",
            "first_name": "Ann",
            "last_name": "",
        }
    ]
    breach = acme.find(__import__("uuid").UUID(opened["id"]))
    assert breach.exports[0]["actor"] == "alice"
    assert breach.exports[0]["subjects"] == 1
    shown = alice.show(opened["id"])
    assert [c["state"] for c in shown["clocks"]] == ["met", "met"]
    with pytest.raises(NotFoundError):
        breaches(acme, "bob").show(opened["id"])
    with pytest.raises(AccessDeniedError):
        responses(acme, "bob").authority_notice(
            opened["id"], controller="acme", at=clock.now(), authority="Datatilsynet"
        )
    with pytest.raises(AccessDeniedError):
        responses(acme, "mia").export_subjects(opened["id"], "acme")
    assert breaches(acme, "bob").list()["breaches"] == []


def test_every_incident_is_registered_sealed_and_closed_with_a_review__BR_4(acme, clock):
    """Not-a-breach incidents are kept with reasons; free text is sealed at rest; a closed breach
    takes no further steps; the register lists them all in order.
    """
    grete = breaches(acme, "grete")
    lost = grete.open(kinds=["availability"], nature="Laptop of Sven Svensson stolen")
    grete.update(lost["id"], status="not-a-breach", reason="disk encrypted, no data on it")
    real = open_on(acme, "hosting", cause="Phished password")
    grete.update(real["id"], status="confirmed", phase="follow-up")
    grete.close(real["id"], "Cause: phishing. Lesson: hardware keys for staff.")
    with pytest.raises(RefusedError) as refused:
        grete.update(real["id"], measures=["more"])
    assert refused.value.rule == "BreachMustBeOpen"
    listed = grete.list()["breaches"]
    assert [(b["reference"], b["status"]) for b in listed] == [
        ("BR-0001", "not-a-breach"),
        ("BR-0002", "closed"),
    ]
    assert listed[0]["status_reason"] == "disk encrypted, no data on it"
    assert listed[0]["clocks"] == []
    assert listed[1]["review"].startswith("Cause: phishing")
    assert grete.list(open_only=True)["breaches"] == []
    stored = list(acme.store.events.get(__import__("uuid").UUID(lost["id"])))
    assert stored[0].nature.startswith("s1.")
    assert "Sven" not in repr(stored)
    evidence = breach_evidence(acme, controller=None, start=None, end=None)
    assert evidence["recorded"] == 2
    assert evidence["not_a_breach"] == 1


def test_measures_and_key_rotation_are_recorded_and_told__BR_5(acme, clock):
    """Measures carry their times into the timeline and into the notice the controller reads;
    rotating keys because of the breach re-wraps every subject key and is recorded on the breach.
    """
    add(acme, "alice", "acme", "ann@example.dk")
    opened = open_on(acme, "keystore")
    assert opened["impact"]["unintelligible"] is True
    grete = breaches(acme, "grete")
    taken = clock.now() - timedelta(minutes=30)
    grete.update(opened["id"], measures=["Key store host isolated"], measure_at=taken)
    session = login(acme, "grete")
    with acme.using_clock():
        rotated = keyservice.rotate_kek(session)
    grete.record_rotation(opened["id"], "key-encryption key", {"generation": rotated["generation"]})
    breach = acme.find(__import__("uuid").UUID(opened["id"]))
    assert isinstance(breach, Breach)
    assert breach.key_rotations[0]["detail"] == {"generation": rotated["generation"]}
    assert [m["kind"] for m in breach.measures] == ["contain", "change-keys"]
    assert breach.measures[0]["at"] == taken
    status = keyservice.status(session)
    assert set(status["keys_per_generation"]) == {str(rotated["generation"])}
    svg = timeline_svg(acme, opened["id"])
    assert svg.count('class="mark"') >= 4
    assert 'class="deadline"' in svg
    assert "<script" not in svg and "href" not in svg
    # Told in writing: the notice acme's administrator reads lists each recorded measure with
    # its kind and time, in the Markdown and in the JSON content.
    grete.notify(opened["id"], controllers=["acme"], measures="Keys rotated; host isolated")
    told = [n for n in login(acme, "alice").notices.list() if n["about"] == opened["id"]]
    assert len(told) == 1
    body = told[0]["body"]
    assert f"  - {taken.isoformat()} (contain): Key store host isolated" in body
    assert "(change-keys):" in body
    content = json.loads(body.split("```json\n", 1)[1].rsplit("```", 1)[0])
    listed = content["measures_taken_or_proposed"]["measures"]
    assert [(m["kind"], m["at"]) for m in listed] == [
        (m["kind"], m["at"].isoformat()) for m in breach.measures
    ]
    assert listed[0]["text"] == "Key store host isolated"


def test_a_documented_no_risk_decision_meets_the_authority_clock__BR_3(acme, clock):
    """A controller that judges the breach unlikely to result in a risk records why; its 72-hour
    clock is then met by that decision, and a decision without a justification is refused.
    """
    add(acme, "alice", "acme", "ann@example.dk")
    opened = open_on(acme, "store")
    breaches(acme, "grete").notify(opened["id"], controllers=["acme"])
    alice = breaches(acme, "alice")
    clock.advance(timedelta(hours=10))
    with pytest.raises(InvalidInputError, match="justification"):
        responses(acme, "alice").authority_notice(
            opened["id"], controller="acme", at=clock.now(), authority="", not_required=True
        )
    shown = responses(acme, "alice").authority_notice(
        opened["id"], controller="acme", at=clock.now(), authority="", not_required=True,
        delay_reason="only sealed records were exposed; the key store was intact",
    )  # fmt: skip
    assert shown["authority_notices"]["acme"]["required"] is False
    assert shown["authority_notices"]["acme"]["delay_reason"].startswith("only sealed")
    clock.advance(timedelta(hours=80))
    assert [c["state"] for c in alice.show(opened["id"])["clocks"]] == ["met", "met"]
    assert breaches(acme, "grete").list(overdue_only=True)["overdue"] == 0
