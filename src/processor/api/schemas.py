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


# -- erasure and messages -------------------------------------------------------------------------


class ReceiptRecord(BaseModel):
    """The stored record a receipt proves: its position and the event as stored (base64)."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    state_b64: str


class Receipt(BaseModel):
    """`erase`: the signed receipt, verifiable offline (`receipts verify`, RET-3)."""

    model_config = {"extra": "allow"}

    version: int
    kind: str
    record: ReceiptRecord
    leaf_index: int
    inclusion_proof: builtins.list[str]
    checkpoint: str
    metadata: dict[str, Any]
    signature: str


class MessageRecordedOut(BaseModel):
    """`messages record`: the message recorded for its carrier (`tls`: not transmitted here)."""

    model_config = {"extra": "allow"}

    controller: str
    message_id: str
    contact_id: str
    channel: str
    list: str
    subprocessor: str
    instruction: str
    units: int
    test: bool
    tls: str
    sent_at: str
    content_expires_at: str | None


class MessagesSent(BaseModel):
    """`messages send`: how many went out on the list, and how many each rule skipped."""

    model_config = {"extra": "allow"}

    controller: str
    list: str
    campaign: str | None
    channel: str
    subprocessor: str
    instruction: str
    tls: str
    sent: int
    units: int
    skipped: dict[str, int]
    message_ids: builtins.list[str]


class MessageView(BaseModel):
    """`messages show`: a message; shredded content reads as erased (RET-7)."""

    model_config = {"extra": "allow"}

    message_id: str
    contact_id: str
    channel: str
    subprocessor: str | None
    units: int
    test: bool
    sent_at: str
    content_erased: bool
    subject: str | None
    body: str | None


class HandoffItem(BaseModel):
    """One message as its carrier receives it: id, address and content only (SUB-9)."""

    message_id: str
    channel: str
    to: str
    subject: str | None = None
    body: str | None = None


class Handoff(BaseModel):
    """`messages handoff`: the messages for a carrier, and where to continue."""

    controller: str
    subprocessor: str
    after: int
    next_after: int
    handed_over: int
    fields: builtins.list[str]
    withheld: dict[str, int]
    messages: builtins.list[HandoffItem]
