"""`/v1/breaches/{id}/...`: handling a breach over HTTP (BR-1 to BR-5).

The GDPA or system manager opens, assesses, notifies, updates and closes; a controller's
administrator records its own decisions (authority notice, subjects notice) and exports its own
affected subjects. Each route is the `breaches` command of the same name, calling the same
`BreachesService` (the controller's part: `BreachResponsesService`) method under the same
policy; `list` and `show` live in `reports.py`.

`breaches rotate-keys` stays on the command line: it needs the new master key as a file on
the processor's machine and restarts the store under it, which no request may do to a running
server that other requests share.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.breaches import timeline as timelines
from processor.breaches.register import breach_clocks, parse_window
from processor.breaches.responses import BreachResponsesService
from processor.breaches.service import BreachesService
from processor.kernel.errors import InvalidInputError
from processor.services.validation import iso_datetime

if TYPE_CHECKING:
    from datetime import datetime

    from processor.session import Session

router = APIRouter(prefix="/v1/breaches", responses=ERROR_RESPONSES)
Json = dict[str, Any]
Text = Annotated[str, Field(max_length=10_000)]
Short = Annotated[str, Field(max_length=200)]
When = Annotated[str | None, Field(default=None, max_length=40, description="ISO-8601 time")]
Kind = Literal["confidentiality", "integrity", "availability"]


def _when(value: str | None, what: str) -> datetime | None:
    return None if value is None else iso_datetime(value, what)


def _window(value: str | None) -> tuple[datetime | None, datetime | None]:
    return parse_window(value)


def _service(s: Session) -> BreachesService:
    return BreachesService(s)


def _responses(s: Session) -> BreachResponsesService:
    return BreachResponsesService(s)


class Opening(BaseModel):
    """`breaches open`: what happened, when, and which systems."""

    kinds: list[Kind] = Field(min_length=1, max_length=3)
    nature: Text
    cause: Text = ""
    how: Text = ""
    discovered_at: When = None
    aware_at: When = None
    occurred: Annotated[str | None, Field(max_length=100, description="FROM..TO")] = None
    systems: list[Short] = Field(default_factory=list, max_length=100)
    contact_point: Short | None = None


class Notification(BaseModel):
    """`breaches notify`: which controllers, and the Art. 33(3) content."""

    controllers: list[Short] = Field(default_factory=list, max_length=1000)
    all_affected: bool = False
    consequences: Text = ""
    measures: Text = ""


class Update(BaseModel):
    """`breaches update`: what became known, and measures with their times."""

    phase: Literal["initial", "follow-up", "final"] | None = None
    status: Literal["suspected", "confirmed", "contained", "not-a-breach"] | None = None
    reason: Text = ""
    measures: list[Text] = Field(default_factory=list, max_length=100)
    measure_kind: Literal["contain", "restore", "change-keys", "investigate", "other"] = "contain"
    measure_at: When = None
    occurred: Annotated[str | None, Field(max_length=100, description="FROM..TO")] = None
    systems: list[Short] = Field(default_factory=list, max_length=100)
    cause: Text = ""


class AuthorityNotice(BaseModel):
    """`breaches authority-notice`: the controller's notice to its authority, or why none."""

    controller: Short
    at: Annotated[str, Field(max_length=40, description="ISO-8601 time")]
    authority: Short = ""
    reference: Short = ""
    delay_reason: Text = ""
    not_required: bool = False
    justification: Text = ""


class SubjectsNotice(BaseModel):
    """`breaches subjects-notice`: the controller's decision on telling the subjects."""

    controller: Short
    notified: bool = False
    channel: Short = ""
    at: When = None
    exception: Literal["a", "b", "c"] | None = None
    justification: Text = ""


class Review(BaseModel):
    """`breaches close --review`: causes, measures and lessons."""

    review: Text


