"""`/v1/subprocessors/...`: the registry's change workflow, its check and the outbox (SUB-1..7).

Each route is the `subprocessors` command of the same name over `desk.subprocessors`
(`list` and `object` are in `notices.py`, `challenge` in `audit.py`). Names may hold a `/`
(`Team.Blue Denmark A/S`), so `{name}` takes the rest of the path before the action. `check`
answers 200 with its findings: the command's exit 1 on findings is for cron, an HTTP client
reads `findings`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from processor.api import pages
from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.services.validation import iso_date, iso_datetime
from subprocessors import SubProcessorDetails

router = APIRouter(prefix="/v1/subprocessors", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Short = Annotated[str, Field(max_length=200)]
Text = Annotated[str, Field(max_length=10_000)]
Day = Annotated[str | None, Field(default=None, max_length=40, description="YYYY-MM-DD")]
NameQ = Annotated[str | None, Query(max_length=200)]
AtQ = Annotated[str | None, Query(max_length=40, description="ISO-8601 time")]


def _day(value: str | None, what: str) -> date | None:
    return date.fromisoformat(iso_date(value, what)) if value is not None else None


class Entry(BaseModel):
    """The registry fields of `subprocessors add` and `propose` (SUB-1, SUB-5)."""

    name: Short
    country: Short
    activities: list[Short] = Field(min_length=1, max_length=50)
    basis: Short
    registration: Short | None = None
    address: Text | None = None
    data_locations: list[Short] = Field(default_factory=list, max_length=50)
    agreement_ref: Short | None = None
    agreement_date: Day = None
    beneficiary_clause: bool | None = None

    def details(self, name: str) -> SubProcessorDetails:
        """The service's value object, as the command builds it."""
        return SubProcessorDetails(
            name=name, address=self.address or "", country=self.country,
            activities=tuple(a.strip() for a in self.activities if a.strip()), basis=self.basis,
            registration=self.registration or "", data_locations=tuple(self.data_locations),
            agreement_ref=self.agreement_ref or "",
            agreement_date=_day(self.agreement_date, "agreement_date"),
            beneficiary_clause=self.beneficiary_clause,
        )  # fmt: skip


class Addition(Entry):
    """`subprocessors add`: which editions' lists, from when."""

    editions: list[Short] = Field(default_factory=list, max_length=20)
    listed_from: Day = None


class Proposal(Entry):
    """`subprocessors propose`: an added or a replacing sub-processor."""

    replaces: Short | None = None


class Retirement(BaseModel):
    """`subprocessors retire --reason`."""

    reason: Text = "withdrawn from the registry"


class Agreement(BaseModel):
    """`subprocessors agreement`: the signed sub-processor agreement (SUB-5)."""

    ref: Short
    date: Day = None
    beneficiary_clause: bool = False
    text: Text


class Supervision(BaseModel):
    """`subprocessors supervise`: how it was supervised and what was found (SUB-7)."""

    method: Short
    finding: Text
    date: Day = None


@router.get("/check", summary="subprocessors check")
def subprocessors_check(
    rt: RuntimeDep, cred: CredentialDep, controller: NameQ = None, at: AtQ = None
) -> Json:
    """Every broken rule, as of now or `at` (a controller's users: always their own)."""
    when = iso_datetime(at, "at") if at else None
    with rt.acting(cred, "subprocessors check") as s:
        return s.subprocessors.check(controller, when)


@router.get("/outbox", summary="subprocessors outbox")
def subprocessors_outbox(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: NameQ = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """Pending notices of rectification, erasure and restriction to recipients (SUBJ-5)."""
    with rt.acting(cred, "subprocessors outbox") as s:
        result = s.subprocessors.outbox(controller)
    return {"controller": result["controller"], **pages.cut(result["pending"], cursor, limit)}


@router.post("/outbox/{entry}/ack", summary="subprocessors outbox ack")
def subprocessors_outbox_ack(
    entry: str, rt: RuntimeDep, cred: CredentialDep, controller: NameQ = None
) -> Json:
    """Record that the recipient confirmed one outbox entry."""
    with rt.acting(cred, "subprocessors outbox ack") as s:
        return s.subprocessors.acknowledge(entry, controller)


@router.post("", status_code=201, summary="subprocessors add")
def subprocessors_add(body: Addition, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Enter a sub-processor on approved lists, for controllers who sign from now on (SUB-1)."""
    details = body.details(body.name)
    listed = _day(body.listed_from, "listed_from")
    with rt.acting(cred, "subprocessors add") as s:
        return s.subprocessors.add(details, editions=tuple(body.editions), listed_from=listed)


@router.post("/propose", status_code=201, summary="subprocessors propose")
def subprocessors_propose(body: Proposal, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Propose an added or replacing sub-processor: written notice to each affected controller."""
    details = body.details(body.name)
    with rt.acting(cred, "subprocessors propose") as s:
        return s.subprocessors.propose(details, replaces=body.replaces)


@router.post("/{name:path}/engage", summary="subprocessors engage")
def subprocessors_engage(name: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Engage a proposed sub-processor after notice, with its agreement kept (SUB-2, SUB-5)."""
    with rt.acting(cred, "subprocessors engage") as s:
        return s.subprocessors.engage(name)


@router.post("/{name:path}/retire", summary="subprocessors retire")
def subprocessors_retire(name: str, body: Retirement, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Take a sub-processor off every list."""
    with rt.acting(cred, "subprocessors retire") as s:
        return s.subprocessors.retire(name, body.reason)


@router.get("/{name:path}/agreement", summary="subprocessors agreement-copy")
def subprocessors_agreement_copy(
    name: str, rt: RuntimeDep, cred: CredentialDep, controller: NameQ = None
) -> Json:
    """The sub-processor agreement and its amendments as kept, for its controllers (SUB-9)."""
    with rt.acting(cred, "subprocessors agreement-copy") as s:
        return s.subprocessors.agreement_copy(name, controller)


@router.post("/{name:path}/agreement", summary="subprocessors agreement")
def subprocessors_agreement(
    name: str, body: Agreement, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record the sub-processor agreement, so a copy can be produced on request (SUB-5)."""
    signed = _day(body.date, "date")
    with rt.acting(cred, "subprocessors agreement") as s:
        return s.subprocessors.record_agreement(
            name,
            body.ref,
            agreement_date=signed,
            beneficiary_clause=body.beneficiary_clause,
            text=body.text.encode(),
        )


@router.post("/{name:path}/supervise", status_code=201, summary="subprocessors supervise")
def subprocessors_supervise(
    name: str, body: Supervision, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Document a supervision of a sub-processor and its finding (SUB-7)."""
    on = _day(body.date, "date")
    with rt.acting(cred, "subprocessors supervise") as s:
        return s.subprocessors.supervise(name, body.method, body.finding, on)
