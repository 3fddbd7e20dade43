"""Handing recorded messages to their carrier: secure and minimal transfers (SUB-9)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from support import login

from processor.domain.handoff import CARRIER_FIELDS
from processor.kernel.errors import AccessDeniedError, InvalidInputError, RefusedError
from processor.readmodels import tables as t


def _setup(acme):
    alice = login(acme, "alice")
    added = alice.contacts.add(
        "acme", "news", "ann@example.dk", "email:form",
        first_name="Ann", last_name="Berg", phone="+4512345678", fields={"city": "Aarhus"},
    )  # fmt: skip
    cid = str(added["contact_id"])
    alice.contacts.add("acme", "news", "ann@example.dk", "sms:form")
    email = alice.messages.record("acme", cid, "email", "Offer", "Hello there")
    sms = alice.messages.record("acme", cid, "sms", body="Short")
    return alice, cid, email, sms


def test_a_carrier_receives_only_the_address_and_content_its_channel_needs__SUB_9(acme):
    """Minimal: an e-mail carrier gets the address and content; no name, phone, city or id.

    The handoff is logged as a read naming the carrier, the count and the fields, with no
    personal data in the record itself (ACC-6).
    """
    alice, cid, email, sms = _setup(acme)
    via = email["subprocessor"]
    result = alice.handoff.handoff("acme", via)
    assert result["messages"] == [
        {
            "message_id": email["message_id"], "channel": "email", "to": "ann@example.dk",
            "subject": "Offer", "body": "Hello there",
        }
    ]  # fmt: skip
    assert result["fields"] == ["body", "email", "message_id", "subject"]
    texts = alice.handoff.handoff("acme", sms["subprocessor"])
    assert texts["messages"] == [
        {"message_id": sms["message_id"], "channel": "sms", "to": "+4512345678", "body": "Short"}
    ]
    handed = json.dumps([result, texts])
    for kept_back in ("Ann", "Berg", "Aarhus", cid):
        assert kept_back not in handed
    assert set(CARRIER_FIELDS) == {"email", "sms"}
    with acme.engines.readmodels.connect() as conn:
        logged = conn.execute(
            sa.select(t.access_log.c.actor, t.access_log.c.reason, t.access_log.c.detail).where(
                t.access_log.c.kind == "viewed"
            )
        ).all()
    handoffs = [row for row in logged if row.detail == {"scope": "handoff"}]
    assert [(r.actor, r.reason) for r in handoffs] == [
        ("alice", f"1 messages to {via}: body, email, message_id, subject"),
        ("alice", f"1 messages to {sms['subprocessor']}: body, message_id, phone"),
    ]
    # Continuing after the last number hands over nothing again.
    again = alice.handoff.handoff("acme", via, after=result["next_after"])
    assert again["handed_over"] == 0 and again["messages"] == []


def test_messages_of_erased_or_restricted_recipients_are_withheld__SUB_9__SUBJ_3(acme):
    alice, cid, email, _ = _setup(acme)
    via = email["subprocessor"]
    alice.contacts.set_state("restrict", "acme", cid, "contested")
    withheld = alice.handoff.handoff("acme", via)
    assert withheld["messages"] == [] and withheld["withheld"] == {"ContactMustNotBeRestricted": 1}
    alice.contacts.set_state("unrestrict", "acme", cid, "settled")
    assert len(alice.handoff.handoff("acme", via)["messages"]) == 1
    alice.erasure.erase("acme", "request", contact=cid)
    erased = alice.handoff.handoff("acme", via)
    assert erased["messages"] == [] and erased["withheld"] == {"ContactMustNotBeErased": 1}


def test_a_retired_carrier_receives_nothing_more__SUB_9(acme):
    """The carrier is asked again at handoff: a retired sub-processor carries nothing more."""
    alice, _cid, email, _ = _setup(acme)
    via = email["subprocessor"]
    login(acme, "grete").subprocessors.retire(via, "contract ended")
    with pytest.raises(RefusedError):
        alice.handoff.handoff("acme", via)


def test_only_the_controllers_senders_may_take_a_handoff__SUB_9__ACC_9(acme):
    _setup(acme)
    with pytest.raises(AccessDeniedError):
        login(acme, "grete").handoff.handoff("acme", "anything")
    with pytest.raises(InvalidInputError):
        login(acme, "alice").handoff.handoff("acme", "anything", limit=0)