@router.post("", status_code=201, summary="breaches open")
def breaches_open(body: Opening, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record a security incident and assess its impact (GDPA, system manager; BR-4, BR-2)."""
    start, end = _window(body.occurred)
    with rt.acting(cred, "breaches open") as s:
        result: Json = _service(s.session).open(
            kinds=list(body.kinds), nature=body.nature, cause=body.cause, discovery=body.how,
            discovered_at=_when(body.discovered_at, "discovered_at"),
            aware_at=_when(body.aware_at, "aware_at"), occurred_from=start, occurred_to=end,
            systems=list(body.systems), contact_point=body.contact_point,
        )  # fmt: skip
        return result


@router.post("/{breach_id}/impact", summary="breaches impact")
def breaches_impact(
    breach_id: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
) -> Json:
    """Recompute and record the impact (staff); a controller's user reads its own part."""
    with rt.acting(cred, "breaches impact") as s:
        result: Json = _service(s.session).impact(breach_id, controller)
        return result


@router.post("/{breach_id}/notify", summary="breaches notify")
def breaches_notify(
    breach_id: str, body: Notification, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Give each controller the Art. 33(3) notice (BR-1)."""
    with rt.acting(cred, "breaches notify") as s:
        result: Json = _service(s.session).notify(
            breach_id, controllers=list(body.controllers), all_affected=body.all_affected,
            consequences=body.consequences, measures=body.measures,
        )  # fmt: skip
        return result


@router.post("/{breach_id}/update", summary="breaches update")
def breaches_update(breach_id: str, body: Update, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Record what became known, and measures with their times (Art. 33(4), BR-5)."""
    start, end = _window(body.occurred)
    with rt.acting(cred, "breaches update") as s:
        result: Json = _service(s.session).update(
            breach_id, phase=body.phase, status=body.status, reason=body.reason,
            measures=list(body.measures), measure_kind=body.measure_kind,
            measure_at=_when(body.measure_at, "measure_at"), occurred_from=start,
            occurred_to=end, systems=list(body.systems), cause=body.cause,
        )  # fmt: skip
        return result


@router.post("/{breach_id}/authority-notice", summary="breaches authority-notice")
def breaches_authority_notice(
    breach_id: str, body: AuthorityNotice, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record the controller's notice to its authority, or why none is due (BR-3)."""
    if body.not_required and body.delay_reason:
        raise InvalidInputError("not_required takes justification, not delay_reason")
    at = iso_datetime(body.at, "at")
    with rt.acting(cred, "breaches authority-notice") as s:
        result: Json = _responses(s.session).authority_notice(
            breach_id, controller=body.controller, at=at, authority=body.authority,
            reference=body.reference,
            delay_reason=body.justification if body.not_required else body.delay_reason,
            not_required=body.not_required,
        )  # fmt: skip
        return result


@router.post("/{breach_id}/subjects-notice", summary="breaches subjects-notice")
def breaches_subjects_notice(
    breach_id: str, body: SubjectsNotice, rt: RuntimeDep, cred: CredentialDep
) -> Json:
    """Record the controller's decision on telling the data subjects (Art. 34, BR-3)."""
    at = _when(body.at, "at")
    with rt.acting(cred, "breaches subjects-notice") as s:
        _responses(s.session).subjects_notice(
            breach_id, controller=body.controller, notified=body.notified, channel=body.channel,
            at=at, exception=body.exception or "", justification=body.justification,
        )  # fmt: skip
    what = "subjects notified" if body.notified else f"exception Art. 34(3)({body.exception})"
    return {"breach": breach_id, "controller": body.controller, "decision": what}


@router.get(
    "/{breach_id}/export-subjects",
    summary="breaches export-subjects",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def breaches_export_subjects(
    breach_id: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str, Query(max_length=200)],
) -> Response:
    """The affected subjects' contact data as CSV, for the Art. 34 notice (the export is logged).

    The same rows the command writes to its `--out` file, for the controller's own subjects only.
    """
    with rt.acting(cred, "breaches export-subjects") as s:
        result = _responses(s.session).export_subjects(breach_id, controller)
    buffer = io.StringIO()
    fields = ["contact_id", "email", "phone", "first_name", "last_name"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(result["rows"])
    return Response(
        content=buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="breach-subjects.csv"'},
    )


TIMELINE_MEDIA = {"text": "text/plain", "json": "application/json", "svg": "image/svg+xml"}


@router.get(
    "/{breach_id}/timeline",
    summary="breaches timeline",
    response_class=Response,
    responses={200: {"content": {m: {} for m in TIMELINE_MEDIA.values()}}},
)
def breaches_timeline(
    breach_id: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    fmt: Annotated[Literal["text", "json", "svg"], Query(alias="format")] = "text",
) -> Response:
    """Every step against its deadline: text, JSON or a self-contained SVG.

    The same composition as the command: the user reads the breach as the policy lets them,
    and a controller's user sees its own clocks and steps only (no other controller's name).
    """
    with rt.acting(cred, "breaches timeline") as s:
        service = _service(s.session)
        user = s.authorize("breaches.read", command="breaches timeline")
        breach = service.get(breach_id, user)
        clocks = [
            c
            for c in breach_clocks(service.proc, breach)
            if user.controller in (None, c.controller)
        ]
        now = service.proc.now()
        if fmt == "svg":
            text = timelines.as_svg(breach, clocks, now, user.controller)
        elif fmt == "json":
            text = json.dumps(
                timelines.as_json(breach, clocks, now, user.controller),
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        else:
            text = timelines.as_text(breach, clocks, now, user.controller)
    return Response(content=text, media_type=TIMELINE_MEDIA[fmt])


@router.post("/{breach_id}/close", summary="breaches close")
def breaches_close(breach_id: str, body: Review, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """Close the breach with its review (BR-4)."""
    with rt.acting(cred, "breaches close") as s:
        result: Json = _service(s.session).close(breach_id, body.review)
        return result
