"""`/v1/users/...`: the staff-registry `users` commands (ACC-1, ACC-2, ACC-3, ACC-8).

`users review`, `unlock`, `staff` and `undertaking`, and your own `policy show` and
`policy acknowledge` (`/v1/users/me/policy`), over the same `StaffService` and
`UsersService` methods as the CLI, as the requesting person: the GDPA reviews and unlocks, the
system manager records staff undertakings, a pending GDPA or manager records their own. The
notes are sealed by the service; they never reach a log or an error.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES

router = APIRouter(prefix="/v1/users", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Day = Annotated[str, Field(max_length=40, description="YYYY-MM-DD")]


class Note(BaseModel):
    """What a review found, or why a lockout is lifted."""

    note: Annotated[str, Field(max_length=10_000)] = ""


class Undertaking(BaseModel):
    """`users undertaking`: when the confidentiality undertaking was signed and training done."""

    confidentiality_signed: Day
    trained: Day


@router.get("/staff", summary="users staff")
def users_staff(rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The registry of processor staff: confidentiality, training, reviews (ACC-1, ACC-3)."""
    with rt.acting(cred, "users staff") as s:
        return {"staff": s.staff.registry()}


@router.get("/me/policy", summary="policy show")
def policy_show(rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The IT-security policy in force and whether you acknowledged it (ACC-15)."""
    with rt.acting(cred, "policy show") as s:
        return s.policy.show()


@router.post("/me/policy/acknowledgement", summary="policy acknowledge")
def policy_acknowledge(rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Acknowledge the IT-security policy in force; staff act again only after it (ACC-15)."""
    with rt.acting(cred, "policy acknowledge") as s:
        return s.policy.acknowledge()


@router.post("/{name}/review", summary="users review")
def users_review(name: str, body: Note, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record a periodic review of a person's authorisation (ACC-2)."""
    with rt.acting(cred, "users review") as s:
        return s.staff.review(name, body.note)


@router.post("/{name}/unlock", summary="users unlock")
def users_unlock(name: str, body: Note, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Lift a lockout after repeated refused attempts (ACC-8)."""
    with rt.acting(cred, "users unlock") as s:
        return s.staff.unlock(name, body.note)


@router.post("/{name}/undertaking", summary="users undertaking")
def users_undertaking(name: str, body: Undertaking, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record a staff member's confidentiality undertaking and training (ACC-1)."""
    with rt.acting(cred, "users undertaking") as s:
        return s.users.record_undertaking(name, body.confidentiality_signed, body.trained)
