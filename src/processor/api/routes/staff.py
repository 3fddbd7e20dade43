"""`/v1/support/...` and `/v1/access/...`: pseudonymised views, grants, approvals, reveals.

Support staff see pseudonyms only; to see a person they ask for a grant that the controller
approves, and every reveal is an event (ACC-5, ACC-6). A support user cannot approve: the same
role policy as the CLI refuses it, with the rule's name.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from processor.api import pages
from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.services.validation import iso_datetime

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Text = Annotated[str, Field(max_length=10_000)]
Name = Annotated[str | None, Query(max_length=200)]


class GrantRequest(BaseModel):
    """`access request`: a reasoned, time-limited request to see named contacts."""

    controller: Text
    reason: Text
    contacts: list[Text] = Field(default_factory=list, max_length=1000)
    hours: int | None = Field(default=None, ge=1, le=24 * 365)


class Reason(BaseModel):
    """Why (a denial or a revocation)."""

    reason: Text = ""


class Reveal(BaseModel):
    """`access reveal`: the pseudonym to reveal under the grant."""

    pseudonym: Text


@router.post("/users/{name}/credential", summary="users credential --rotate")
def users_credential(
    name: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    request: Annotated[int | None, Query(ge=1, le=10**9)] = None,
) -> Json:
    """Replace a credential (one's own, or a user's one administers); the old one dies at once.

    The new credential is in this answer only: it is stored as a digest, and the server forgets
    the text as soon as the answer is built (ACC-12, ACC-13). Processor staff replacing a
    controller user's credential cite the controller's user-request instruction (`request`).
    """
    with rt.acting(cred, "users credential") as s:
        try:
            return s.users.rotate_credential(name, request=request)
        finally:
            s.proc.issued.pop(name, None)


@router.get("/controllers/{controller}/support-view", summary="support view")
def support_view(
    controller: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    case: Annotated[str, Query(min_length=1, max_length=80)],
    reason: Annotated[str, Query(min_length=1, max_length=1000)],
    list_name: Annotated[str | None, Query(alias="list", max_length=200)] = None,
    pseudonym: Name = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """Contacts by pseudonym with non-identifying facts only (ACC-5).

    Only for the controller's open support `case`, with a `reason`; both are logged (ACC-4,
    ACC-6).
    """
    offset = pages.decode(cursor)
    with rt.acting(cred, "support view") as s:
        data = s.access.support_view(
            controller, list_name, pseudonym, limit=offset + limit, case=case, reason=reason
        )
    rows = data.pop("contacts")
    return {**data, **pages.page(rows[offset:], offset, data["count"])}


@router.post("/controllers/{controller}/support-cases/close", summary="support close")
def support_close(
    controller: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    case: Annotated[str, Query(min_length=1, max_length=80)],
) -> Json:
    """Close the controller's open support case (its administrator, or the processor's support)."""
    with rt.acting(cred, "support close") as s:
        return s.access.close_case(controller, case)


@router.post("/access", status_code=201, summary="access request")
def access_request(body: GrantRequest, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Ask for a time-limited grant to see named contacts, with a reason."""
    with rt.acting(cred, "access request") as s:
        return s.access.request(body.controller, body.reason, list(body.contacts), body.hours)


@router.post("/access/{grant}/approve", summary="access approve")
def access_approve(grant: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The controller approves a grant (support staff never can)."""
    with rt.acting(cred, "access approve") as s:
        return s.access.decide(grant, approve=True)


@router.post("/access/{grant}/deny", summary="access deny")
def access_deny(grant: str, body: Reason, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The controller denies a grant."""
    with rt.acting(cred, "access deny") as s:
        return s.access.decide(grant, approve=False, reason=body.reason)


@router.post("/access/{grant}/revoke", summary="access revoke")
def access_revoke(grant: str, body: Reason, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """End a grant before its time."""
    with rt.acting(cred, "access revoke") as s:
        return s.access.revoke(grant, body.reason)


@router.post("/access/{grant}/reveal", summary="access reveal")
def access_reveal(grant: str, body: Reveal, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Reveal one contact under an active grant; the reveal is logged (ACC-6)."""
    with rt.acting(cred, "access reveal") as s:
        return s.access.reveal(grant, body.pseudonym)


@router.get("/access/log", summary="access log")
def access_log(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Name = None,
    staff: Name = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO-8601 time")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO-8601 time")] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """Reveals, grants, views and refused attempts (administrators: their own data only)."""
    with rt.acting(cred, "access log") as s:
        rows = s.access.log(
            controller,
            staff,
            iso_datetime(since, "since") if since else None,
            iso_datetime(until, "until") if until else None,
        )
    return pages.cut(rows, cursor, limit)
