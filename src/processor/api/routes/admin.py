"""`/v1/users` and `/v1/controllers`: user and controller administration, agreements, instructions.

Each route is the `users` / `controllers` command of the same name, over the same services and
the same rules: processor staff change a controller's users only on the controller's recorded
request (`request`, ACC-13), a request only its own administrator records, and a controller's
administrator changes only its own users. An administrator cancels an account recovery here; the
recovery's staff side (start, approve, complete) is command-line only. A new credential is in
the answer only; the server forgets its text once the answer is built (ACC-12).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES

if TYPE_CHECKING:
    from processor.desk import Desk

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Short = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Day = Annotated[str | None, Field(default=None, max_length=40, description="YYYY-MM-DD")]
Request = Annotated[int | None, Field(default=None, ge=1, le=10**9)]
Edition = Literal["scc", "dpa-2018"]


def _forget(s: Desk, *names: str | None) -> None:
    """Drop issued credential texts from the process: the answer is their only copy."""
    for name in names:
        if name:
            s.proc.issued.pop(name, None)


class NewUser(BaseModel):
    """`users add`: a person with one role and a personal credential."""

    name: Short
    role: Short
    controller: Short | None = None
    confidentiality_signed: Day = None
    trained: Day = None
    request: Request = None


class Revocation(BaseModel):
    """`users revoke`: why, and the controller's request it carries out (ACC-13)."""

    reason: Text
    request: Request = None


class NewController(BaseModel):
    """`controllers register`: a controller on an agreement edition, with its administrator."""

    controller_id: Short
    name: Short
    country: Short
    account: Literal["demo", "freemium", "paying"]
    agreement: Edition
    cvr: Short | None = None
    admin: Short | None = None


class Instruction(BaseModel):
    """`controllers instruct`: a documented instruction of the controller (INSTR-1)."""

    kind: Short
    text: Text
    country: Short | None = None
    basis: Short | None = None
    change: Literal["add", "revoke", "credential"] | None = None
    user: Short | None = None
    role: Short | None = None
    account: Literal["freemium", "paying"] | None = None
    case: Short | None = None  # kind support-request: the support case it opens (ACC-4)


class SignedAgreement(BaseModel):
    """`controllers agreement`: the signed text (only its SHA-256 is kept) and signatories."""

    edition: Edition
    signed_on: Annotated[str, Field(max_length=40, description="YYYY-MM-DD")]
    text: Annotated[str, Field(max_length=5_000_000, description="The signed text (UTF-8)")]
    processor_signatory: Short
    controller_signatory: Short


class EditionRef(BaseModel):
    """`controllers accept --edition`."""

    edition: Edition


class Reason(BaseModel):
    """Why (flagging an instruction)."""

    reason: Text


class LegalRequirement(BaseModel):
    """`controllers legal-requirement --text`."""

    text: Text


class Upgrade(BaseModel):
    """`controllers upgrade`: the account, and the controller's upgrade request (RET-4)."""

    account: Literal["freemium", "paying"]
    request: Request = None


