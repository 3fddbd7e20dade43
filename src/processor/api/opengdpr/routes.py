"""OpenGDPR endpoints with the spec's paths and field names; every body we send is signed.

Errors are RFC 9457 problem documents like the rest of the API (the spec's own error object is
a 400 with `error.code`/`error.message`; we keep one error format, and its `detail` is the same
line the CLI prints). Authentication is the personal bearer credential, as everywhere.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.opengdpr.service import OpenGdpr, Received
from processor.api.problems import ERROR_RESPONSES
from processor.api.streams import streamed

if TYPE_CHECKING:
    from typing import TextIO

router = APIRouter(responses=ERROR_RESPONSES, tags=["opengdpr"])
Short = Annotated[str, Field(max_length=200)]
SIGNED = {
    "X-OpenGDPR-Processor-Domain": {"schema": {"type": "string"}},
    "X-OpenGDPR-Signature": {"schema": {"type": "string"}},
}


class Identity(BaseModel):
    """An OpenGDPR identity (section 5.3)."""

    identity_type: Short
    identity_value: Annotated[str, Field(max_length=1000)]
    identity_format: Short


class OpenGdprRequestIn(BaseModel):
    """An OpenGDPR request (section 7.1)."""

    subject_request_id: UUID
    subject_request_type: Literal["access", "portability", "erasure"]
    submitted_time: datetime
    subject_identities: Annotated[list[Identity], Field(min_length=1, max_length=20)]
    api_version: Short | None = None
    status_callback_urls: Annotated[
        list[Annotated[str, Field(max_length=2000)]], Field(max_length=10)
    ] = []
    extensions: dict[str, dict[str, Any]] | None = None


class CallbackUrls(BaseModel):
    """The only URLs status callbacks may go to."""

    status_callback_urls: Annotated[
        list[Annotated[str, Field(max_length=2000)]], Field(max_length=10)
    ]


class IdentityPair(BaseModel):
    """A supported identity type and format."""

    identity_type: str
    identity_format: str


class DiscoveryOut(BaseModel):
    """Discovery (section 6.3)."""

    api_version: str
    supported_identities: list[IdentityPair]
    supported_subject_request_types: list[str]
    processor_certificate: str
    extensions: dict[str, Any]


class ReceivedOut(BaseModel):
    """The answer to a request (section 7.3)."""

    controller_id: str
    expected_completion_time: str
    received_time: str
    encoded_request: str
    subject_request_id: str
    api_version: str
    processor_signature: str


class StatusOut(BaseModel):
    """A request's status (section 8.3)."""

    controller_id: str
    expected_completion_time: str
    subject_request_id: str
    request_status: Literal["pending", "in_progress", "completed", "cancelled"]
    api_version: str
    results_url: str | None = None
    extensions: dict[str, Any]


class CancelledOut(BaseModel):
    """The answer to a cancellation (section 9.2)."""

    controller_id: str
    subject_request_id: str
    received_time: str
    encoded_request: str
    api_version: str


def _service(request: Request) -> OpenGdpr:
    found = request.app.state.opengdpr
    assert isinstance(found, OpenGdpr)  # noqa: S101 - set by create_app
    return found


def _response(received: Received) -> Response:
    return Response(
        content=received.body,
        status_code=received.status,
        media_type="application/json",
        headers=received.headers,
    )


def _signed(model: type[BaseModel], code: int = 200) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": model, "headers": SIGNED, "description": "Signed body"}}


@router.get("/discovery", responses=_signed(DiscoveryOut), response_class=Response)
def discovery(request: Request) -> Response:
    """What this processor supports, and where its signing key is (public)."""
    return _response(_service(request).discovery())


@router.get(
    "/v1/opengdpr/processor-key.pem",
    response_class=PlainTextResponse,
    summary="the key that signs OpenGDPR responses and callbacks",
)
def processor_key(request: Request) -> str:
    """The Ed25519 public key (PEM) that signs responses and callbacks (public)."""
    return _service(request).signer.public_pem()


@router.put("/v1/controllers/{controller}/opengdpr/callbacks", summary="opengdpr callbacks")
def register_callbacks(
    controller: str, body: CallbackUrls, request: Request, rt: RuntimeDep, cred: CredentialDep
) -> dict[str, Any]:
    """A controller administrator registers the only URLs callbacks may go to."""
    with rt.acting(cred, "opengdpr callbacks") as s:
        return _service(request).register_callbacks(s, controller, body.status_callback_urls)


@router.post(
    "/opengdpr_requests",
    status_code=201,
    responses=_signed(ReceivedOut, 201),
    response_class=Response,
)
async def submit(
    body: OpenGdprRequestIn, request: Request, rt: RuntimeDep, cred: CredentialDep
) -> Response:
    """Receive an access, portability or erasure request (our other rights under extensions)."""
    raw = await request.body()
    parsed = json.loads(body.model_dump_json())
    service = _service(request)

    def work() -> Received:
        with rt.acting(cred, "opengdpr request") as s:
            return service.submit(s, raw, parsed, cred or "")

    return _response(await anyio.to_thread.run_sync(work))


@router.get(
    "/opengdpr_requests/{subject_request_id}",
    responses=_signed(StatusOut),
    response_class=Response,
)
def status(
    subject_request_id: str, request: Request, rt: RuntimeDep, cred: CredentialDep
) -> Response:
    """The request's status; a completed erasure carries our signed receipt."""
    with rt.acting(cred, "opengdpr status") as s:
        found = _service(request).status(s, subject_request_id)
    return _response(found)


@router.delete(
    "/opengdpr_requests/{subject_request_id}",
    status_code=202,
    responses=_signed(CancelledOut, 202),
    response_class=Response,
)
def cancel(
    subject_request_id: str, request: Request, rt: RuntimeDep, cred: CredentialDep
) -> Response:
    """Cancel a pending request."""
    line = f"DELETE /opengdpr_requests/{subject_request_id}".encode()
    with rt.acting(cred, "opengdpr cancel") as s:
        return _response(_service(request).cancel(s, subject_request_id, line))


@router.get(
    "/opengdpr_requests/{subject_request_id}/results",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/json": {}}}},
)
async def results(
    subject_request_id: str, request: Request, rt: RuntimeDep, cred: CredentialDep
) -> StreamingResponse:
    """The export of a completed access or portability request (its controller, in time)."""
    service = _service(request)

    def write(out: TextIO) -> None:
        with rt.acting(cred, "opengdpr results") as s:
            service.results(s, subject_request_id, out)

    return await streamed(write, "application/json")
