"""The GDPA's audit report: objectives A-I, live evidence, deviations, scope and no personal data (AUD-1)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from support import UNDERTAKING, login, support_view

from processor.audit import render_html, render_json, render_markdown
from processor.audit.report import build_report
from processor.breaches.service import BreachesService
from processor.kernel.errors import AccessDeniedError, InvalidInputError, NotFoundError
from subprocessors import SubProcessorDetails

RENDERERS = (render_markdown.render, render_json.render, render_html.render)

# Distinctive values planted in every kind of field; none may reach any rendering of the report.
NAME, SURNAME = "Zorblattine", "Quixmirebeck"
EMAIL, PHONE = "zorblattine.quixmirebeck@example.dk", "+4599887766"
OTHER_EMAIL = "vexillum.pratchard@example.org"
FREE = {
    "instruction": "Send to Zorblattine's cousins in Xyloville",
    "grant": "ticket 77: Quixmirebeck reports bounces",
    "erasure": "Pratchard asked on the phone",
    "objection": "Vexillum board says no to Plumbrook",
    "rectified": "Wunderbaum-Oddleigh",
    "breach": "Mailbox of Zorblattine's landlord taken over",
}
PLANTED = (NAME, SURNAME, EMAIL, PHONE, "99887766", OTHER_EMAIL, *FREE.values(), "Xyloville")


def planted_story(proc, clock) -> None:
    """On `acme`'s store: an instruction, contacts, a support grant with a reveal, a refusal,
    a rectification, an erasure, a sub-processor proposal with beta's objection.
    """
    alice, bob = login(proc, "alice"), login(proc, "bob")
    alice.controllers.instruct("acme", "general", FREE["instruction"])
    added = alice.contacts.add(
        "acme", "news", EMAIL, "email:double-opt-in:form",
        phone=PHONE, first_name=NAME, last_name=SURNAME, fields={"city": "Xyloville"},
    )  # fmt: skip
    other = alice.contacts.add("acme", "news", OTHER_EMAIL, "email:single-opt-in:form")
    bob.contacts.add("beta", "readers", "someone@example.net", "email:single-opt-in:form")
    login(proc, "sam").users.add("sven", "support", confidentiality_signed=UNDERTAKING[0],
                                 trained=UNDERTAKING[1])  # fmt: skip
    sven = login(proc, "sven")
    pseudonym = support_view(proc, "sven", "acme", "alice")["contacts"][0]["pseudonym"]
    grant = sven.access.request("acme", FREE["grant"], [pseudonym], hours=2)
    alice.access.decide(grant["grant"], approve=True)
    sven.access.reveal(grant["grant"], pseudonym)
    with pytest.raises(AccessDeniedError):
        login(proc, "ben").contacts.show("acme", added["contact_id"])
    alice.contacts.update("acme", added["contact_id"], {"last_name": FREE["rectified"]})
    alice.erasure.erase("acme", FREE["erasure"], contact=other["contact_id"])
    grete = login(proc, "grete")
    grete.subprocessors.propose(
        SubProcessorDetails(
            name="Plumbrook ApS", address="Havnegade 1, 5000 Odense C", country="DK",
            activities=("email",), basis="eea", registration="CVR 40000002",
        )
    )  # fmt: skip
    bob.subprocessors.object_to("Plumbrook ApS", "beta", FREE["objection"])
    BreachesService(grete.session).open(kinds=["confidentiality"], nature=FREE["breach"],
                                systems=["hosting"])  # fmt: skip
    clock.advance(timedelta(hours=25))  # acme's 24-hour breach clock is now overdue (BR-1)


@pytest.fixture
def story(acme, clock):
    """Acme and beta with one of everything the report counts, and planted personal values."""
    planted_story(acme, clock)
    return acme


def _evidence(model, key: str) -> dict[str, int]:
    objective = next(o for o in model["objectives"] if o["key"] == key)
    return {e["label"]: e["count"] for e in objective["evidence"]}


def test_report_has_objectives_a_to_i_with_ids_mechanisms_and_live_counts__AUD_1(story):
    """Each objective lists its ids with mechanisms, and its counts are the period's events."""
    model = build_report(login(story, "grete").session)
    assert [o["key"] for o in model["objectives"]] == list("ABCDEFGHI")
    for objective in model["objectives"]:
        assert objective["obligations"], objective["key"]
        assert all(i["mechanism"] for i in objective["obligations"])
    # The story's general instruction and the support case its administrator opened (ACC-4).
    assert _evidence(model, "A")["instructions recorded"] == 2
    assert _evidence(model, "B")["reveals of identifying data"] == 1
    assert _evidence(model, "B")["refused attempts"] >= 1
    assert _evidence(model, "C")["access grants approved"] == 1
    assert _evidence(model, "D")["subjects erased (crypto-shredded)"] == 1
    assert _evidence(model, "F")["objections"] == 1
    assert _evidence(model, "H")["rectifications"] == 1
    assert _evidence(model, "I")["breaches recorded"] == 1
    assert model["breaches"]["timelines"]
    assert model["ledger"]["verification"]["ok"] is True
    assert model["ledger"]["head"]["checkpoint"].startswith(model["ledger"]["head"]["origin"])
    assert model["versions"]["policies"]["roles"].startswith("roles-")
    assert model["system"]["controllers"] == [
        {"controller": "acme", "edition": "scc", "breach_notice_hours": 24,
         "deletion_after_termination_days": 120},
        {"controller": "beta", "edition": "dpa-2018", "breach_notice_hours": 36,
         "deletion_after_termination_days": 0},
    ]  # fmt: skip


