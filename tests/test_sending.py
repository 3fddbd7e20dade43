"""Sending on a list, on an instruction, through an allowed sub-processor (INSTR-1, INSTR-7,
SUBJ-3, SUBJ-7, SUBJ-8, SUB-2, SUB-3, SUB-4, SUB-6), on SQLite and PostgreSQL.

The `acme` fixture's acme signed the current edition (carriers: Ubivox for e-mail, InMobile for
SMS, both Danish); beta signed the 2018 edition, whose e-mail carriers are in the US on no
valid basis. The clock starts 2026-03-02.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from support import keep_subprocessor_agreement, login, sign_agreement

from processor.app import Processor
from processor.domain.messages import Message
from processor.domain.sending import SMS_UNIT_CHARS, sms_units
from processor.kernel.errors import RefusedError
from processor.readmodels import tables as t
from processor.services.messages import CONTENT
from subprocessors import SubProcessorDetails

UBIVOX = "Ubivox Technologies ApS"


def details(name: str, **overrides: object) -> SubProcessorDetails:
    """A sub-processor for e-mail in Denmark, unless overridden."""
    fields: dict[str, object] = {
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
    return SubProcessorDetails(**fields)  # type: ignore[arg-type]


def proposed(proc: Processor, clock, sp: SubProcessorDetails, *, engage: bool = True) -> str:
    """Propose `sp` and keep its agreement, let the 30 days' notice run, and engage it (unless
    told not to).
    """
    grete = login(proc, "grete")
    grete.subprocessors.propose(sp)
    keep_subprocessor_agreement(proc, sp.name)
    clock.advance(timedelta(days=30))
    if engage:
        grete.subprocessors.engage(sp.name)
    return sp.name


def add(proc: Processor, controller: str, user: str, email: str, consent: str = "email:form",
        list_name: str = "news", **extra: str) -> str:  # fmt: skip
    """Add a contact (or a consent to it) and return its id."""
    out = login(proc, user).contacts.add(controller, list_name, email, consent, **extra)
    return str(out["contact_id"])


def denials(proc: Processor, rule: str) -> list[dict[str, object]]:
    """The recorded refusals with `rule` (AccessDenied events, ACC-8)."""
    with proc.engines.readmodels.connect() as conn:
        rows = conn.execute(sa.select(t.denials).where(t.denials.c.rule == rule)).mappings()
        return [dict(r) for r in rows]


def seed_emails(proc: Processor, controller: str, contact: str, n: int) -> None:
    """Record `n` sent e-mails in one commit (an account near its limit)."""
    keys = [str(uuid.uuid4()) for _ in range(n)]
    with proc.using_clock():
        proc.sealer.new_subjects(keys, proc.now())
        proc.commit(*[
            Message(
                actor="seed", controller=controller, number=1 + i, contact=contact,
                medium="email", key_id=key, content=proc.sealer.seal(key, CONTENT, {}),
                content_bytes=2, content_expires_at=None, policy_version="test",
            )
            for i, key in enumerate(keys)
        ])  # fmt: skip


def refused_send(proc: Processor, rule: str, **kwargs: object) -> str:
    """Send on acme's news list, expect `rule` to refuse it, and return the message."""
    alice = login(proc, "alice")
    with pytest.raises(RefusedError) as info:
        alice.messages.send("acme", "news", kwargs.pop("channel", "email"), "Hi", "Body", **kwargs)  # type: ignore[arg-type]
    assert info.value.rule == rule
    assert rule in str(info.value)
    assert [d["controller"] for d in denials(proc, rule)] == ["acme"]
    with proc.engines.readmodels.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.messages)).scalar_one() == 0
    return str(info.value)


# -- the sub-processor's decision (SUB-2, SUB-3, SUB-4, SUB-6) ------------------------------------


