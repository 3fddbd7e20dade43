"""`/problems/{kind}`: what each problem `type` means, served by the server itself (RFC 9457).

A problem document's `type` is a URI that should lead a person to documentation of the problem
(RFC 9457 section 3.1.1). Ours are relative (`/problems/refused`), so they resolve against the
server that answered, work without the internet and need no documentation site; each page says
what happened, whether retrying helps, and what to look at (`rule`, `request_id`).
"""

from __future__ import annotations

import html
from typing import Final

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from processor.kernel.errors import NotFoundError

router = APIRouter(tags=["problems"])

KINDS: Final[dict[str, tuple[int, str]]] = {
    "not-authenticated": (
        401,
        (
            "No valid credential: send `Authorization: Bearer <your personal "
            "credential>`. A wrong one is recorded and counts towards the "
            "lockout."
        ),
    ),
    "refused": (
        403,
        (
            "A rule or your role's permissions refused the request; `rule` names it and "
            "`detail` says why. The refusal is recorded. Retrying the same request is "
            "refused again."
        ),
    ),
    "not-found": (
        404,
        "No such resource for you: an unknown id, or another controller's (which is recorded).",
    ),
    "conflict": (
        409,
        (
            "The store changed under the request (another writer came first). Nothing "
            "was half-applied; retrying is safe."
        ),
    ),
    "findings": (409, "A check found something that needs attention (`detail` lists it)."),
    "invalid-input": (
        400,
        "A value is not acceptable; `detail` names the field and the rule, never the value.",
    ),
    "invalid-request": (
        422,
        "The body or a parameter does not match the schema of the route (see /openapi.json).",
    ),
    "too-large": (
        413,
        "The request body is larger than the server accepts (PROCESSOR_MAX_BODY_MB).",
    ),
    "integrity-failure": (
        500,
        (
            "The store failed an integrity check (a record's MAC, the "
            "ledger, the checkpoint log). Tell the processor's GDPA, with the "
            "request_id; nothing more is written until it is resolved."
        ),
    ),
    "cannot-write": (
        500,
        "The server could not write a file it needed. Tell the operator, with the request_id.",
    ),
    "configuration": (
        503,
        (
            "The server is not configured to do this (a missing key, a store "
            "not initialised). Tell the operator."
        ),
    ),
    "internal": (
        500,
        (
            "An error the server did not expect. The server's log line with the same "
            "request_id has its type; tell the operator."
        ),
    ),
    "http": (404, "The path or method does not exist (see /openapi.json)."),
}


@router.get("/problems/{kind}", response_class=HTMLResponse, include_in_schema=False)
def problem_type(kind: str) -> HTMLResponse:
    """The page a problem document's `type` leads to."""
    found = KINDS.get(kind)
    if found is None:
        raise NotFoundError("no such problem type")
    status, text = found
    title = html.escape(kind.replace("-", " "))
    body = html.escape(text).replace("`", "")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Problem: {title}</title></head><body><main><h1>{title} ({status})</h1>"
        f"<p>{body}</p><p>Every problem document also carries <code>request_id</code>: the "
        "server's log line of the request has the same id.</p></main></body></html>"
    )
    return HTMLResponse(page)
