"""What every route needs: the process's runtime and the caller's bearer credential."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from processor.api.runtime import Runtime

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