def test_a_send_names_its_list_channel_subprocessor_and_instruction__INSTR_1__SUB_4(acme):
    """A send reaches the list's consenting contacts; each message records what it relied on."""
    a = add(acme, "acme", "alice", "a@example.dk")
    b = add(acme, "acme", "alice", "b@example.dk")
    sent = login(acme, "mia").messages.send("acme", "news", "email", "Offer", "Hello")
    assert (sent["sent"], sent["subprocessor"], sent["instruction"]) == (2, UBIVOX, "agreement:scc")
    shown = login(acme, "alice").messages.show("acme", sent["message_ids"][0])
    assert (shown["list"], shown["channel"], shown["subprocessor"]) == ("news", "email", UBIVOX)
    assert shown["instruction"] == "agreement:scc" and shown["sent_by"] == "mia"
    shown_to = {
        login(acme, "alice").messages.show("acme", m)["contact_id"] for m in sent["message_ids"]
    }
    assert shown_to == {a, b}
    assert login(acme, "grete").subprocessors.decide("acme", UBIVOX, "email").allowed


def test_objected_subprocessor_refuses_the_send__SUB_3(acme, clock):
    """A sub-processor the controller objected to never carries its messages: decide() says
    MustNotBeObjectedTo, the send is refused with it and recorded; nothing is sent.
    """
    add(acme, "acme", "alice", "a@example.dk")
    login(acme, "grete").subprocessors.propose(details("Delta Mail ApS"))
    keep_subprocessor_agreement(acme, "Delta Mail ApS")
    login(acme, "alice").subprocessors.object_to("Delta Mail ApS", "acme", "we did not agree")
    clock.advance(timedelta(days=30))
    login(acme, "grete").subprocessors.engage("Delta Mail ApS")
    decision = login(acme, "grete").subprocessors.decide("acme", "Delta Mail ApS", "email")
    assert (decision.allowed, decision.rule) == (False, "MustNotBeObjectedTo")
    refused_send(acme, "MustNotBeObjectedTo", via="Delta Mail ApS")


def test_subprocessor_outside_its_activity_refuses_the_send__SUB_4(acme):
    """An SMS named to go through the e-mail carrier is refused: ActivityMustBeApproved."""
    add(acme, "acme", "alice", "a@example.dk", "sms:form", phone="+4512345678")
    assert login(acme, "grete").subprocessors.decide("acme", UBIVOX, "sms").rule == (
        "ActivityMustBeApproved"
    )
    refused_send(acme, "ActivityMustBeApproved", channel="sms", via=UBIVOX)


def test_not_engaged_subprocessor_refuses_the_send__SUB_2(acme, clock):
    """A proposed sub-processor whose notice ran but that was never engaged carries nothing."""
    add(acme, "acme", "alice", "a@example.dk")
    name = proposed(acme, clock, details("Delta Mail ApS"), engage=False)
    assert login(acme, "grete").subprocessors.decide("acme", name, "email").rule == (
        "SubProcessorMustBeEngaged"
    )
    refused_send(acme, "SubProcessorMustBeEngaged", via=name)


def test_third_country_without_basis_refuses_the_send__SUB_6(acme, clock):
    """A US carrier on no Chapter V basis is refused: ThirdCountryNeedsTransferBasis."""
    add(acme, "acme", "alice", "a@example.dk")
    name = proposed(acme, clock, details("Yankee Mail Inc.", country="US", basis="none"))
    refused_send(acme, "ThirdCountryNeedsTransferBasis", via=name)


def test_third_country_without_instruction_refuses_until_instructed__SUB_6(acme, clock):
    """A US carrier on SCCs still needs the controller's transfer instruction; once given, the
    same send goes through.
    """
    add(acme, "acme", "alice", "a@example.dk")
    name = proposed(acme, clock, details("Yankee Mail Inc.", country="US", basis="scc"))
    refused_send(acme, "ThirdCountryNeedsInstruction", via=name)
    login(acme, "alice").controllers.instruct(
        "acme", "transfer", "Use Yankee Mail", {"country": "US", "basis": "scc"}
    )
    sent = login(acme, "alice").messages.send("acme", "news", "email", "Hi", via=name)
    assert (sent["sent"], sent["subprocessor"]) == (1, name)


