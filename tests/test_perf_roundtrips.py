"""Issue 17: one `contacts add` reads the notification log only where it must.

Every read of the log is a database round trip (three on PostgreSQL: BEGIN, SELECT, COMMIT on
eventsourcing's own connection). A single add used to read it six times: the ledger and the
projector each made a last pass that found nothing, and the projector caught up under the
write lock even when the ledger had nothing new signed. These tests pin the one read that
remains (the ledger's check of the last signed record; the new records to sign and to project
are handed over by the commit, issue 17's third round) and that the command's guarantees hold with them: everything saved is signed, and the
read models answer for the new contact when the command returns. The write lock skips its
catch-up when the read models already hold the whole log; a log left unsigned by a crash
is still signed and projected before the e-mail is looked up.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from support import login

from processor.app import Processor
from processor.services.profile import ConsentInput, clean_profile

READS_PER_ADD = 1  # the tail check (records to sign and project are handed: was 3)
STATEMENTS_PER_ADD = 20  # read models, ledger and key store (SQLAlchemy; 19, was 26)


def _spy(proc: Processor) -> dict[str, int]:
    """Count notification reads and SQLAlchemy statements from here on (real calls go on)."""
    counts = {"reads": 0, "statements": 0}
    recorder: Any = proc.store.recorder
    real = recorder.select_notifications

    def select_notifications(*args: Any, **kwargs: Any) -> Any:
        counts["reads"] += 1
        return real(*args, **kwargs)

    recorder.select_notifications = select_notifications

    def count(*_: object) -> None:
        counts["statements"] += 1

    for engine in {proc.engines.readmodels, proc.engines.ledger, proc.engines.keys}:
        sa.event.listen(engine, "before_cursor_execute", count)
    return counts


def test_perf_one_add_reads_the_log_once_and_returns_consistent(acme: Processor) -> None:
    alice = login(acme, "alice")
    for i in range(3):  # warm: the first commands load keys and verify the checkpoint log
        alice.contacts.add("acme", "news", f"warm{i}@example.dk", "email:form")
        acme.end_command()
    counts = _spy(acme)
    added = alice.contacts.add("acme", "news", "new@example.dk", "email:form", first_name="Ny")
    assert counts["reads"] <= READS_PER_ADD, counts
    assert counts["statements"] <= STATEMENTS_PER_ADD, counts
    # Signed to the end of the log, and visible in the read models, when the command returns.
    assert acme.ledger.signed_position() == acme.store.recorder.max_notification_id()
    assert acme.ledger.last_signed == acme.ledger.signed_position()
    assert acme.projector.position() == acme.ledger.signed_position()
    assert alice.contacts.id_by_email("acme", "new@example.dk") == added["contact_id"]


def test_perf_projector_skips_the_log_when_nothing_signed_is_new(acme: Processor) -> None:
    login(acme, "alice").contacts.add("acme", "news", "a@example.dk", "email:form")
    counts = _spy(acme)
    assert acme.projector.catch_up(until=acme.ledger.signed_position()) == 0
    assert counts["reads"] == 0
    # Without a bound it still reads the log to find out (a rebuild, `processor doctor`).
    assert acme.projector.catch_up() == 0
    assert counts["reads"] == 1


def test_perf_write_lock_still_catches_up_after_a_crash_before_signing(acme: Processor) -> None:
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "a@example.dk", "email:form")
    # A `contacts add` that saved its contact and died before signing and projecting it.
    profile = clean_profile(acme.policies.fields, {"email": "b@example.dk"}, require_email=True)
    with acme.using_clock():
        contact = alice.contacts.new_contact(
            "acme", profile, "news", ConsentInput.parse("email:form"), "manual"
        )
        acme.store.save(contact)
    unsigned_end = acme.store.recorder.max_notification_id()
    assert acme.ledger.signed_position() < unsigned_end
    # The next contact write takes the lock: the crashed command's contact is signed and
    # projected before the lookup, so its e-mail is found, not added a second time (SUBJ-4).
    again = alice.contacts.add("acme", "news", "B@example.dk", "email:form")
    assert again == {"contact_id": str(contact.id), "created": False}
    assert acme.ledger.signed_position() == acme.store.recorder.max_notification_id()
    assert acme.projector.position() == acme.ledger.signed_position() >= unsigned_end


# Pooled connections a `contacts add` checks out of the read-model, ledger and key-store
# engines (each a BEGIN and a ROLLBACK or COMMIT on PostgreSQL), and reads of the log's end.
# On PostgreSQL the write lock's own transaction reads the three positions in one statement
# and answers the e-mail lookup (was 7 checkouts and 2 reads); SQLite's lock is a file's.
CHECKOUTS_PER_ADD = {"sqlite": 6, "postgres": 4}
MAX_ID_READS_PER_ADD = {"sqlite": 2, "postgres": 1}


def test_perf_one_add_reads_positions_and_email_inside_the_lock_transaction(
    acme: Processor,
) -> None:
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "warm@example.dk", "email:form")
    acme.end_command()
    counts = {"checkouts": 0, "max_id": 0}
    recorder: Any = acme.store.recorder
    real = recorder.max_notification_id

    def max_notification_id(*args: Any, **kwargs: Any) -> Any:
        counts["max_id"] += 1
        return real(*args, **kwargs)

    recorder.max_notification_id = max_notification_id

    def checkout(*_: object) -> None:
        counts["checkouts"] += 1

    engines = {id(e): e for e in (acme.engines.readmodels, acme.engines.ledger, acme.engines.keys)}
    for engine in engines.values():
        sa.event.listen(engine, "checkout", checkout)
    added = alice.contacts.add("acme", "news", "new@example.dk", "email:form")
    backend = acme.settings.backend
    assert counts["checkouts"] <= CHECKOUTS_PER_ADD[backend], counts
    assert counts["max_id"] <= MAX_ID_READS_PER_ADD[backend], counts
    assert alice.contacts.id_by_email("acme", "new@example.dk") == added["contact_id"]
    again = alice.contacts.add("acme", "news", "NEW@example.dk", "email:form")
    assert again == {"contact_id": added["contact_id"], "created": False}
