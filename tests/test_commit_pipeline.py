"""The commit pipeline signs and projects what a command hands it, and reads back the rest (AUD-4).

`Processor.commit` hands the recordings it just saved to the ledger and the projector. Where they
follow the signed (projected) position contiguously, they are hashed (applied) as handed, with no
read of the log; any other record (another writer's, one left by a command that died before
signing, one inserted by SQL) is read back and its record MAC checked, exactly as before.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import login
from test_record_mac import forge_gdpa

from processor.app import Processor
from processor.kernel.errors import IntegrityFailureError
from processor.services.profile import ConsentInput, clean_profile


def _reads(proc: Processor) -> dict[str, int]:
    counts = {"reads": 0}
    recorder: Any = proc.store.recorder
    real = recorder.select_notifications

    def select_notifications(*args: Any, **kwargs: Any) -> Any:
        counts["reads"] += 1
        return real(*args, **kwargs)

    recorder.select_notifications = select_notifications
    return counts


def _unsigned_contact(proc: Processor, email: str) -> str:
    """A contact saved by another writer (or a command that died) and not yet signed."""
    alice = login(proc, "alice")
    profile = clean_profile(proc.policies.fields, {"email": email}, require_email=True)
    with proc.using_clock():
        contact = alice.contacts.new_contact(
            "acme", profile, "news", ConsentInput.parse("email:form"), "manual"
        )
        proc.store.save(contact)
    return str(contact.id)


def test_handed_records_are_signed_and_projected_without_reading_the_log__AUD_4(acme):
    """A command's own records are signed and projected as handed: only the tail check reads."""
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "a@example.dk", "email:form")["contact_id"]
    acme.end_command()
    counts = _reads(acme)
    alice.contacts.unsubscribe("acme", cid, "news")
    assert counts["reads"] == 1  # the tail check of the last signed record
    end = acme.store.recorder.max_notification_id()
    assert acme.ledger.signed_position() == acme.projector.position() == end
    assert acme.ledger.verify().ok


def test_a_record_not_handed_is_read_back_signed_and_projected_in_order(acme):
    """Another writer's record before the command's own is read back, signed, then projected."""
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "a@example.dk", "email:form")["contact_id"]
    other = _unsigned_contact(acme, "b@example.dk")
    acme.end_command()
    alice.contacts.unsubscribe("acme", cid, "news")
    end = acme.store.recorder.max_notification_id()
    assert acme.ledger.signed_position() == acme.projector.position() == end
    assert alice.contacts.id_by_email("acme", "b@example.dk") == other
    assert acme.ledger.verify().ok
    assert acme.ledger.size() == len(list(acme.ledger.iter_records()))


def test_a_forged_record_before_the_handed_ones_is_refused__AUD_4(acme):
    """A record inserted by SQL before the command's own is MAC-checked and refused (exit 3);
    nothing is signed or projected past the signed position.
    """
    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "a@example.dk", "email:form")["contact_id"]
    acme.end_command()
    signed, projected = acme.ledger.signed_position(), acme.projector.position()
    _, position = forge_gdpa(acme, "mallory")
    with pytest.raises(IntegrityFailureError, match="not written by this processor"):
        alice.contacts.unsubscribe("acme", cid, "news")
    assert acme.ledger.signed_position() == signed < position
    assert acme.projector.position() == projected


def test_a_commit_mixing_a_snapshotted_aggregate_keeps_every_event(acme):
    """A contact change committed with the (snapshotted) recipient outbox, as rectification
    and erasure do: the outbox sends the commit through the library's `save`, and the
    contact's events must still be pending then, not drained by the direct path first.
    """
    from subprocessors.outbox import RecipientOutbox

    alice = login(acme, "alice")
    cid = alice.contacts.add("acme", "news", "m@example.dk", "email:form")["contact_id"]
    acme.end_command()
    contact = alice.contacts.load("acme", cid)
    contact.unsubscribe(actor="alice", list_name="news")
    outbox = RecipientOutbox(controller_id="acme", actor="alice")
    before = acme.store.recorder.max_notification_id()
    with acme.using_clock():
        acme.commit(contact, outbox)
    topics = [
        n.topic.split(":")[-1]
        for n in acme.store.recorder.select_notifications(start=before, limit=10)
        if n.id > before
    ]
    assert sorted(topics) == [
        "Contact.UnsubscribedFromList",
        "RecipientOutbox.RecipientOutboxOpened",
    ]
