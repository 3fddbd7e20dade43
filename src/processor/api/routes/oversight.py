"""`/v1/status` and the duplicate repair: oversight commands over HTTP.

`status` (GDPA, system manager) and `doctor --repair-duplicates` (a controller's administrator,
SUBJ-4) call the same services as the CLI. Where a command's non-zero exit is a signal for cron
(`status` with something to look at, a repair plan not yet confirmed), the answer is 200 and the
body says it (`attention`, `confirmed: false`). `/v1/access/sample`, once here, is now an alias of
the audit route for samples (`routes.audit`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.audit.status import StatusService
from processor.integrity.duplicates import repair_duplicates
from processor.services import validation

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Json = dict[str, Any]


class Repair(BaseModel):
    """`doctor --repair-duplicates [--confirm]`: without `confirm`, only the plan."""

    confirm: bool = False


@router.get("/status", summary="status")
def status(rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The store, its size, the ledger, what is due, and what needs attention (`attention`).

    Unlike the command, a request first catches up with the event log (every request does), so
    read models show as current; a lag between requests is what `processor status` shows.
    """
    with rt.acting(cred, "status") as s:
        return StatusService(s.session).status()


@router.post("/controllers/{controller}/repair-duplicates", summary="doctor --repair-duplicates")
def repair(controller: str, body: Repair, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Merge duplicate live contacts into the oldest; without `confirm`, the plan only."""
    with rt.acting(cred, "doctor repair-duplicates") as s:
        ref = validation.controller_ref(controller)
        return repair_duplicates(s.session, ref, confirm=body.confirm)
