"""The shapes of the contact answers, for the OpenAPI document (issue 25: typed responses).

Routes return what the services return (dicts, the same as `--json` prints); these models only
describe them, through each route's `responses`, so a client generated from `/openapi.json`
knows the fields. The schema test (schemathesis) checks the answers against them.
"""

from __future__ import annotations

import builtins
from typing import Any

from pydantic import BaseModel, Field


class ContactCreated(BaseModel):
    """`contacts add`: the contact's id, and whether it was new (else the list was added)."""

    contact_id: str
    created: bool


class Membership(BaseModel):
    """A list the contact is on."""

    subscribed: bool
    since: str
    unsubscribed_at: str | None


class Consent(BaseModel):
    """A consent as recorded (SUBJ-2): when given (as stated) and when recorded."""

    list: str
    channel: str
    method: str
    evidence: str
    given_at: str
    requested_at: str | None = None
    recorded_at: str


class ContactView(BaseModel):
    """Everything held about a contact (`contacts find` / `show`).

    `fields` reads `[erased]` once the contact is erased.
    """

    contact_id: str
    controller: str
    erased: bool
    erased_at: str | None
    fields: dict[str, Any] | str
    field_names: list[str]
    source: str
    added_at: str
    added_by: str
    restricted: bool
    objected: bool
    lists: dict[str, Membership]
    consents: list[Consent]


class ContactSummary(BaseModel):
    """One contact of a page of the controller's contacts."""

    contact_id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    restricted: bool
    objected: bool
    lists: list[str]


class ContactsPage(BaseModel):
    """A page of the controller's live contacts; `next_cursor` fetches the next (None: last)."""

    controller: str
    count: int
    items: list[ContactSummary]
    next_cursor: str | None = Field(default=None)


class ContactChanged(BaseModel):
    """`contacts update`: the fields rectified (names only)."""

    contact_id: str
    changed: list[str]


class Unsubscribed(BaseModel):
    """`contacts unsubscribe`: the list the contact left; its data stays (SUBJ-3)."""

    contact_id: str
    list: str
    subscribed: bool


class ContactState(BaseModel):
    """`contacts restrict|unrestrict|object`: the contact's processing state now."""

    contact_id: str
    restricted: bool
    objected: bool


class ListMember(BaseModel):
    """One current member of a list."""

    contact_id: str
    email: str | None
    first_name: str | None
    last_name: str | None


class ListPage(BaseModel):
    """`lists show`: a page of the list's current members; `next_cursor` fetches the next."""

    controller: str
    list: str
    count: int
    items: builtins.list[ListMember]  # `list` is also a field here
    next_cursor: str | None = None