def test_the_2018_lists_email_carriers_are_refused_for_want_of_a_basis__SUB_6(acme):
    """Beta's 2018 list carries e-mail only through US entries on a bare DPA: the policy's
    choice finds none that decide() allows, and the first one's rule is reported.
    """
    add(acme, "beta", "bob", "b@example.dk")
    with pytest.raises(RefusedError) as info:
        login(acme, "bob").messages.send("beta", "news", "email", "Hi")
    assert info.value.rule == "ThirdCountryNeedsTransferBasis"


# -- recipients (SUBJ-3, SUBJ-8) ------------------------------------------------------------------


def test_sms_goes_only_to_contacts_with_sms_consent_on_the_list__SUBJ_8(acme):
    """An SMS skips a contact who consented to e-mail only, and one whose SMS consent is for
    another list; both are counted by rule.
    """
    add(acme, "acme", "alice", "e@example.dk", phone="+4511111111")
    add(acme, "acme", "alice", "o@example.dk", phone="+4522222222")
    add(acme, "acme", "alice", "o@example.dk", "sms:form", list_name="offers")
    s = add(acme, "acme", "alice", "s@example.dk", "sms:form", phone="+4533333333")
    sent = login(acme, "alice").messages.send("acme", "news", "sms", body="Sale")
    assert (sent["sent"], sent["skipped"]) == (1, {"ConsentMustCoverChannel": 2})
    assert sent["subprocessor"] == "InMobile"
    shown = login(acme, "alice").messages.show("acme", sent["message_ids"][0])
    assert shown["contact_id"] == s
    e = login(acme, "alice").contacts.find("acme", "e@example.dk")["contact_id"]
    with pytest.raises(RefusedError) as info:
        login(acme, "alice").messages.record("acme", e, "sms", body="x")
    assert info.value.rule == "ConsentMustCoverChannel"


def test_unsubscribed_from_the_only_list_gets_nothing__SUBJ_3(acme):
    """A contact who left its only list is kept (SUBJ-3) but gets nothing on it, nor a one-off."""
    gone = add(acme, "acme", "alice", "g@example.dk")
    add(acme, "acme", "alice", "k@example.dk")
    login(acme, "alice").contacts.unsubscribe("acme", gone, "news")
    sent = login(acme, "alice").messages.send("acme", "news", "email", "Hi")
    assert (sent["sent"], sent["skipped"]) == (1, {"ContactMustBeSubscribed": 1})
    with pytest.raises(RefusedError) as info:
        login(acme, "alice").messages.record("acme", gone, "email", "Hi")
    assert info.value.rule == "ContactMustBeSubscribed"
    assert login(acme, "alice").contacts.show("acme", gone)["fields"]["email"] == "g@example.dk"


def test_restricted_objected_and_erased_contacts_are_skipped__SUBJ_4(acme):
    """A send skips each contact that may not be processed, judged from its own events."""
    ids = [add(acme, "acme", "alice", f"n{i}@example.dk") for i in range(4)]
    alice = login(acme, "alice")
    alice.contacts.set_state("restrict", "acme", ids[0], "contested")
    alice.contacts.set_state("object", "acme", ids[1], "no marketing")
    alice.erasure.erase("acme", "request", contact=ids[2])
    sent = alice.messages.send("acme", "news", "email", "Hi")
    assert sent["sent"] == 1
    assert sent["skipped"] == {
        "ContactMustNotBeErased": 1, "ContactMustNotBeRestricted": 1,
        "ContactMustNotHaveObjected": 1,
    }  # fmt: skip


# -- instruction and sender (INSTR-1, INSTR-7) ----------------------------------------------------


def test_a_message_relies_on_a_documented_instruction__INSTR_1(acme):
    """The latest marketing instruction is relied on; naming an instruction of another kind,
    or one never given, is refused with MessageMustRelyOnInstruction.
    """
    add(acme, "acme", "alice", "a@example.dk")
    alice = login(acme, "alice")
    alice.controllers.instruct("acme", "transfer", "US", {"country": "US", "basis": "scc"})
    alice.controllers.instruct("acme", "marketing", "Monthly newsletter on news")
    sent = alice.messages.send("acme", "news", "email", "Hi", campaign="march")
    assert (sent["instruction"], sent["campaign"]) == ("instruction:2 (marketing)", "march")
    for number in (1, 9):
        with pytest.raises(RefusedError) as info:
            alice.messages.send("acme", "news", "email", "Hi", instruction=number)
        assert info.value.rule == "MessageMustRelyOnInstruction"
    assert len(denials(acme, "MessageMustRelyOnInstruction")) == 2


