"""Every key destruction matches its event, and no erased subject keeps a key (RET-5, AUD-4).

The key store is outside the ledger: someone with SQL access can delete a subject's key and
insert a tombstone, and the contact then reads as erased although no `ContactErased` was ever
recorded, receipted or signed. So the key store is judged against the events:

* a contact's key may be destroyed only by its `ContactErased`;
* a message's key by its `MessageContentShredded` (expiry, RET-7), by the `ContactErased` of its
  recipient (erasure shreds the messages in the same command, RET-5) or by the
  `PersonalDataDeleted` of its controller (RET-1, RET-2);
* a controller's records key (`records:<controller>`) only by the controller's
  `PersonalDataDeleted`; the processor's records key (`records:processor`) never.

It reports "key destroyed without its event", "key alive for an erased subject" (the event is
there, the key is not gone) and "key missing" (neither key nor tombstone: reads would fail).
Key-store rows no event refers to (the key of a message whose commit lost a race) seal nothing
and are not judged. The queries are read-only and name only the key store's table and column
names, not its wrapping, which may change under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from processor.integrity.findings import Finding
from processor.keys import PROCESSOR_RECORDS, records_subject

if TYPE_CHECKING:
    from collections.abc import Iterator

    from processor.keys.keystore import KeyStore
    from processor.storage.eventstore import EventStore

DESTROYED_WITHOUT_EVENT: Final = "key destroyed without its event"
ALIVE_FOR_ERASED: Final = "key alive for an erased subject"
MISSING: Final = "key missing (no key and no tombstone)"

# Tables (not bare table clauses) so that PostgreSQL's schema translation applies to them.
_meta = sa.MetaData()
_subject_keys = sa.Table("subject_keys", _meta, sa.Column("subject_id", sa.String))
_shredded = sa.Table("shredded_subjects", _meta, sa.Column("subject_id", sa.String))

_WANTED: Final = frozenset(
    {
        "Contact.ContactAdded",
        "Contact.ContactErased",
        "Message.MessageRecorded",
        "Message.MessageContentShredded",
        "Controller.ControllerRegistered",
        "Controller.PersonalDataDeleted",
    }
)
_BATCH: Final = 1000


@dataclass(frozen=True)
class _Message:
    key_id: str
    contact: str
    controller: str


@dataclass
class EventFacts:
    """What the events say about keys: who exists, who was erased, which messages were shredded."""

    contacts: dict[str, str] = field(default_factory=dict)  # contact id -> controller
    erased: set[str] = field(default_factory=set)
    messages: dict[str, _Message] = field(default_factory=dict)  # message id -> its key
    shredded: set[str] = field(default_factory=set)
    controllers: dict[str, str] = field(default_factory=dict)  # aggregate id -> ref
    deleted: set[str] = field(default_factory=set)  # refs whose personal data was deleted

    def add(self, qualname: str, event: Any) -> None:  # noqa: ANN401 - events of several types
        """Take in one event of a kind in `_WANTED`."""
        origin = str(event.originator_id)
        if qualname == "Contact.ContactAdded":
            self.contacts[origin] = event.controller
        elif qualname == "Contact.ContactErased":
            self.erased.add(origin)
        elif qualname == "Message.MessageRecorded":
            self.messages[origin] = _Message(event.key_id, event.contact, event.controller)
        elif qualname == "Message.MessageContentShredded":
            self.shredded.add(origin)
        elif qualname == "Controller.ControllerRegistered":
            self.controllers[origin] = event.ref
        else:
            self.deleted.add(self.controllers.get(origin, origin))

    def expectations(self) -> Iterator[tuple[str, str, bool]]:
        """Each subject id the events refer to, what it is, and whether it must be destroyed."""
        for cid, controller in self.contacts.items():
            yield cid, f"contact of {controller}", cid in self.erased
        for mid, msg in self.messages.items():
            gone = (
                mid in self.shredded or msg.contact in self.erased or msg.controller in self.deleted
            )
            yield msg.key_id, f"content of message {mid} to contact {msg.contact}", gone
        for ref in self.controllers.values():
            yield records_subject(ref), f"records of {ref}", ref in self.deleted
        yield PROCESSOR_RECORDS, "records of the processor", False


def event_facts(store: EventStore) -> EventFacts:
    """Read the events that create, erase or shred subjects (only those are decoded)."""
    facts = EventFacts()
    recorder, mapper = store.recorder, store.mapper
    position = 0
    while notes := recorder.select_notifications(
        start=position, limit=_BATCH, inclusive_of_start=False
    ):
        for note in notes:
            qualname = note.topic.rpartition(":")[2]
            if qualname in _WANTED:
                facts.add(qualname, mapper.to_domain_event(note))
        position = notes[-1].id
    return facts


def key_store_state(engine: sa.Engine) -> tuple[set[str], set[str]]:
    """The subject ids with a live key, and those with a tombstone (read-only)."""
    with engine.connect() as conn:
        live = {str(r[0]) for r in conn.execute(sa.select(_subject_keys.c.subject_id))}
        dead = {str(r[0]) for r in conn.execute(sa.select(_shredded.c.subject_id))}
    return live, dead


def check_keys(store: EventStore, keys: KeyStore, facts: EventFacts | None = None) -> list[Finding]:
    """Compare the key store with the events; one finding per subject out of step."""
    facts = facts or event_facts(store)
    live, dead = key_store_state(keys.engine)
    findings: list[Finding] = []
    for subject, what, must_be_gone in facts.expectations():
        has_key, has_tombstone = subject in live, subject in dead
        if not (has_key or has_tombstone):
            # Records keys are made on first use; one never used is not missing.
            if not subject.startswith("records:"):
                findings.append(_finding(MISSING, subject, what, "absent", "a key"))
        elif must_be_gone and has_key:
            findings.append(_finding(ALIVE_FOR_ERASED, subject, what, "alive", "destroyed"))
        elif not must_be_gone and has_tombstone:
            findings.append(_finding(DESTROYED_WITHOUT_EVENT, subject, what, "destroyed", "alive"))
    return findings


def _finding(problem: str, subject: str, what: str, live: str, expected: str) -> Finding:
    return Finding(
        check="keystore",
        problem=problem,
        where="subject_keys/shredded_subjects",
        key=f"{subject} ({what})",
        column="key",
        live=live,
        expected=expected,
    )
