"""Message records: sealed content with its own retention (RET-7) and the account limits (SUBJ-7)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from support import UNDERTAKING, login, sign_agreement

from processor.app import Processor
from processor.domain.messages import Message
from processor.domain.sending import AccountEmailLimit, AccountMonthlyEmailLimit
from processor.kernel.errors import ConflictError, RefusedError
from processor.readmodels import tables as t
from processor.services.messages import CONTENT
from processor.services.setup import initialise


def seed_messages(proc: Processor, controller: str, contact: str, n: int) -> None:
    """Record `n` sent e-mails in one commit (setting up an account near its limit)."""
    keys = [str(uuid.uuid4()) for _ in range(n)]
    with proc.engines.readmodels.connect() as conn:
        last = conn.execute(
            sa.select(sa.func.max(t.messages.c.number)).where(t.messages.c.controller == controller)
        ).scalar()
    with proc.using_clock():
        proc.sealer.new_subjects(keys, proc.now())
        messages = [
            Message(
                actor="seed", controller=controller, number=(last or 0) + 1 + i, contact=contact,
                medium="email", key_id=key, content=proc.sealer.seal(key, CONTENT, {}),
                content_bytes=2, content_expires_at=None, policy_version="test",
            )
            for i, key in enumerate(keys)
        ]  # fmt: skip
        proc.commit(*messages)


def contact(proc: Processor, controller: str, admin: str, email: str, **extra) -> str:
    """Add a contact and return its id."""
    result = login(proc, admin).contacts.add(controller, "news", email, "email:form", **extra)
    return str(result["contact_id"])


def test_content_is_sealed_with_its_own_key_and_kept_until_deletion__RET_7(acme):
    """Standard profile: content kept; erasing the recipient shreds it, the sweep records it (RET-5)."""
    alice = login(acme, "alice")
    cid = contact(acme, "acme", "alice", "m@example.dk", phone="+4512345678")
    alice.contacts.add("acme", "news", "m@example.dk", "sms:form")
    sent = alice.messages.record("acme", cid, "email", "Offer", "Hello M")
    sms = alice.messages.record("acme", cid, "sms", body="Short")
    assert sent["content_expires_at"] is None
    message = alice.messages.load("acme", sent["message_id"])
    assert message.key_id != cid and message.content.startswith("s1.")
    assert alice.messages.show("acme", sent["message_id"])["body"] == "Hello M"
    alice.erasure.erase("acme", "request", contact=cid)
    # RET-5: the erasure shreds the messages in its own command; the sweep records it after.
    assert alice.messages.show("acme", sent["message_id"])["content_erased"] is True
    acme.clock.advance(timedelta(minutes=1))
    swept = login(acme, "grete").retention.sweep()
    assert swept["message_content_due"] == {"RET-5": 2} and swept["message_contents_shredded"] == 2
    for mid in (sent["message_id"], sms["message_id"]):
        shown = alice.messages.show("acme", mid)
        assert shown["content_erased"] is True and shown["body"] is None
        assert shown["channel"] in {"email", "sms"} and shown["sent_at"]
    with acme.engines.readmodels.connect() as conn:
        facts = conn.execute(sa.select(t.messages.c.channel, t.messages.c.content_shredded)).all()
    assert sorted(facts) == [("email", True), ("sms", True)]


def test_content_is_shredded_after_24_hours_under_the_effecttracker_profile__RET_7(settings, clock):
    """`no-staff-access` keeps sent content 24 hours; the facts (time, channel, counts) stay."""
    proc = initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
        clock=clock,
        profile="no-staff-access",
    )
    try:
        login(proc, "sam").controllers.register(
            "acme", "Acme", "DK", "paying", "scc", admin="alice"
        )
        sign_agreement(proc, "acme")
        alice = login(proc, "alice")
        cid = contact(proc, "acme", "alice", "e@example.dk")
        sent = alice.messages.record("acme", cid, "email", "Subject", "Body")
        sent_at = datetime.fromisoformat(sent["sent_at"])
        assert datetime.fromisoformat(sent["content_expires_at"]) == sent_at + timedelta(hours=24)
        clock.advance(timedelta(hours=23, minutes=59))
        assert login(proc, "grete").retention.sweep()["nothing_due"]
        clock.advance(timedelta(minutes=1))
        swept = login(proc, "grete").retention.sweep()
        assert swept["message_content_due"] == {"RET-7": 1}
        assert alice.messages.show("acme", sent["message_id"])["content_erased"] is True
        assert alice.contacts.show("acme", cid)["fields"]["email"] == "e@example.dk"
        assert alice.messages.counts("acme", clock.now()) == (1, 1)
        assert login(proc, "grete").retention.sweep()["nothing_due"]
    finally:
        proc.close()


def test_unsubscribed_restricted_objected_or_erased_contacts_get_nothing__SUBJ_7(acme):
    """Each kind of contact that may not be sent to is refused, with its own rule."""
    alice = login(acme, "alice")
    ids = [contact(acme, "acme", "alice", f"n{i}@example.dk") for i in range(5)]
    alice.contacts.unsubscribe("acme", ids[0], "news")
    alice.contacts.set_state("restrict", "acme", ids[1], "contested")
    alice.contacts.set_state("object", "acme", ids[2], "no profiling")
    alice.erasure.erase("acme", "request", contact=ids[3])
    alice.contacts.add("acme", "news", "n4@example.dk", "sms:form")  # consent, but no phone
    expected = [
        "ContactMustBeSubscribed",
        "ContactMustNotBeRestricted",
        "ContactMustNotHaveObjected",
        "ContactMustNotBeErased",
        "ChannelNeedsAddress",
    ]
    for cid, rule in zip(ids, expected, strict=True):
        channel = "sms" if rule == "ChannelNeedsAddress" else "email"
        with pytest.raises(RefusedError) as info:
            alice.messages.record("acme", cid, channel, "s")
        assert info.value.rule == rule
    assert login(acme, "mia").messages.record("acme", ids[4], "email", "ok")["emails_sent"] == 1


def test_freemium_sends_no_sms_and_fewer_than_1000_emails_a_month__SUBJ_7(acme, clock):
    """Freemium: SMS refused; "fewer than 1,000" a month is 999, the 1,000th refused.

    A new month starts afresh. The account is on the current edition: beta's 2018 list has no
    e-mail carrier with a valid transfer basis (see test_sending).
    """
    clock.set(datetime(2026, 3, 10, 9, tzinfo=UTC))
    login(acme, "sam").controllers.register(
        "free", "Free ApS", "DK", "freemium", "scc", admin="fay"
    )
    sign_agreement(acme, "free")
    fay = login(acme, "fay")
    cid = contact(acme, "free", "fay", "f@example.dk", phone="+4512345678")
    fay.contacts.add("free", "news", "f@example.dk", "sms:form")
    with pytest.raises(RefusedError, match="no SMS") as info:
        fay.messages.record("free", cid, "sms", body="x")
    assert info.value.rule == "AccountMustAllowSms"
    seed_messages(acme, "free", cid, 998)
    assert fay.messages.record("free", cid, "email", "999th")["emails_sent"] == 999
    with pytest.raises(RefusedError, match="999 e-mails a month") as info:
        fay.messages.record("free", cid, "email", "1000th")
    assert info.value.rule == "AccountMonthlyEmailLimit"
    clock.set(datetime(2026, 4, 1, 0, tzinfo=UTC))
    assert fay.messages.record("free", cid, "email", "April")["emails_sent"] == 1000


def test_demo_sends_at_most_900_emails_in_total__SUBJ_7(acme):
    """Demo: the 901st e-mail is refused."""
    login(acme, "sam").controllers.register("trial", "Trial", "DK", "demo", "scc", admin="tina")
    sign_agreement(acme, "trial")
    cid = contact(acme, "trial", "tina", "d@example.dk")
    seed_messages(acme, "trial", cid, 900)
    with pytest.raises(RefusedError, match="900 e-mails in total") as info:
        login(acme, "tina").messages.record("trial", cid, "email", "901st")
    assert info.value.rule == "AccountEmailLimit"


def test_account_limit_rules_in_isolation__SUBJ_7():
    """The limit rule objects: no limit never bites; a limit bites exactly past its number."""
    assert not AccountEmailLimit("paying", None, 10**6, 10**6).is_broken()
    assert not AccountEmailLimit("demo", 900, 899, 1).is_broken()
    assert AccountEmailLimit("demo", 900, 900, 1).is_broken()
    assert AccountEmailLimit("demo", 900, 0, 901).is_broken()
    assert not AccountMonthlyEmailLimit("freemium", 999, 998, 1).is_broken()
    assert AccountMonthlyEmailLimit("freemium", 999, 999, 1).is_broken()


def test_two_writers_of_the_same_message_number_conflict_so_limits_stay_exact__SUBJ_7(acme):
    """Message ids derive from a running number: a concurrent duplicate is refused, not saved."""
    cid = contact(acme, "acme", "alice", "c@example.dk")
    login(acme, "alice").messages.record("acme", cid, "email", "first")
    seed = Message(
        actor="other", controller="acme", number=1, contact=cid, medium="email", key_id="k",
        content="", content_bytes=0, content_expires_at=None, policy_version="test",
    )  # fmt: skip
    with pytest.raises(ConflictError):
        acme.commit(seed)


def test_closed_accounts_send_nothing__RET_1(acme, clock):
    """From the effective date of termination, messages are refused."""
    alice = login(acme, "alice")
    cid = contact(acme, "acme", "alice", "z@example.dk")
    alice.lifecycle.terminate("acme", (clock.now() + timedelta(days=1)).date().isoformat())
    alice.messages.record("acme", cid, "email", "last newsletter")
    clock.advance(timedelta(days=1))
    with pytest.raises(RefusedError) as info:
        alice.messages.record("acme", cid, "email", "too late")
    assert info.value.rule == "AccountMustBeOpen"


def test_a_message_event_keeps_its_medium_and_the_request_channel__ACC_12(acme):
    """`MessageRecorded` says both how the message went (`medium`) and how the request came in
    (`channel`); a version-1 event, which had only the medium under `channel`, reads upcast.
    """
    from processor.domain.messages import Message

    state = {"channel": "sms", "actor": "mia"}
    Message.MessageRecorded.upcast_v1_v2(state)
    assert state == {"medium": "sms", "channel": "", "actor": "mia"}
    key = "k-upcast"
    acme.sealer.new_subjects([key], acme.now())
    with acme.using_clock():
        message = Message(
            actor="mia", controller="acme", number=99, contact="c", medium="email", key_id=key,
            content=acme.sealer.seal(key, CONTENT, {}), content_bytes=1,
            content_expires_at=None, policy_version="v",
        )  # fmt: skip
    (recorded,) = message.collect_events()
    assert (recorded.medium, recorded.channel) == ("email", "python")
    assert message.channel == "email"
