"""`/v1/audit/...`, contact persons and supervision challenges: the GDPA's audit work over HTTP.

Each route is the `audit` command of the same name (ACC-7, SUB-8 samples; ACC-10 changes;
AUD-3 record; AUD-2/SUB-7 controller pack; SUBJ-9 DPIA pack; SUBJ-10
inform pack; AUD-6 reviews; AUD-5 contact
persons; SUB-7 challenges), calling the same service under the same policy. Like the commands'
output, answers hold ids, kinds, field names and counts, never a data subject's values.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from processor.api import pages
from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.audit import record, reviews
from processor.audit.challenges import ChallengesService
from processor.audit.changes import change_log
from processor.audit.contactpersons import ContactPersonsService
from processor.audit.inform import inform_pack
from processor.audit.packs import controller_pack, dpia_pack
from processor.audit.samples import SamplesService
from processor.domain.ids import PROCESSOR_PARTY
from processor.services.validation import iso_date, iso_datetime

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Text = Annotated[str, Field(max_length=10_000)]
Short = Annotated[str, Field(max_length=200)]
Day = Annotated[str | None, Field(default=None, max_length=40, description="YYYY-MM-DD")]
TimeQ = Annotated[str | None, Query(max_length=40, description="ISO-8601 time")]
Role = Literal["representative", "data-protection", "security"]


def _when(value: str | None, what: str) -> datetime | None:
    return iso_datetime(value, what) if value is not None else None


def _day(value: str | None, what: str) -> date | None:
    return date.fromisoformat(iso_date(value, what)) if value is not None else None


class Draw(BaseModel):
    """`audit sample`: how many entries, of which population, from when to when.

    Unknown fields are refused (422): the route is also `/v1/access/sample`, whose older body
    had `since`, and a period silently dropped would sample the whole log instead.
    """

    model_config = ConfigDict(extra="forbid")
    size: int | None = Field(default=None, ge=1, le=10_000)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    start: Annotated[str | None, Field(alias="from", max_length=40)] = None
    end: Annotated[str | None, Field(alias="to", max_length=40)] = None
    of: Literal["staff", "subprocessors", "user-changes"] = "staff"


class EntryReview(BaseModel):
    """`audit review`: the GDPA's finding on one entry of a sample."""

    entry: Short
    finding: Literal["ok", "deviation"]
    note: Text


class ReviewRecord(BaseModel):
    """`audit risk-review` / `policy-review`: what the review found, and when the next is due."""

    text: Text
    next: Day = None


class Person(BaseModel):
    """A contact person for a role (AUD-5)."""

    name: Short
    email: Short
    phone: Short | None = None


class Challenge(BaseModel):
    """`subprocessors challenge`: why the supervision does not convince."""

    reason: Text
    supervision: Day = None
    new_audit: bool = True


@router.post("/audit/samples", status_code=201, summary="audit sample")
def audit_sample(body: Draw, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Draw a random sample of access events, check each entry, record it (ACC-7, SUB-8)."""
    start, end = _when(body.start, "from"), _when(body.end, "to")
    with rt.acting(cred, "audit sample") as s:
        return SamplesService(s.session).draw(body.size, body.seed, start, end, of=body.of)


# `access sample` is an alias of `audit sample` on the command line; its route is the same
# handler, so the two answer alike (same body, same answer, same `AuditSampleDrawn`). A 308
# redirect would fit too, but no route of this API redirects and clients would pay a round trip.
router.add_api_route(
    "/access/sample",
    audit_sample,
    methods=["POST"],
    status_code=201,
    summary="access sample",
    description="Alias of `POST /v1/audit/samples` (`audit sample`, ACC-7, SUB-8).",
    operation_id="access_sample_v1_access_sample_post",
)


@router.get("/audit/samples", summary="audit samples")
def audit_samples(rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Recorded samples, what is unreviewed, and when the next sample is due."""
    with rt.acting(cred, "audit samples") as s:
        return SamplesService(s.session).list()


@router.post("/audit/samples/{sample}/review", summary="audit review")
def audit_review(sample: str, body: EntryReview, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record the GDPA's finding on one entry of a sample (ACC-7)."""
    with rt.acting(cred, "audit review") as s:
        return SamplesService(s.session).review(sample, body.entry, body.finding, body.note)


@router.get("/audit/changes", summary="audit changes")
def audit_changes(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=pages.MAX_LIMIT)] = pages.DEFAULT_LIMIT,
) -> Json:
    """Every creation, change and deletion with actor, time and fields changed (ACC-10)."""
    first, last = _when(start, "from"), _when(end, "to")
    with rt.acting(cred, "audit changes") as s:
        user = s.authorize("audit.read", command="audit changes", controller=controller)
        # A controller's administrator reads its own controller's changes only (as the command).
        scope = user.controller or controller
        if scope is not None:
            s.controllers.get(scope)
        rows = change_log(s.proc, controller=scope, start=first, end=last, actor=actor)
    return pages.cut(rows, cursor, limit)


