"""The change log (ACC-10): every creation, change and deletion, with its actor and time.

Read from the ledger-covered event store itself: every event is a change to one aggregate.
An entry says which aggregate, which event, whether it created, changed or deleted something,
who did it, through which channel, when, and which fields the event carries. Never a field's
value: values may be personal data (sealed or not), and the log is for an auditor.

Which controller an entry concerns is learnt from the events as they pass: an aggregate
whose creation names a controller (a contact, a grant, a message) belongs to it from then on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from processor.audit.reading import in_period, stored_events
from processor.domain.ids import controller_id

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from processor.app import Processor

CREATED: Final = "created"
CHANGED: Final = "changed"
DELETED: Final = "deleted"
# Attributes every event has: they are the entry's own columns, not changed fields.
_ENVELOPE: Final = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "actor",
        "channel",
        "os_account",
    }
)
_DELETION: Final = re.compile(r"(Erased|Deleted|Removed|Retired|Revoked|Shredded|Destroyed)$")


def action_of(event: Any) -> str:  # noqa: ANN401 - any stored event
    """Whether the event created, deleted or changed its aggregate."""
    if event.originator_version == 1:
        return CREATED
    if _DELETION.search(type(event).__name__):
        return DELETED
    return CHANGED


def fields_of(event: Any) -> list[str]:  # noqa: ANN401
    """The names of the fields the event sets, never their values."""
    return sorted(k for k in vars(event) if k not in _ENVELOPE and not k.startswith("_"))


def _owner(event: Any) -> str | None:  # noqa: ANN401
    """The controller an event names, if any (by attribute, never by value inspection)."""
    for attr in ("controller", "controller_id"):
        value = getattr(event, attr, None)
        if isinstance(value, str) and value:
            return value
    return None


def change_log(
    proc: Processor,
    *,
    controller: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    actor: str | None = None,
) -> list[dict[str, Any]]:
    """Every change in log order, filtered by controller, period and actor."""
    owners: dict[UUID, str] = {}
    entries: list[dict[str, Any]] = []
    for position, event in stored_events(proc):
        qualname = type(event).__qualname__
        aggregate, _, name = qualname.rpartition(".")
        ref = getattr(event, "ref", None)
        if aggregate == "Controller" and isinstance(ref, str):
            owners[event.originator_id] = ref
        named = _owner(event)
        if named is not None and event.originator_id not in owners:
            owners[event.originator_id] = named
        concerns = named or owners.get(event.originator_id)
        who = getattr(event, "actor", None) or "system"
        if controller is not None and concerns != controller:
            continue
        if actor is not None and who != actor:
            continue
        if not in_period(event.timestamp, start, end):
            continue
        entries.append(
            {
                "position": position,
                "at": event.timestamp.isoformat(),
                "action": action_of(event),
                "aggregate": aggregate or name,
                "aggregate_id": str(event.originator_id),
                "version": event.originator_version,
                "event": name,
                "actor": who,
                "channel": getattr(event, "channel", None),
                "controller": concerns,
                "fields": fields_of(event),
            }
        )
    return entries


def is_controller_aggregate(aggregate_id: UUID, ref: str) -> bool:
    """Whether the id is the controller aggregate of `ref` (for callers that hold only ids)."""
    return aggregate_id == controller_id(ref)
