"""Stable aggregate ids derived from names people type (controller ids, user names)."""

from __future__ import annotations

from typing import Final
from uuid import UUID, uuid5

# The party name of the processor itself, beside the controllers' public ids (AUD-5).
PROCESSOR_PARTY: Final = "processor"

_NAMESPACE = UUID("6f1c0b51-8d0e-4c55-9f3c-2a7f0d9e4b11")
# The audit facts' own namespace (their aggregates are in `processor.audit.events`).
_AUDIT_NAMESPACE = UUID("0b8f4f7e-6a53-4c59-8d1e-5f3d0a6c2e71")


def store_id() -> UUID:
    """The one store aggregate of a data directory."""
    return uuid5(_NAMESPACE, "store")


def controller_id(ref: str) -> UUID:
    """A controller's aggregate id from its public id (e.g. `acme`)."""
    return uuid5(_NAMESPACE, f"controller:{ref}")


def user_id(name: str) -> UUID:
    """A user's aggregate id from the user name (names are unique across the processor)."""
    return uuid5(_NAMESPACE, f"user:{name}")


def contact_persons_id(party: str) -> UUID:
    """The contact-person aggregate of a party: `processor`, or a controller's public id.

    Here rather than beside `ContactPersons`, so that reading a party's contact persons
    (`processor.services.contact_persons`) needs nothing of the audit package.
    """
    return uuid5(_AUDIT_NAMESPACE, f"contact-persons:{party}")