def test_the_period_limits_the_counts__AUD_1(story, clock):
    """A period before the story counts none of its events."""
    day = clock.now().date()
    grete = login(story, "grete")
    later = build_report(grete.session, start=day + timedelta(days=1), end=day + timedelta(days=2))
    assert _evidence(later, "B")["reveals of identifying data"] == 0
    assert later["events_in_period"] == 0
    with pytest.raises(InvalidInputError):
        build_report(grete.session, start=day, end=day - timedelta(days=1))


def test_report_never_contains_planted_personal_data__AUD_1(story):
    """Names, e-mails, phones and free text planted in the store appear in no format."""
    for controller in (None, "acme", "beta"):
        model = build_report(login(story, "grete").session, controller=controller)
        for render in RENDERERS:
            text = render(model).casefold()
            for value in PLANTED:
                assert value.casefold() not in text, (controller, render.__module__, value)


def test_controller_report_covers_only_that_controller__AUD_1__ACC_9(story):
    """Acme's report counts acme's events only; beta's objection is not in it."""
    model = build_report(login(story, "alice").session, controller="acme")
    assert model["scope"]["controller"] == "acme"
    assert [c["controller"] for c in model["system"]["controllers"]] == ["acme"]
    assert _evidence(model, "B")["reveals of identifying data"] == 1
    assert _evidence(model, "F")["objections"] == 0
    beta = build_report(login(story, "bob").session, controller="beta")
    assert _evidence(beta, "B")["reveals of identifying data"] == 0
    assert _evidence(beta, "F")["objections"] == 1
    # The breach on the shared hosting affects both: each report counts it.
    assert (
        _evidence(model, "I")["incidents opened"] == _evidence(beta, "I")["incidents opened"] == 1
    )


def test_only_audit_readers_and_own_administrators_may_run_it__AUD_1__ACC_9(story):
    """Another controller's administrator, a whole-processor report by a controller user, and
    the system manager are refused, and each refusal is recorded.
    """
    refused = [
        (lambda: build_report(login(story, "bob").session, controller="acme")),
        (lambda: build_report(login(story, "alice").session)),
        (lambda: build_report(login(story, "sam").session)),
        (lambda: build_report(login(story, "mia").session, controller="acme")),
    ]
    for attempt in refused:
        with pytest.raises(AccessDeniedError):
            attempt()
    with pytest.raises(NotFoundError):
        build_report(login(story, "grete").session, controller="nope")
    model = build_report(login(story, "grete").session)
    assert model["refusals_by_rule"].get("RoleMustGrantPermission", 0) >= 2
    assert model["refusals_by_rule"].get("ControllerUsersSeeOnlyTheirOwn", 0) >= 2


