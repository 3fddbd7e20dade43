"""Stable aggregate ids derived from names people type (controller ids, user names)."""

from __future__ import annotations

from uuid import UUID, uuid5

_NAMESPACE = UUID("6f1c0b51-8d0e-4c55-9f3c-2a7f0d9e4b11")


def store_id() -> UUID:
    """The one store aggregate of a data directory."""
    return uuid5(_NAMESPACE, "store")


def controller_id(ref: str) -> UUID:
    """A controller's aggregate id from its public id (e.g. `acme`)."""
    return uuid5(_NAMESPACE, f"controller:{ref}")


def user_id(name: str) -> UUID:
    """A user's aggregate id from the user name (names are unique across the processor)."""
    return uuid5(_NAMESPACE, f"user:{name}")
