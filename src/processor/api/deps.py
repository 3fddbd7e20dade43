"""What every route needs: the process's runtime and the caller's bearer credential.

Authentication comes before the schema: FastAPI validates a route's parameters and body before
the route runs, and the route authenticates (`Runtime.acting`), so a request without a valid
credential would learn from a 422 what the route expects (or from a 400, where a route parses a
value before it authenticates). `validation_error` and `processor_error` authenticate such a
request first, the way the route would have, and only an authenticated caller gets the 422/400.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool

from processor.api import problems
from processor.api.runtime import Runtime
from processor.kernel.errors import InvalidInputError, ProcessorError

if TYPE_CHECKING:
    from fastapi.dependencies.models import Dependant
    from fastapi.responses import JSONResponse

_bearer = HTTPBearer(auto_error=False, description="A personal credential (`pcr1_...`).")


def runtime(request: Request) -> Runtime:
    """The runtime the app was created with."""
    found = request.app.state.runtime
    assert isinstance(found, Runtime)  # noqa: S101 - set by create_app, always
    return found


def credential(
    given: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str | None:
    """The bearer credential, if the request sent one."""
    return given.credentials if given is not None else None


RuntimeDep = Annotated[Runtime, Depends(runtime)]
CredentialDep = Annotated[str | None, Depends(credential)]


def _uses(dependant: Dependant, call: object) -> bool:
    return any(d.call is call or _uses(d, call) for d in dependant.dependencies)


def requires_credential(route: object) -> bool:
    """Whether a route authenticates its caller (it depends on `credential`): public ones do not."""
    dependant = getattr(route, "dependant", None)
    return dependant is not None and _uses(dependant, credential)


def _bearer_of(request: Request) -> str | None:
    """The bearer credential as `HTTPBearer` reads it (another scheme is no credential)."""
    scheme, given = get_authorization_scheme_param(request.headers.get("Authorization"))
    return given if scheme.lower() == "bearer" and given else None


def _authenticate(request: Request) -> None:
    """Authenticate as the route would have, recording a wrong credential as it would (ACC-8)."""
    route = request.scope.get("route")
    if route is None or not requires_credential(route):
        return
    command = str(getattr(route, "summary", None) or getattr(route, "name", "http"))
    with runtime(request).acting(_bearer_of(request), command):
        pass


async def processor_error(request: Request, exc: Exception) -> JSONResponse:
    """A processor error; invalid input a route found before it authenticated waits its turn.

    Routes parse some values (times, cursors) before `Runtime.acting`; their `InvalidInputError`
    (400) is answered only once the caller is authenticated, as a schema error is. An error
    raised inside `acting` re-authenticates a caller already known, which records nothing.
    """
    if isinstance(exc, InvalidInputError):
        try:
            await run_in_threadpool(_authenticate, request)
        except ProcessorError as refused:
            return await problems.processor_error(request, refused)
    return await problems.processor_error(request, exc)


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """A request that does not match the schema: first the route's authentication, then 422.

    A caller without a valid credential gets the 401 the route would have answered (and a wrong
    credential is recorded as the route would record it); an authenticated one gets the RFC 9457
    422 of `problems.validation_error`.
    """
    try:
        await run_in_threadpool(_authenticate, request)
    except ProcessorError as refused:
        return await problems.processor_error(request, refused)
    return await problems.validation_error(request, exc)
