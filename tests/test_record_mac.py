"""A record inserted by SQL is never taken for an event (AUD-4, ACC-12), on both backends.

The attacker is a database administrator without keys: they can build a perfectly shaped
`UserAdded` record for a GDPA called mallory, with the digest of a credential they chose, and
insert it after the newest checkpoint, where it looks like a command that died before signing.
"""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import Mapper
from support import login
from test_ledger_tamper import EventTable

from processor import desk
from processor.credentials.secrets import new_credential
from processor.domain.ids import user_id
from processor.domain.users import User
from processor.kernel.errors import IntegrityFailureError


def forge_gdpa(proc, name: str) -> tuple[str, int]:
    """Insert a `UserAdded` + `CredentialIssued` for a GDPA, without the record MAC key."""
    plain = Mapper(transcoder=proc.store.mapper.transcoder)  # the library's mapper, no key
    with proc.using_clock():
        forged = User(
            actor="init",
            name=name,
            role="gdpa",
            controller=None,
            confidentiality_signed="2026-01-05",
            trained="2026-01-06",
        )
        credential = new_credential()
        forged.issue_credential(
            actor="init", credential_id=credential.credential_id, digest=credential.digest,
            rotated=False, handed_over=False,
        )  # fmt: skip
    rows = [plain.to_stored_event(e) for e in forged.collect_events()]
    proc.store.recorder.insert_events(rows)
    return credential.text, proc.store.recorder.max_notification_id()


def test_a_forged_user_record_cannot_log_in__AUD_4__ACC_12(acme):
    """A GDPA forged by SQL is no user: logging in as them is an integrity failure (exit 3)."""
    text, _ = forge_gdpa(acme, "mallory")
    with pytest.raises(IntegrityFailureError, match="record MAC"):
        desk.login(acme, "mallory", text)


def test_the_next_writing_command_refuses_to_sign_a_forged_record__AUD_4(acme):
    """The forged tail is not signed by the next command: it stops with exit 3 at its position."""
    size = acme.ledger.head()["size"]
    _, position = forge_gdpa(acme, "mallory")
    alice = login(acme, "alice")
    with pytest.raises(IntegrityFailureError, match=f"position {position - 1}|position {position}"):
        alice.contacts.add("acme", "news", "z@example.dk", "email:form")
    assert acme.ledger.head()["size"] == size
    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_position is not None
    assert "not written by this processor" in (report.reason or "")


def test_a_copied_genuine_record_under_another_aggregate_fails__AUD_4(acme):
    """A genuine record moved to another aggregate id fails its MAC (the id is bound)."""
    table = EventTable(acme)
    try:
        first_user = next(
            r.position for r in acme.ledger.iter_records() if r.originator_id == str(user_id("ben"))
        )
        table.append_copy(first_user, uuid.uuid4())
    finally:
        table.close()
    report = acme.ledger.verify()
    assert not report.ok
    assert "record MAC" in (report.reason or "")
