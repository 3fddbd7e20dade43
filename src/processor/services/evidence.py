"""What the events prove about a controller's data, read from the event store itself.

The retention sweep and the deletion certificate must be right even when a read model is
wrong: a database administrator can set `rm_contacts.erased = 1` on a live contact, and a
decision taken from that flag would skip the contact and then certify it deleted (issue 11).
So who a controller's subjects are, which of them are erased, and what a sweep did, come from
the ledger-covered events here; the read models only serve display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

from processor.domain.contacts import Contact
from processor.domain.controllers import Controller
from processor.domain.ids import controller_id
from processor.domain.messages import Message
from processor.domain.retention import SweepRun

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from processor.storage.eventstore import EventStore

_PAGE = 1000


def _event_class(aggregate: type[Any], name: str) -> type[Any]:
    cls: type[Any] = aggregate.__dict__[name]
    return cls


def _events(store: EventStore, *classes: type[Any]) -> Iterator[tuple[int, Any]]:
    """(position, event) for every stored event of these classes, in log order."""
    topics = [get_topic(cls) for cls in classes]
    start = 1
    while True:
        notes = store.recorder.select_notifications(start=start, limit=_PAGE, topics=topics)
        if not notes:
            return
        for note in notes:
            yield note.id, store.mapper.to_domain_event(note)
        start = notes[-1].id + 1


@dataclass
class ControllerEvidence:
    """A controller's subjects and message contents as the events record them."""

    contacts: list[str] = field(default_factory=list)
    erasures: dict[str, int] = field(default_factory=dict)  # contact id -> ContactErased position
    messages: dict[str, str] = field(default_factory=dict)  # message id -> key id
    shredded: dict[str, int] = field(default_factory=dict)  # message id -> shredded position

    @property
    def live_contacts(self) -> list[str]:
        """Contacts without a `ContactErased` event."""
        return [c for c in self.contacts if c not in self.erasures]

    @property
    def unshredded_messages(self) -> list[str]:
        """Messages without a `MessageContentShredded` event."""
        return [m for m in self.messages if m not in self.shredded]


def controller_evidence(store: EventStore, ref: str) -> ControllerEvidence:
    """Every contact and message of the controller, and which are erased, from the events."""
    added = _event_class(Contact, "ContactAdded")
    erased = _event_class(Contact, "ContactErased")
    recorded = _event_class(Message, "MessageRecorded")
    shredded = _event_class(Message, "MessageContentShredded")
    found = ControllerEvidence()
    erasures: dict[str, int] = {}
    shreds: dict[str, int] = {}
    for position, e in _events(store, added, erased, recorded, shredded):
        oid = str(e.originator_id)
        if isinstance(e, added):
            if e.controller == ref:
                found.contacts.append(oid)
        elif isinstance(e, erased):
            erasures.setdefault(oid, position)
        elif isinstance(e, recorded):
            if e.controller == ref:
                found.messages[oid] = e.key_id
        else:
            shreds.setdefault(oid, position)
    found.erasures = {c: erasures[c] for c in found.contacts if c in erasures}
    found.shredded = {m: shreds[m] for m in found.messages if m in shreds}
    return found


def erasure_event(store: EventStore, contact: UUID) -> tuple[int, Any] | None:
    """A contact's `ContactErased` event and its position in the log, or None."""
    erased = _event_class(Contact, "ContactErased")
    for position, e in _events(store, erased):
        if e.originator_id == contact:
            return position, e
    return None


def data_deleted_event(store: EventStore, ref: str) -> tuple[int, Any] | None:
    """The controller's `PersonalDataDeleted` event and its position, or None."""
    deleted = _event_class(Controller, "PersonalDataDeleted")
    cid = controller_id(ref)
    last = None
    for position, e in _events(store, deleted):
        if e.originator_id == cid:
            last = (position, e)
    return last


@dataclass(frozen=True)
class SweptTotals:
    """What sweep batches recorded for one controller (scope `controller`)."""

    contacts: int
    contact_events: int
    messages: int


def swept_totals(store: EventStore, ref: str) -> SweptTotals:
    """The sums of the controller's `SweepBatchCompleted` events."""
    batch = _event_class(SweepRun, "SweepBatchCompleted")
    contacts = events = messages = 0
    for _position, e in _events(store, batch):
        if e.controller == ref and e.scope == "controller":
            contacts += e.contacts
            events += e.contact_events
            messages += e.messages
    return SweptTotals(contacts, events, messages)
