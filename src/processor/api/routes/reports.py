"""`/v1/breaches` (the controller's view of the breach register) and the audit-report download.

Thin routes over the services the `breaches` and `audit report` commands call, with the same
authorisation: a controller's users see the breaches they were notified of, and may download
the audit report of their own controller only (AUD-1, BR-1).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES
from processor.services.validation import iso_date

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
Json = dict[str, Any]
MEDIA = {"json": "application/json", "markdown": "text/markdown", "html": "text/html"}
SUFFIX = {"json": "json", "markdown": "md", "html": "html"}


@router.get("/breaches", summary="breaches list")
def breaches_list(
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    overdue_only: Annotated[bool, Query(alias="overdue")] = False,
) -> Json:
    """The register with its clocks: everything (staff) or the controller's own breaches."""
    from processor.breaches.service import BreachesService

    with rt.acting(cred, "breaches list") as s:
        return BreachesService(s.session).list(
            open_only=open_only, overdue_only=overdue_only, controller=controller
        )


@router.get("/breaches/{breach_id}", summary="breaches show")
def breaches_show(breach_id: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """One breach, as the user may see it."""
    from processor.breaches.service import BreachesService

    with rt.acting(cred, "breaches show") as s:
        return BreachesService(s.session).show(breach_id)


@router.get(
    "/audit/report",
    summary="audit report",
    response_class=Response,
    responses={200: {"content": {m: {} for m in MEDIA.values()}}},
)
def audit_report(
    rt: RuntimeDep,
    cred: CredentialDep,
    report_format: Annotated[Literal["json", "markdown", "html"], Query(alias="format")],
    controller: Annotated[str | None, Query(max_length=200)] = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> Response:
    """Download the audit report (the GDPA; a controller's administrator for its own)."""
    from processor.audit import render_html, render_json, render_markdown
    from processor.audit.report import build_report

    renderers = {"json": render_json.render, "markdown": render_markdown.render,
                 "html": render_html.render}  # fmt: skip
    first = date.fromisoformat(iso_date(start, "from")) if start else None
    last = date.fromisoformat(iso_date(end, "to")) if end else None
    with rt.acting(cred, "audit report") as s:
        model = build_report(s.session, controller=controller, start=first, end=last)
    text = renderers[report_format](model)
    name = f"audit-report-{controller or 'processor'}.{SUFFIX[report_format]}"
    return Response(
        content=text,
        media_type=MEDIA[report_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
