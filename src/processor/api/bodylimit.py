"""A ceiling on request bodies, enforced as the bytes arrive (413 past it).

A client with a valid credential once sent a 200 MB single-line import and raised the server
to 588 MB. So every body has a limit (`serve --max-body-mb`, PROCESSOR_MAX_BODY_MB, default
64 MB): a `Content-Length` above it is answered 413 before a byte is read, and a body without
one (chunked) is counted as it is received and stopped with 413 the moment it passes the limit.
Nothing is buffered here; the import's own reader also bounds each line (`csvrows`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from starlette.exceptions import HTTPException

from processor.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_ENV: Final = "PROCESSOR_MAX_BODY_MB"
DEFAULT_MAX_BODY_MB: Final = 64
MB: Final = 1024 * 1024


def max_body_bytes(megabytes: float | None = None) -> int:
    """The limit in bytes: `megabytes`, else PROCESSOR_MAX_BODY_MB, else 64 MB."""
    if megabytes is None:
        text = os.environ.get(MAX_BODY_ENV, "").strip()
        try:
            megabytes = float(text) if text else DEFAULT_MAX_BODY_MB
        except ValueError:
            raise ConfigurationError(f"{MAX_BODY_ENV} must be a number of megabytes") from None
    if not megabytes > 0:
        raise ConfigurationError(f"{MAX_BODY_ENV} / --max-body-mb must be above 0")
    return int(megabytes * MB)


class BodyTooLargeError(HTTPException):
    """The request body passed the configured limit (413)."""

    def __init__(self, limit: int) -> None:
        shown = f"{limit / MB:g} MB" if limit >= MB else f"{limit} bytes"
        super().__init__(
            413, f"the request body is larger than the limit of {shown} (serve --max-body-mb)"
        )


class BodyLimit:
    """ASGI middleware: refuse a declared-too-large body at once, count an undeclared one."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with a counting `receive` (or answer 413 now)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _refuse(send, BodyTooLargeError(self.limit))
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLargeError(self.limit)
            return message

        await self.app(scope, counted, send)


async def _refuse(send: Send, error: BodyTooLargeError) -> None:
    """A 413 problem document, sent without reading the body (the connection then closes)."""
    from processor.api.problems import problem

    response = problem(413, "too-large", str(error.detail), exit_code=2)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [*response.raw_headers, (b"connection", b"close")],
        }
    )
    await send({"type": "http.response.body", "body": bytes(response.body)})
