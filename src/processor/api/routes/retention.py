"""`/v1/retention/...` and a controller's termination: what is due, the sweep (RET-1 to RET-7).

Thin routes over `desk.retention` and `desk.lifecycle`, the services the `retention` and
`controllers terminate` commands call. The deletion certificate is
`GET /v1/receipts/certificate/{controller}` (`ledger.py`). The standard-format return
(`export --all --out DIR`) is not served: it records `DataReturned`, which lets the sweep delete
under a `return` instruction, and a server cannot know that an answer reached the controller.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.services.validation import iso_datetime

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Short = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Day = Annotated[str | None, Field(default=None, max_length=40, description="YYYY-MM-DD")]


class Sweep(BaseModel):
    """`retention sweep`: up to when, and whether to record anything."""

    at: Annotated[str | None, Field(max_length=40, description="ISO-8601 time")] = None
    dry_run: bool = False


class Termination(BaseModel):
    """`controllers terminate`: the day it ends and the controller's instruction for its data."""

    effective: Annotated[str, Field(max_length=40, description="YYYY-MM-DD")]
    instruction: Literal["delete", "return", "retain"] | None = None
    return_to: Text | None = None
    legal_ground: Text | None = None
    retain_until: Day = None


class Withdrawal(BaseModel):
    """`controllers withdraw-termination --reason`."""

    reason: Text


@router.get("/retention/due", summary="retention due")
def retention_due(
    rt: RuntimeDep,
    cred: CredentialDep,
    at: Annotated[str | None, Query(max_length=40, description="ISO-8601 time")] = None,
) -> Json:
    """What is due for deletion and why: rule, dates, counts (GDPA)."""
    when = iso_datetime(at, "at") if at else None
    with rt.acting(cred, "retention due") as s:
        return s.retention.due(when)


@router.post("/retention/sweep", summary="retention sweep")
def retention_sweep(body: Sweep, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Crypto-shred everything due, in batches; safe to repeat (a rerun finds nothing due)."""
    when = iso_datetime(body.at, "at") if body.at else None
    with rt.acting(cred, "retention sweep") as s:
        return s.retention.sweep(when, dry_run=body.dry_run)


@router.post("/controllers/{controller}/terminate", summary="controllers terminate")
def controllers_terminate(
    controller: str, body: Termination, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record the end of the collaboration and the instruction for the data (RET-1/2/6)."""
    with rt.acting(cred, "controllers terminate") as s:
        return s.lifecycle.terminate(
            controller, body.effective, body.instruction, body.return_to, body.legal_ground,
            body.retain_until,
        )  # fmt: skip


@router.post(
    "/controllers/{controller}/withdraw-termination", summary="controllers withdraw-termination"
)
def controllers_withdraw_termination(
    controller: str, body: Withdrawal, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Withdraw a termination: the collaboration continues, nothing is due."""
    with rt.acting(cred, "controllers withdraw-termination") as s:
        return s.lifecycle.withdraw(controller, body.reason)
