"""`ContactAdded` events built directly, without a `Contact` aggregate per row.

An import of 1,000 new contacts needs 1,000 `ContactAdded` events, not 1,000 aggregates: the
aggregate is built only to be thrown away (`Contact.__init__` runs no rule a new contact can
break). Building the event the way `eventsourcing`'s `Aggregate._create` does (same class,
same field values, the created-event attributes it imposes, the timestamp from the clock in
force) stores the same record; `tests/test_bulk_import_identity.py` compares both paths after
decryption, on both backends.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from eventsourcing.utils import get_topic

from processor.domain.contacts import Contact

if TYPE_CHECKING:
    from uuid import UUID

    from processor.kernel.aggregate import ProcessorAggregate


@cache
def _contact_topic() -> str:
    return get_topic(Contact)


def contact_added(
    contact_id: UUID,
    *,
    actor: str,
    controller: str,
    profile: str,
    fields: list[str],
    source: str,
    list_name: str,
    consent: dict[str, Any],
) -> ProcessorAggregate.Event:
    """The event `Contact(id=contact_id, ...)` would record, with values already sealed."""
    event_class: Any = Contact.__dict__["ContactAdded"]  # made by `@event`, unknown to mypy
    added: ProcessorAggregate.Event = event_class(
        originator_topic=_contact_topic(),
        originator_id=contact_id,
        originator_version=Contact.INITIAL_VERSION,
        timestamp=event_class.create_timestamp(),
        actor=actor,
        controller=controller,
        profile=profile,
        fields=fields,
        source=source,
        list_name=list_name,
        consent=consent,
    )
    return added
