"""Reading the audit's facts from the event store itself, not from read models.

Samples, reviews, challenges and the change log must be right even when a read model was
edited behind the application's back, and this round adds no read-model tables: so they are
read here, by event topic, from the ledger-covered events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime
    from uuid import UUID

    from processor.app import Processor

_PAGE = 1000


def event_class(aggregate: type[Any], name: str) -> type[Any]:
    """The nested event class `name` of `aggregate` (e.g. `AccessGrant.PersonalDataRevealed`)."""
    cls: type[Any] = aggregate.__dict__[name]
    return cls


def stored_events(
    proc: Processor, *classes: type[Any], until: int | None = None
) -> Iterator[tuple[int, Any]]:
    """(position, event) for every stored event of these classes (all, without classes).

    Only what the ledger has signed is read (`until` defaults to the signed position): a row
    forged into the events table behind the application is not audit evidence. A server
    signs in groups, so what its commands saved and have not signed yet is signed first.
    """
    topics = [get_topic(cls) for cls in classes]
    if until is None:
        proc.settle()  # what this command (or its group) just saved is signed first
    last = proc.ledger.signed_position() if until is None else until
    start = 1
    while start <= last:
        notes = proc.store.recorder.select_notifications(
            start=start, limit=_PAGE, stop=last, topics=topics
        )
        if not notes:
            return
        for note in notes:
            yield note.id, proc.store.mapper.to_domain_event(note)
        start = notes[-1].id + 1


def as_of(proc: Processor, aggregate_id: UUID, at: datetime) -> Any | None:  # noqa: ANN401
    """The aggregate as it stood at `at` (its events up to then replayed), or None."""
    aggregate: Any = None
    domain_event: Any
    for domain_event in proc.store.events.get(aggregate_id):
        if domain_event.timestamp > at:
            break
        aggregate = domain_event.mutate(aggregate)
    return aggregate


def in_period(at: datetime, start: datetime | None, end: datetime | None) -> bool:
    """Whether `at` lies in [start, end); a missing bound is open."""
    return (start is None or at >= start) and (end is None or at < end)