RECORD_MEDIA = {
    "json": "application/json",
    "markdown": "text/markdown",
    "dpv": "application/ld+json",
}


@router.get(
    "/audit/record",
    summary="audit record",
    response_class=Response,
    responses={200: {"content": {m: {} for m in RECORD_MEDIA.values()}}},
)
def audit_record(
    rt: RuntimeDep,
    cred: CredentialDep,
    fmt: Annotated[Literal["json", "markdown", "dpv"], Query(alias="format")] = "markdown",
) -> Response:
    """The Art. 30(2) record of processing for every controller (AUD-3); dpv: W3C DPV JSON-LD."""
    with rt.acting(cred, "audit record") as s:
        data = record.build(s.session)
    if fmt == "dpv":
        text = json.dumps(record.as_dpv(data), indent=2, ensure_ascii=False)
    elif fmt == "json":
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    else:
        text = record.as_markdown(data)
    return Response(content=text, media_type=RECORD_MEDIA[fmt])


@router.get("/audit/controller-pack/{controller}", summary="audit controller-pack")
def audit_controller_pack(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The controller's information pack, free of charge (AUD-2, SUB-7)."""
    with rt.acting(cred, "audit controller-pack") as s:
        return controller_pack(s.session, controller)


@router.get("/audit/dpia-pack/{controller}", summary="audit dpia-pack")
def audit_dpia_pack(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """What the controller needs for its impact assessment and prior consultation (SUBJ-9)."""
    with rt.acting(cred, "audit dpia-pack") as s:
        return dpia_pack(s.session, controller)


@router.get("/audit/inform-pack/{controller}", summary="audit inform-pack")
def audit_inform_pack(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """What the controller tells its data subjects, from live state (SUBJ-10)."""
    with rt.acting(cred, "audit inform-pack") as s:
        return inform_pack(s.session, controller)


@router.post("/audit/risk-review", status_code=201, summary="audit risk-review")
def audit_risk_review(body: ReviewRecord, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record a review of the processor's own risk assessment (AUD-6); `next` is required."""
    due = _day(body.next, "next")
    with rt.acting(cred, "audit risk-review") as s:
        return reviews.ReviewsService(s.session).record(reviews.RISK, body.text, due)


@router.post("/audit/policy-review", status_code=201, summary="audit policy-review")
def audit_policy_review(body: ReviewRecord, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record a review of the IT-security policy, at least yearly (AUD-6)."""
    due = _day(body.next, "next")
    with rt.acting(cred, "audit policy-review") as s:
        return reviews.ReviewsService(s.session).record(reviews.POLICY, body.text, due)


def _persons(rt: Any, cred: str | None, party: str, command: str) -> Json:  # noqa: ANN401
    with rt.acting(cred, command) as s:
        result: Json = ContactPersonsService(s).show(party)
        return result


@router.get("/controllers/{controller}/contact-persons", summary="controllers contacts")
def controller_persons(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The controller's contact persons (AUD-5)."""
    return _persons(rt, cred, controller, "controllers contacts")


@router.put(
    "/controllers/{controller}/contact-persons/{role}", summary="controllers contacts --role"
)
def controller_person_set(
    controller: str, role: Role, body: Person, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record or replace the controller's contact person for a role; the change is notified."""
    with rt.acting(cred, "controllers contacts") as s:
        return ContactPersonsService(s.session).set(
            controller, role, body.name, body.email, body.phone
        )


@router.delete(
    "/controllers/{controller}/contact-persons/{role}", summary="controllers contacts --remove"
)
def controller_person_remove(
    controller: str, role: Role, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Remove the controller's contact person for a role; the change is notified."""
    with rt.acting(cred, "controllers contacts") as s:
        return ContactPersonsService(s.session).remove(controller, role)


@router.get("/processor-contacts", summary="processor-contacts")
def processor_persons(rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The processor's contact persons (AUD-5)."""
    return _persons(rt, cred, PROCESSOR_PARTY, "processor-contacts")


@router.put("/processor-contacts/{role}", summary="processor-contacts --role")
def processor_person_set(role: Role, body: Person, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record or replace the processor's contact person; every controller is notified."""
    with rt.acting(cred, "processor-contacts set") as s:
        return ContactPersonsService(s.session).set(
            PROCESSOR_PARTY, role, body.name, body.email, body.phone
        )


@router.delete("/processor-contacts/{role}", summary="processor-contacts --remove")
def processor_person_remove(role: Role, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Remove the processor's contact person for a role; every controller is notified."""
    with rt.acting(cred, "processor-contacts remove") as s:
        return ContactPersonsService(s.session).remove(PROCESSOR_PARTY, role)


@router.post(
    "/subprocessors/{name:path}/challenge", status_code=201, summary="subprocessors challenge"
)
def subprocessors_challenge(
    name: str, body: Challenge, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """A controller's administrator challenges a supervision and asks for a new audit (SUB-7)."""
    on = _day(body.supervision, "supervision")
    with rt.acting(cred, "subprocessors challenge") as s:
        return ChallengesService(s.session).challenge(name, body.reason, on, body.new_audit)
