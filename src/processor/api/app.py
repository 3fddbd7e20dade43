"""The ASGI app: FastAPI over the same sessions, services and policies as the CLI.

`create_app(settings)` opens the store once for the process; every request authenticates with
a personal bearer credential and runs as that person, with the channel `http` on its events.
Logs are structlog JSON lines with method, route template, status and duration: never a query
string, body or header, so neither personal data nor credentials reach them.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from processor.api import deps, problems
from processor.api.runtime import Runtime
from processor.kernel.errors import ProcessorError
from processor.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from starlette.responses import Response

    from processor.config import Settings
    from processor.kernel.clock import Clock

API_VERSION = "1.0.0"


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    opengdpr: dict[str, Any] | None = None,
    max_body_mb: float | None = None,
) -> FastAPI:
    """The app over the store of `settings` (opened now, closed at shutdown).

    `opengdpr` tunes the OpenGDPR endpoints (domain, public URL, callbacks, results lifetime);
    see `processor.api.opengdpr.service.OpenGdprOptions`. `max_body_mb` caps request bodies
    (default PROCESSOR_MAX_BODY_MB, else 64; see `processor.api.bodylimit`).
    """
    from processor.api.bodylimit import BodyLimit, max_body_bytes
    from processor.api.opengdpr.routes import router as opengdpr_router
    from processor.api.opengdpr.service import OpenGdpr, OpenGdprOptions
    from processor.api.routes import (
        admin,
        audit,
        breaches,
        contacts,
        ledger,
        messages,
        notices,
        oversight,
        problemtypes,
        reports,
        retention,
        staff,
        subprocessors,
        users,
    )

    limit = max_body_bytes(max_body_mb)
    rt = Runtime(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.opengdpr.stop()
        rt.close()

    # FastAPIOffline: `/docs` and `/redoc` load Swagger UI and ReDoc from this server
    # (`/static-offline-docs`), not from a CDN, so the API's documentation works offline.
    app = FastAPIOffline(
        lifespan=lifespan,
        title="processor",
        version=API_VERSION,
        description="Controllers, staff and the GDPA over HTTP, with personal credentials; "
        "OpenGDPR data-subject requests with signed responses and callbacks.",
    )
    app.state.runtime = rt
    app.state.opengdpr = OpenGdpr(rt, OpenGdprOptions(**(opengdpr or {})))
    # Authentication before the schema: an unauthenticated request is 401, never 422 or 400.
    app.add_exception_handler(ProcessorError, deps.processor_error)
    app.add_exception_handler(RequestValidationError, deps.validation_error)
    app.add_exception_handler(HTTPException, problems.http_error)
    app.add_exception_handler(Exception, problems.internal_error)
    routers = (contacts.router, staff.router, notices.router, reports.router, ledger.router,
               breaches.router, audit.router, retention.router, subprocessors.router,
               admin.router, messages.router, users.router, oversight.router,
               problemtypes.router)  # fmt: skip
    for router in (*routers, opengdpr_router):
        app.include_router(router)
    # Inside the request log (added first): its task group would wrap our 413 in a group.
    app.add_middleware(BodyLimit, limit=limit)
    app.middleware("http")(_log_request)
    return app


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _request_id(request: Request) -> str:
    """The caller's `X-Request-ID` when it is a plain token (a proxy's), else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


async def _log_request(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """One JSON log line per request: route template, never the concrete path or query.

    Each request has an id: in its log line (and every line logged while it runs), in the
    `X-Request-ID` header of the answer and in any problem document, so a caller's report of
    an error finds the server's record of it.
    """
    started = time.perf_counter()
    status = 500
    request_id = _request_id(request)
    problems.REQUEST_ID.set(request_id)
    structlog.contextvars.bind_contextvars(request_id=request_id)
    try:
        response = await call_next(request)
        status = response.status_code
        response.headers["X-Request-ID"] = request_id
        return response
    finally:
        route = request.scope.get("route")
        get_logger("processor.api").info(
            "request",
            method=request.method,
            route=getattr(route, "path", "(unmatched)"),
            status=status,
            pid=os.getpid(),
            ms=round((time.perf_counter() - started) * 1000, 1),
        )
