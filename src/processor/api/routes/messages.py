"""`/v1/controllers/{controller}/messages`: the `messages` commands over HTTP.

A send or a one-off record runs the same `MessagesService` as the CLI, as the requesting person,
so the same questions are asked (the sender, the account's limits, the instruction relied on,
the sub-processor's decision, each recipient's consent) and every `MessageRecorded` names the
person and the channel `http`. The content is sealed by the service before any event sees it;
neither the subject nor the body ever reaches a log or an error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.api.schemas import Handoff, MessageRecordedOut, MessagesSent, MessageView

router = APIRouter(prefix="/v1/controllers/{controller}/messages", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Short = Annotated[str, Field(max_length=200)]
Channel = Literal["email", "sms"]
Instruction = Annotated[int | None, Field(default=None, ge=1, le=10**9)]
Subject = Annotated[str | None, Field(default=None, max_length=10_000)]
# The service refuses content over 1 MB itself (`MAX_CONTENT_BYTES`), with the CLI's message.
Body = Annotated[str | None, Field(default=None, max_length=1_100_000)]


class Send(BaseModel):
    """`messages send`: one message on a list (or a named campaign of it) over one channel."""

    list: Short
    channel: Channel
    campaign: Short | None = None
    via: Short | None = None
    instruction: Instruction = None
    subject: Subject = None
    body: Body = None


class Record(BaseModel):
    """`messages record`: one message to one contact (its id or e-mail), e.g. a test."""

    contact: Short
    channel: Channel
    list: Short | None = None
    test: bool = False
    via: Short | None = None
    instruction: Instruction = None
    subject: Subject = None
    body: Body = None


@router.post("", status_code=201, summary="messages send", responses={201: {"model": MessagesSent}})
def messages_send(controller: str, body: Send, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Send on a list: only to subscribed contacts whose consent covers the channel."""
    with rt.acting(cred, "messages send") as s:
        return s.messages.send(
            controller, body.list, body.channel, body.subject, body.body,
            campaign=body.campaign, via=body.via, instruction=body.instruction,
        )  # fmt: skip


@router.post(
    "/record",
    status_code=201,
    summary="messages record",
    responses={201: {"model": MessageRecordedOut}},
)
def messages_record(
    controller: str, body: Record, rt: RuntimeDep, cred: CredentialDep, response: Response
) -> Json:
    """Record one message to one contact, under the same rules as a send (`Location`: it)."""
    with rt.acting(cred, "messages record") as s:
        recorded = s.messages.record(
            controller, body.contact, body.channel, body.subject, body.body,
            list_name=body.list, via=body.via, instruction=body.instruction, test=body.test,
        )  # fmt: skip
    response.headers["Location"] = f"/v1/controllers/{controller}/messages/{recorded['message_id']}"
    return recorded


@router.get("/usage", summary="messages usage")
def messages_usage(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The account's usage as the terms count it (SUBJ-7)."""
    with rt.acting(cred, "messages usage") as s:
        return s.messages.usage(controller)


@router.get("/handoff", summary="messages handoff", responses={200: {"model": Handoff}})
def messages_handoff(
    controller: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    via: Annotated[str, Query(max_length=200)],
    after: Annotated[int, Query(ge=0, le=10**12)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> Json:
    """Recorded messages for their carrier: address and content only (SUB-9, logged).

    Served only over TLS or on loopback, as every route (ACC-17).
    """
    with rt.acting(cred, "messages handoff") as s:
        return s.handoff.handoff(controller, via, after=after, limit=limit)


@router.get("/{message}", summary="messages show", responses={200: {"model": MessageView}})
def messages_show(controller: str, message: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """One message; shredded content reads as erased (RET-7)."""
    with rt.acting(cred, "messages show") as s:
        return s.messages.show(controller, message)


@router.post("/{message}/bounce", summary="messages bounce")
def messages_bounce(controller: str, message: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record that a message bounced; it still counts as sent (SUBJ-7)."""
    with rt.acting(cred, "messages bounce") as s:
        return s.messages.bounce(controller, message)
