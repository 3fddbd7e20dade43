"""`/v1/controllers/{controller}/...`: contacts, lists, export and erase (SUBJ-1..6, RET-3).

Each route is the CLI command of the same name over the same service call; only the transport
differs. Imports read the CSV body as it arrives, exports stream as they are written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from processor.api import pages
from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.api.rejects import RejectsCollector
from processor.api.schemas import (
    ContactChanged,
    ContactCreated,
    ContactsPage,
    ContactState,
    ContactView,
    ListPage,
    Receipt,
    Unsubscribed,
)
from processor.api.streams import reading, streamed
from processor.kernel.errors import InvalidInputError
from processor.services.columnmap import parse_maps
from processor.services.profile import typed_fields

if TYPE_CHECKING:
    import io
    from typing import TextIO

router = APIRouter(prefix="/v1/controllers/{controller}", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Text = Annotated[str, Field(max_length=10_000)]


class ContactIn(BaseModel):
    """`contacts add`: a contact with consent (an existing e-mail gets the list and consent)."""

    list: Text
    email: Text
    consent: Text = Field(description="CHANNEL:METHOD[:EVIDENCE], e.g. email:double-opt-in")
    phone: Text | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    fields: dict[str, Text] = Field(default_factory=dict)
    consent_at: Text | None = None


class Rectification(BaseModel):
    """`contacts update`: fields to set (an empty value removes the field)."""

    set: dict[str, Text]


class ListRef(BaseModel):
    """`contacts unsubscribe`: the list to leave."""

    list: Text


class Reason(BaseModel):
    """A reason (sealed with the subject's key)."""

    reason: Text = ""


class Erasure(BaseModel):
    """`erase`: one subject by id or e-mail, and why."""

    contact: Text | None = None
    email: Text | None = None
    reason: Text


@router.post(
    "/contacts", status_code=201, summary="contacts add", responses={201: {"model": ContactCreated}}
)
def contacts_add(
    controller: str, body: ContactIn, rt: RuntimeDep, cred: CredentialDep, response: Response
) -> Json:
    """Add a contact with consent (an existing e-mail gets the list and consent added).

    `Location` names the contact (`contacts show`).
    """
    with rt.acting(cred, "contacts add") as s:
        extra = typed_fields(s.proc.policies.fields, body.fields, "fields")
        given = {"email": body.email, "phone": body.phone, "first_name": body.first_name,
                 "last_name": body.last_name}  # fmt: skip
        both = [k for k, val in given.items() if val is not None and k in extra]
        if both:
            raise InvalidInputError(f"{both[0]} and fields.{both[0]} both give it; give it once")
        added = s.contacts.add(
            controller, body.list, body.email, body.consent, body.phone, body.first_name,
            body.last_name, extra, consent_at=body.consent_at,
        )  # fmt: skip
    response.headers["Location"] = f"/v1/controllers/{controller}/contacts/{added['contact_id']}"
    return added


@router.post(
    "/contacts/import",
    summary="contacts import",
    openapi_extra={
        "requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
    },
)
async def contacts_import(
    controller: str,
    request: Request,
    rt: RuntimeDep,
    cred: CredentialDep,
    list_name: Annotated[str, Query(alias="list", max_length=200)],
    consent_method: Annotated[str, Query(max_length=200)],
    consent_channel: Literal["email", "sms"] = "email",
    maps: Annotated[
        list[str] | None,
        Query(alias="map", max_length=200, description="SOURCE=FIELD (repeatable), as --map"),
    ] = None,
    preset: Annotated[
        Literal["mailchimp", "brevo", "hubspot"] | None,
        Query(description="Another platform's export, as --preset"),
    ] = None,
) -> Json:
    """Import contacts from a CSV body (`text/csv`), read as it arrives.

    `map=Email Address=email` maps another platform's column as `--map` does, over a platform's
    `preset` when one is named. The answer lists each rejected row's line and reason
    (`rejects`), never its cells.
    """

    def work(raw: io.BufferedReader) -> Json:
        with rt.acting(cred, "contacts import") as s:
            columns = parse_maps(maps or (), s.proc.policies.fields.standard)
            rejects = RejectsCollector()
            sink = cast("TextIO", rejects)
            result = s.imports.import_csv(
                controller, raw, list_name, consent_method, consent_channel, sink,
                source="import:http", columns=columns, preset=preset,
            )  # fmt: skip
            return {
                **result.as_dict(),
                "rejects": rejects.rows,
                "rejects_truncated": rejects.truncated,
            }

    data: Json = await reading(request.stream(), work)
    return data


@router.patch(
    "/contacts/{contact}", summary="contacts update", responses={200: {"model": ContactChanged}}
)
def contacts_update(
    controller: str, contact: str, body: Rectification, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Rectify a contact's fields (an empty value removes the field)."""
    with rt.acting(cred, "contacts update") as s:
        given = typed_fields(s.proc.policies.fields, body.set, "set")
        return s.contacts.update(controller, contact, given)


@router.post(
    "/contacts/{contact}/unsubscribe",
    summary="contacts unsubscribe",
    responses={200: {"model": Unsubscribed}},
)
def contacts_unsubscribe(
    controller: str, contact: str, body: ListRef, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Unsubscribe from a list: sending stops, the data stays (SUBJ-3)."""
    with rt.acting(cred, "contacts unsubscribe") as s:
        return s.contacts.unsubscribe(controller, contact, body.list)


@router.post(
    "/contacts/{contact}/{action}",
    summary="contacts restrict|unrestrict|object",
    responses={200: {"model": ContactState}},
)
def contacts_state(
    controller: str,
    contact: str,
    action: Literal["restrict", "unrestrict", "object"],
    body: Reason,
    rt: RuntimeDep,
    cred: CredentialDep,
) -> Json:
    """Restrict processing (Art. 18), lift a restriction, or record an objection (Art. 21)."""
    with rt.acting(cred, f"contacts {action}") as s:
        return s.contacts.set_state(action, controller, contact, body.reason)


@router.get(
    "/contacts",
    summary="contacts find, or the contacts a page at a time",
    responses={200: {"model": ContactView | ContactsPage}},
)
def contacts_find(
    controller: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    email: Annotated[str | None, Query(max_length=1000)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """One contact by e-mail, or without `email` all of them a page at a time.

    With `email` the contact is found through the blind index; without, the controller's
    contacts (not erased) come a page at a time, `next_cursor` fetching the next.
    """
    if email is not None:
        with rt.acting(cred, "contacts find") as s:
            return s.contacts.find(controller, email)
    offset = pages.decode(cursor)
    with rt.acting(cred, "contacts list") as s:
        data = s.contacts.list_contacts(controller, limit, offset)
    found = data.pop("contacts")
    return {**data, **pages.page(found, offset, data["count"])}


@router.get("/contacts/{contact}", summary="contacts show", responses={200: {"model": ContactView}})
def contacts_show(controller: str, contact: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Everything held about one contact."""
    with rt.acting(cred, "contacts show") as s:
        return s.contacts.show(controller, contact)


@router.get("/lists/{list_name}", summary="lists show", responses={200: {"model": ListPage}})
def lists_show(
    controller: str,
    list_name: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """The current members, a page at a time (`next_cursor` fetches the next)."""
    offset = pages.decode(cursor)
    with rt.acting(cred, "lists show") as s:
        data = s.contacts.list_members(controller, list_name, limit, offset)
    members = data.pop("members")
    return {**data, **pages.page(members, offset, data["count"])}


@router.get(
    "/export",
    summary="export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}, "text/csv": {}}}},
)
async def export(
    controller: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    contact: Annotated[str | None, Query(max_length=1000)] = None,
    email: Annotated[str | None, Query(max_length=1000)] = None,
    everything: Annotated[bool, Query(alias="all")] = False,
    data_format: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> StreamingResponse:
    """Export one subject or all contacts (SUBJ-4, SUBJ-6), streamed as it is written."""

    def write(out: TextIO) -> None:
        with rt.acting(cred, "export") as s:
            s.exports.export(
                controller, out, contact=contact, email=email, everything=everything,
                data_format=data_format,
            )  # fmt: skip

    media = "text/csv" if data_format == "csv" else "application/json"
    return await streamed(write, media)


@router.post("/erase", summary="erase", responses={200: {"model": Receipt}})
def erase(controller: str, body: Erasure, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Erase one subject by destroying its key; the answer is the signed receipt (RET-3)."""
    with rt.acting(cred, "erase") as s:
        return s.erasure.erase(controller, body.reason, body.contact, body.email)
