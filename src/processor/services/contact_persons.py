"""Reading a party's contact persons (AUD-5), for the services that name them.

An account recovery tells the controller's contact persons (ACC-9), and the audit shows and
changes them (`processor.audit.contactpersons`). The reading sits here, below both, so that the
recovery does not import the audit: it needs only the party's aggregate id and what the
aggregate holds, the sealed details by role, not the `ContactPersons` class of the audit.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Final, Protocol, runtime_checkable

from processor.domain.ids import PROCESSOR_PARTY, contact_persons_id
from processor.keys import open_records

if TYPE_CHECKING:
    from processor.app import Processor

PURPOSE: Final = "contact-person"


@runtime_checkable
class HoldsPersons(Protocol):
    """What is read of a `ContactPersons` aggregate: each role's sealed details."""

    persons: dict[str, str]


def party_controller(party: str) -> str | None:
    """The controller whose records key seals the party's details (None: the processor's)."""
    return None if party == PROCESSOR_PARTY else party


def persons(proc: Processor, party: str) -> dict[str, dict[str, str]]:
    """A party's contact persons by role, opened (empty when none are recorded)."""
    found = proc.find(contact_persons_id(party))
    if not isinstance(found, HoldsPersons):
        return {}
    controller = party_controller(party)
    shown: dict[str, dict[str, str]] = {}
    for role, sealed in sorted(found.persons.items()):
        text = open_records(proc.sealer, controller, PURPOSE, sealed)
        try:
            shown[role] = dict(json.loads(text))
        except ValueError:
            shown[role] = {"name": text}  # `[erased]` after the controller's data was deleted
    return shown