@router.post("/users", status_code=201, summary="users add")
def users_add(body: NewUser, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Add a user with one role and a personal credential (in this answer only)."""
    with rt.acting(cred, "users add") as s:
        try:
            return s.users.add(
                body.name, body.role, body.controller, body.confidentiality_signed,
                body.trained, request=body.request,
            )  # fmt: skip
        finally:
            _forget(s, body.name)


@router.get("/users", summary="users list")
def users_list(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
) -> Json:
    """Users (a controller's users see only their own controller's)."""
    with rt.acting(cred, "users list") as s:
        return {"users": s.users.list(controller)}


@router.post("/users/{name}/revoke", summary="users revoke")
def users_revoke(name: str, body: Revocation, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Withdraw a user's access from now on: their credential and grants die (ACC-2)."""
    with rt.acting(cred, "users revoke") as s:
        return s.staff.revoke(name, body.reason, request=body.request)


@router.post("/controllers", status_code=201, summary="controllers register")
def controllers_register(
    body: NewController, rt: RuntimeDep, cred: CredentialDep, response: Response
) -> Json:
    """Register a controller on an agreement edition, with its first administrator."""
    with rt.acting(cred, "controllers register") as s:
        try:
            registered = s.controllers.register(
                body.controller_id, body.name, body.country, body.account, body.agreement,
                body.cvr, body.admin,
            )  # fmt: skip
        finally:
            _forget(s, body.admin)
    response.headers["Location"] = f"/v1/controllers/{body.controller_id}"
    return registered


@router.get("/controllers/{controller}", summary="controllers show")
def controllers_show(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """A controller's account, agreement terms, instructions and counts."""
    with rt.acting(cred, "controllers show") as s:
        return s.controllers.show(controller)


@router.post(
    "/controllers/{controller}/instructions", status_code=201, summary="controllers instruct"
)
def controllers_instruct(
    controller: str, body: Instruction, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record a documented instruction of the controller (INSTR-1)."""
    given = {"country": body.country, "basis": body.basis, "change": body.change,
             "user": body.user, "role": body.role, "account": body.account,
             "case": body.case}  # fmt: skip
    details = {key: value for key, value in given.items() if value is not None}
    with rt.acting(cred, "controllers instruct") as s:
        return s.controllers.instruct(controller, body.kind, body.text, details)


@router.post(
    "/controllers/{controller}/instructions/{number}/flag", summary="controllers flag-instruction"
)
def controllers_flag_instruction(
    controller: str, number: int, body: Reason, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Flag an instruction as infringing the law and tell the controller (GDPA, INSTR-2)."""
    with rt.acting(cred, "controllers flag-instruction") as s:
        return s.agreements.flag(controller, number, body.reason)


@router.post(
    "/controllers/{controller}/instructions/{number}/confirm",
    summary="controllers confirm-instruction",
)
def controllers_confirm_instruction(
    controller: str, number: int, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Confirm a flagged instruction (controller administrator): processing on it may go on."""
    with rt.acting(cred, "controllers confirm-instruction") as s:
        return s.agreements.settle(controller, number, confirm=True)


@router.post(
    "/controllers/{controller}/instructions/{number}/withdraw",
    summary="controllers withdraw-instruction",
)
def controllers_withdraw_instruction(
    controller: str, number: int, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Withdraw a flagged instruction (controller administrator): nothing relies on it."""
    with rt.acting(cred, "controllers withdraw-instruction") as s:
        return s.agreements.settle(controller, number, confirm=False)


@router.post(
    "/controllers/{controller}/agreement", status_code=201, summary="controllers agreement"
)
def controllers_agreement(
    controller: str, body: SignedAgreement, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record a signed agreement (INSTR-5); a later one waits for the controller's acceptance."""
    text = body.text.encode("utf-8")
    with rt.acting(cred, "controllers agreement") as s:
        return s.agreements.record(
            controller, body.edition, body.signed_on, text, body.processor_signatory,
            body.controller_signatory,
        )  # fmt: skip


@router.post("/controllers/{controller}/accept", summary="controllers accept")
def controllers_accept(
    controller: str, body: EditionRef, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Accept the pending amendment (controller administrator): its terms apply from now."""
    with rt.acting(cred, "controllers accept") as s:
        return s.agreements.accept(controller, body.edition)


@router.post("/controllers/{controller}/legal-requirement", summary="controllers legal-requirement")
def controllers_legal_requirement(
    controller: str, body: LegalRequirement, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record and tell the controller of a legally required processing, before it (INSTR-6)."""
    with rt.acting(cred, "controllers legal-requirement") as s:
        return s.agreements.legal_requirement(controller, body.text)


@router.post("/controllers/{controller}/upgrade", summary="controllers upgrade")
def controllers_upgrade(
    controller: str, body: Upgrade, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Upgrade the account on the controller's request (system manager); its data is kept."""
    with rt.acting(cred, "controllers upgrade") as s:
        return s.agreements.upgrade(controller, body.account, body.request)


class RecoveryCancel(BaseModel):
    """`controllers recovery cancel`: why, optionally (kept sealed)."""

    reason: Annotated[str, Field(default="", max_length=500)] = ""


@router.get("/controllers/{controller}/recoveries", summary="controllers recovery list")
def controllers_recovery_list(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The controller's account recoveries (its administrators, the GDPA, the system manager)."""
    with rt.acting(cred, "controllers recovery list") as s:
        return {"recoveries": s.recovery.list(controller)}


@router.post(
    "/controllers/{controller}/recoveries/{number}/cancel", summary="controllers recovery cancel"
)
def controllers_recovery_cancel(
    controller: str, number: int, body: RecoveryCancel, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Cancel an open account recovery (ACC-13): any administrator of the controller, or the GDPA.

    The staff side of a recovery (start, approve, complete) is on the command line only.
    """
    with rt.acting(cred, "controllers recovery cancel") as s:
        return s.recovery.cancel(controller, number, body.reason)