def test_the_processor_never_sends_on_its_own__INSTR_7(acme):
    """Processor staff are refused by INSTR-7's rule by name; messages record the sending user."""
    add(acme, "acme", "alice", "a@example.dk")
    for staff in ("sam", "grete"):
        with pytest.raises(RefusedError) as info:
            login(acme, staff).messages.send("acme", "news", "email", "Hi")
        assert info.value.rule == "MessageMustBeSentForController"
    assert {d["actor"] for d in denials(acme, "MessageMustBeSentForController")} == {"sam", "grete"}


# -- usage as the terms count it (SUBJ-7) ---------------------------------------------------------


@given(length=st.integers(0, 2000))
def test_an_sms_counts_per_156_characters__SUBJ_7(length):
    """Every started 156 characters is one SMS, and an empty text is still one."""
    assert sms_units("x" * length) == max(1, (length + SMS_UNIT_CHARS - 1) // SMS_UNIT_CHARS)


def test_usage_counts_sms_units_tests_and_bounces__SUBJ_7(acme):
    """156 characters is one SMS, 157 two; a test e-mail counts; a bounce is not refunded."""
    cid = add(acme, "acme", "alice", "u@example.dk", phone="+4512345678")
    add(acme, "acme", "alice", "u@example.dk", "sms:form")
    alice = login(acme, "alice")
    assert alice.messages.send("acme", "news", "sms", body="x" * 156)["units"] == 1
    assert alice.messages.send("acme", "news", "sms", body="x" * 157)["units"] == 2
    test = alice.messages.record("acme", cid, "email", "Test", test=True)
    assert test["test"] is True and test["emails_sent"] == 1
    bounced = alice.messages.send("acme", "news", "email", "Hi")["message_ids"][0]
    assert alice.messages.bounce("acme", bounced)["still_counted"] is True
    usage = alice.messages.usage("acme")
    assert (usage["emails_total"], usage["sms_units_total"]) == (2, 3)
    assert alice.messages.show("acme", bounced)["bounced_at"] is not None


def test_freemium_sends_999_emails_a_month_and_refuses_the_1000th__SUBJ_7(acme, clock):
    """Fewer than 1,000 a month: a send that would make 1,000 is refused whole; 999 is fine."""
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    login(acme, "sam").controllers.register(
        "free", "Free ApS", "DK", "freemium", "scc", admin="fay"
    )
    sign_agreement(acme, "free")
    one = add(acme, "free", "fay", "one@example.dk")
    two = add(acme, "free", "fay", "two@example.dk")
    seed_emails(acme, "free", one, 998)
    fay = login(acme, "fay")
    with pytest.raises(RefusedError) as info:
        fay.messages.send("free", "news", "email", "two more")
    assert info.value.rule == "AccountMonthlyEmailLimit"
    assert fay.messages.usage("free")["emails_this_month"] == 998
    fay.contacts.unsubscribe("free", two, "news")
    assert fay.messages.send("free", "news", "email", "999th")["emails_sent"] == 999
    with pytest.raises(RefusedError, match="at most 999 e-mails a month"):
        fay.messages.record("free", one, "email", "1000th", test=True)


def test_demo_sends_900_emails_and_refuses_the_901st__SUBJ_7(acme):
    """Demo: at most 900 e-mails in all, tests included."""
    login(acme, "sam").controllers.register("trial", "Trial", "DK", "demo", "scc", admin="tina")
    sign_agreement(acme, "trial")
    cid = add(acme, "trial", "tina", "d@example.dk")
    seed_emails(acme, "trial", cid, 899)
    tina = login(acme, "tina")
    assert tina.messages.record("trial", cid, "email", "900th", test=True)["emails_sent"] == 900
    with pytest.raises(RefusedError) as info:
        tina.messages.send("trial", "news", "email", "901st")
    assert info.value.rule == "AccountEmailLimit"