def test_overdue_staff_review_and_sample_are_deviations__AUD_1__ACC_2__ACC_7(story, clock):
    """Past the review period, every staff member is overdue, and no sample was drawn."""
    fresh = build_report(login(story, "grete").session)
    assert "staff-review-overdue" not in {d["kind"] for d in fresh["deviations"]}
    clock.advance(timedelta(days=400))
    model = build_report(login(story, "grete").session)
    kinds = {d["kind"]: d for d in model["deviations"]}
    assert kinds["staff-review-overdue"]["obligation"] == "ACC-2"
    assert kinds["staff-review-overdue"]["objective"] == "C"
    assert kinds["sample-overdue"]["obligation"] == "ACC-7"
    assert model["checks"]["samples"]["overdue"] is True
    objective_c = next(o for o in model["objectives"] if o["key"] == "C")
    assert kinds["staff-review-overdue"] in objective_c["deviations"]


def test_overdue_breach_clock_is_a_deviation__BR_1__AUD_1(story):
    """Acme's breach notice, due 24 hours after awareness and not given, is flagged."""
    model = build_report(login(story, "grete").session)
    overdue = [d for d in model["deviations"] if d["kind"] == "breach-clock-overdue"]
    assert [d["obligation"] for d in overdue] == ["BR-1"]
    assert "acme" in overdue[0]["text"]
    rows = next(c for c in model["charts"] if c["id"] == "breach-clocks")["rows"]
    late = [r for r in rows if r["label"].endswith("acme to controller")]
    assert late[0]["deadline_hours"] == 24
    assert late[0]["taken_hours"] > 24


def test_subprocessor_check_findings_are_deviations__SUB_6__AUD_1(story):
    """Every `subprocessors check` finding is counted, grouped by rule, as a deviation."""
    grete = login(story, "grete")
    findings = grete.subprocessors.check()["findings"]
    model = build_report(grete.session)
    assert model["subprocessor_findings"]["total"] == len(findings)
    shown = [d for d in model["deviations"] if d["kind"] == "subprocessor-finding"]
    assert sum(int(d["text"].split("`: ")[1].split(" x ")[0]) for d in shown) == len(findings)
    assert {d["obligation"] for d in shown} == {f["obligation"] for f in findings}


def test_failed_ledger_verification_is_a_deviation__AUD_4(story):
    """With the newest signed checkpoint removed, verification fails and the report says so."""
    from processor.link.tables import checkpoints

    with story.ledger.engine.begin() as conn:
        newest = conn.execute(sa.select(sa.func.max(checkpoints.c.size))).scalar_one()
        conn.execute(sa.delete(checkpoints).where(checkpoints.c.size == newest))
    model = build_report(login(story, "grete").session)
    assert model["ledger"]["verification"]["ok"] is False
    failed = [d for d in model["deviations"] if d["kind"] == "ledger-verification-failed"]
    assert len(failed) == 1
    assert failed[0]["obligation"] == "AUD-4"
    assert "FAILED" in render_markdown.render(model)


def test_json_is_the_model_and_markdown_has_every_section__AUD_1(story):
    """The JSON rendering round-trips the model; Markdown has every objective and appendix."""
    model = build_report(login(story, "grete").session)
    assert json.loads(render_json.render(model))["deviations"] == model["deviations"]
    text = render_markdown.render(model)
    for heading in (
        "## System description",
        "## Ledger",
        "## Policy versions in force",
        "## Deviations",
        "## Appendix: obligation coverage",
    ):
        assert heading in text
    for o in model["objectives"]:
        assert f"### {o['key']}. {o['title']}" in text  # fmt: skip
