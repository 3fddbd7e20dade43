"""`/v1/notices` and `/v1/subprocessors`: what the processor tells controllers, and objections."""

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


class Objection(BaseModel):
    """`subprocessors object`: the objecting controller and its reason (SUB-3)."""

    controller: Text
    reason: Text


@router.get("/notices", summary="notices")
def notices(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
    unacknowledged: bool = False,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """Notices to controllers, oldest first (a controller's users see their own only)."""
    with rt.acting(cred, "notices") as s:
        rows = s.notices.list(controller, unacknowledged=unacknowledged)
    return pages.cut(rows, cursor, limit)


@router.post("/notices/{notice_id}/ack", summary="notices ack")
def notices_ack(notice_id: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record that the controller read the notice (once)."""
    with rt.acting(cred, "notices ack") as s:
        return s.notices.ack(notice_id)


@router.get("/subprocessors", summary="subprocessors list")
def subprocessors_list(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
    at: Annotated[str | None, Query(max_length=40, description="ISO-8601 time")] = None,
) -> Json:
    """The registry (staff), or one controller's approved and proposed sub-processors."""
    with rt.acting(cred, "subprocessors list") as s:
        return s.subprocessors.listing(controller, iso_datetime(at, "at") if at else None)


@router.post("/subprocessors/{name:path}/object", summary="subprocessors object")
def subprocessors_object(name: str, body: Objection, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """A controller objects to a proposed sub-processor during its notice period (SUB-3)."""
    with rt.acting(cred, "subprocessors object") as s:
        return s.subprocessors.object_to(name, body.controller, body.reason)
