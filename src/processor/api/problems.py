"""RFC 9457 problem details: every error over HTTP, with the CLI's own one-line message.

The mapping from exception class to HTTP status lives here, beside the CLI's mapping to exit
codes (`processor.kernel.errors`), so both layers say the same thing: the `detail` is exactly the
line
the CLI prints after `error:`, `rule` names the rule a refusal broke, and `exit_code` is the
code the same failure gives on the command line.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any, Final

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from processor.kernel.errors import (
    AccessDeniedError,
    CannotWriteError,
    ConfigurationError,
    ConflictError,
    FindingsError,
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
    ProcessorError,
    RefusedError,
)
from processor.logs import get_logger

PROBLEM_JSON: Final = "application/problem+json"
TYPE_BASE: Final = "/problems/"
"""Problem types are served by the server itself (`GET /problems/{kind}`): a relative URI, which
RFC 9457 section 3.1.1 resolves against the request's, so it works offline and behind a proxy."""

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
"""The id of the request being answered (`X-Request-ID`), set by the app's request log."""

_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
_CODE = re.compile(r"(`[^`]*`)")
INTERNAL_ERROR: Final = 4
# Refusals that mean "you did not prove who you are": 401, not 403.
AUTHENTICATION_RULES: Final = frozenset({"CredentialMustBeValid", "UserMustNotBeRevoked"})


class Problem(BaseModel):
    """An RFC 9457 problem document, with the rule broken, the CLI's exit code, the request id.

    The request id is also in the server's log line of the request and its `X-Request-ID`.
    """

    type: str
    title: str
    status: int
    detail: str
    rule: str = ""
    exit_code: int
    request_id: str = ""


def http_detail(text: str) -> str:
    """The CLI's line for an HTTP caller: `--option` becomes the request's `option` field.

    Options name the same values as the routes' parameters and body fields (`--consent-method`
    is `consent_method`); a command quoted in backticks is left as written, as what a person
    would run on the command line.
    """
    parts = _CODE.split(text)
    return "".join(
        part if part.startswith("`") else _FLAG.sub(lambda m: m.group(1).replace("-", "_"), part)
        for part in parts
    )


class NotAuthenticatedError(ProcessorError):
    """The request carried no credential at all (nothing to record, nobody to count)."""

    exit_code = 1


# The documented error responses of every authenticated route (OpenAPI and schemathesis).
ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    code: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": text}
    for code, text in (
        (400, "Invalid input"),
        (401, "No valid credential"),
        (403, "Refused by a rule or permission"),
        (404, "Unknown id (or another controller's)"),
        (409, "The store changed under the request; retrying is safe"),
        (422, "The request does not match the schema"),
    )
}


def status_of(exc: ProcessorError) -> tuple[int, str]:
    """The HTTP status and problem type of a processor error."""
    if isinstance(exc, NotAuthenticatedError):
        return 401, "not-authenticated"
    if isinstance(exc, AccessDeniedError) and exc.rule in AUTHENTICATION_RULES:
        return 401, "not-authenticated"
    table: tuple[tuple[type[ProcessorError], int, str], ...] = (
        (RefusedError, 403, "refused"),
        (ConflictError, 409, "conflict"),
        (FindingsError, 409, "findings"),
        (NotFoundError, 404, "not-found"),
        (InvalidInputError, 400, "invalid-input"),
        (IntegrityFailureError, 500, "integrity-failure"),
        (CannotWriteError, 500, "cannot-write"),
        (ConfigurationError, 503, "configuration"),
    )
    for cls, status, kind in table:
        if isinstance(exc, cls):
            return status, kind
    return 400, "invalid-input"


def problem(status: int, kind: str, detail: str, *, rule: str = "", exit_code: int) -> JSONResponse:
    """A problem-details response."""
    body = Problem(
        type=TYPE_BASE + kind,
        title=kind.replace("-", " "),
        status=status,
        detail=http_detail(detail),
        rule=rule,
        exit_code=exit_code,
        request_id=REQUEST_ID.get(),
    )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None  # noqa: PLR2004
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )


OPENGDPR_PATHS: Final = ("/opengdpr_requests", "/discovery")
OPENDSR_PATHS: Final = ("/v2/requests", "/v2/discovery", "/v1/requests", "/v1/discovery")


def signed_if_opengdpr(request: Request, response: JSONResponse) -> JSONResponse:
    """An error of an OpenGDPR or OpenDSR endpoint is signed like its answers (spec 8.3)."""
    service = getattr(request.app.state, "opengdpr", None)
    path = request.url.path
    protocol = (
        "opendsr"
        if path.startswith(OPENDSR_PATHS)
        else "opengdpr"
        if path.startswith(OPENGDPR_PATHS)
        else None
    )
    if service is not None and protocol is not None:
        response.headers.update(service.signer.headers(bytes(response.body), protocol))
    return response


async def processor_error(request: Request, exc: Exception) -> JSONResponse:
    """A `ProcessorError` as a problem document with the CLI's message."""
    assert isinstance(exc, ProcessorError)  # noqa: S101 - registered for this class only
    status, kind = status_of(exc)
    answer = problem(status, kind, str(exc), rule=getattr(exc, "rule", ""), exit_code=exc.exit_code)
    return signed_if_opengdpr(request, answer)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A body or parameter that does not match the schema: 422, one line, no values echoed."""
    assert isinstance(exc, RequestValidationError)  # noqa: S101
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    detail = f"invalid request: {where}: {first.get('msg', 'does not match the schema')}"
    return signed_if_opengdpr(request, problem(422, "invalid-request", detail, exit_code=2))


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown path, wrong method) as problem documents."""
    assert isinstance(exc, HTTPException)  # noqa: S101
    kind = "too-large" if exc.status_code == 413 else "http"  # noqa: PLR2004 - bodylimit's
    return problem(exc.status_code, kind, str(exc.detail), exit_code=2)


async def internal_error(_request: Request, exc: Exception) -> JSONResponse:
    """The last line of defence: one line, the type only (a traceback can carry values)."""
    get_logger("processor.api").error("internal_error", error_type=type(exc).__name__)
    detail = f"internal error ({type(exc).__name__}); see the server's log"
    return problem(500, "internal", detail, exit_code=INTERNAL_ERROR)
