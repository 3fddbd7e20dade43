"""OpenGDPR and OpenDSR 2.0 endpoints with the specs' paths and field names; every body is signed.

OpenDSR 2.0 (the OpenGDPR spec renamed) is served under `/v2` (its section 3.4: URLs start with
the major version): `/v2/discovery`, `/v2/requests`, `/v2/requests/{id}` (GET status, DELETE
cancel) and `/v2/requests/{id}/results`. The OpenGDPR routes stay as they were (section 10.1:
parties MUST keep honouring them). Both sets call the same service with their `Protocol`.

Errors are RFC 9457 problem documents like the rest of the API (the spec's own error object is
a 400 with `error.code`/`error.message`; we keep one error format, and its `detail` is the same
line the CLI prints). Authentication is the personal bearer credential, as everywhere.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.opengdpr.service import OPENDSR, OPENGDPR, OpenGdpr, Protocol, Received
from processor.api.opengdpr.signing import PREFIXES
from processor.api.problems import ERROR_RESPONSES

router = APIRouter(responses=ERROR_RESPONSES)
Short = Annotated[str, Field(max_length=200)]


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
    regulation: Short = "gdpr"


class OpenDsrRequestIn(OpenGdprRequestIn):
    """An OpenDSR 2.0 request (section 7.1.1): the same, and `regulation` is required."""

    regulation: Short


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
    supported_api_versions: list[str]
    supported_regulations: list[str]
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
    processor_signature: str
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


def _signed(
    protocol: Protocol, model: type[BaseModel] | None, code: int = 200
) -> dict[int | str, dict[str, Any]]:
    prefix = PREFIXES[protocol.name]
    headers = {f"{prefix}-Processor-Domain": {"schema": {"type": "string"}},
               f"{prefix}-Signature": {"schema": {"type": "string"}}}  # fmt: skip
    answer: dict[str, Any] = {"headers": headers, "description": "Signed body"}
    if model is None:
        answer["content"] = {"application/json": {}}
    else:
        answer["model"] = model
    return {code: answer}


@router.get(
    "/v1/opengdpr/processor-key.pem",
    tags=["opengdpr", "opendsr"],
    response_class=PlainTextResponse,
    summary="the key that signs OpenGDPR responses and callbacks",
)
def processor_key(request: Request) -> str:
    """The Ed25519 public key (PEM) that signs responses and callbacks (public)."""
    return _service(request).signer.public_pem()


@router.put(
    "/v1/controllers/{controller}/opengdpr/callbacks",
    summary="opengdpr callbacks",
    tags=["opengdpr", "opendsr"],
)
def register_callbacks(
    controller: str, body: CallbackUrls, request: Request, rt: RuntimeDep, cred: CredentialDep
) -> dict[str, Any]:
    """A controller administrator registers the only URLs callbacks may go to."""
    with rt.acting(cred, "opengdpr callbacks") as s:
        return _service(request).register_callbacks(s, controller, body.status_callback_urls)


def _routes(
    protocol: Protocol,
    base: str,
    requests: str,
    body_model: type[OpenGdprRequestIn],
    *,
    in_schema: bool = True,
) -> None:
    """The discovery, request, status, cancel and results routes of one protocol."""
    tags: list[str | Any] = [protocol.name]
    one = f"{requests}/{{subject_request_id}}"

    def discovery(request: Request) -> Response:
        """What this processor supports, and where its signing key is (public)."""
        return _response(_service(request).discovery(protocol))

    async def submit(
        body: OpenGdprRequestIn, request: Request, rt: RuntimeDep, cred: CredentialDep
    ) -> Response:
        """Receive a request; the same request again gets the same acknowledgement."""
        raw = await request.body()
        parsed = json.loads(body.model_dump_json())
        service = _service(request)

        def work() -> Received:
            with rt.acting(cred, "opengdpr request") as s:
                return service.submit(s, raw, parsed, cred or "", protocol)

        return _response(await anyio.to_thread.run_sync(work))

    # The body's schema is the protocol's (OpenDSR requires `regulation`): FastAPI reads it here.
    submit.__annotations__["body"] = body_model

    def status(
        subject_request_id: str, request: Request, rt: RuntimeDep, cred: CredentialDep
    ) -> Response:
        """The request's status; a completed erasure carries our signed receipt."""
        with rt.acting(cred, "opengdpr status") as s:
            found = _service(request).status(s, subject_request_id, protocol)
        return _response(found)

    def cancel(
        subject_request_id: str, request: Request, rt: RuntimeDep, cred: CredentialDep
    ) -> Response:
        """Cancel a pending request."""
        line = f"DELETE /{one.lstrip('/')}".replace("{subject_request_id}", subject_request_id)
        with rt.acting(cred, "opengdpr cancel") as s:
            return _response(
                _service(request).cancel(s, subject_request_id, line.encode(), protocol)
            )

    async def results(
        subject_request_id: str, request: Request, rt: RuntimeDep, cred: CredentialDep
    ) -> Response:
        """The export of a completed access or portability request, built whole and signed."""
        service = _service(request)

        def work() -> Received:
            with rt.acting(cred, "opengdpr results") as s:
                return service.results(s, subject_request_id, protocol)

        return _response(await anyio.to_thread.run_sync(work))

    def add(path: str, endpoint: Any, **options: Any) -> None:  # noqa: ANN401
        router.add_api_route(path, endpoint, include_in_schema=in_schema, **options)

    add(
        f"{base}/discovery",
        discovery,
        methods=["GET"],
        tags=tags,
        responses=_signed(protocol, DiscoveryOut),
        response_class=Response,
    )
    add(
        requests,
        submit,
        methods=["POST"],
        tags=tags,
        status_code=201,
        responses=_signed(protocol, ReceivedOut, 201),
        response_class=Response,
    )
    add(
        one,
        status,
        methods=["GET"],
        tags=tags,
        responses=_signed(protocol, StatusOut),
        response_class=Response,
    )
    add(
        one,
        cancel,
        methods=["DELETE"],
        tags=tags,
        status_code=202,
        responses=_signed(protocol, CancelledOut, 202),
        response_class=Response,
    )
    add(f"{one}/results", results, methods=["GET"], tags=tags,
        responses=_signed(protocol, None), response_class=Response)  # fmt: skip


_routes(OPENGDPR, "", "/opengdpr_requests", OpenGdprRequestIn)
_routes(OPENDSR, "/v2", "/v2/requests", OpenDsrRequestIn)
# The same OpenDSR routes under `/v1` too: the specification's own examples (`/v1/discovery`,
# `/v1/requests`) were kept from its first version, and clients written from them call there.
_routes(OPENDSR, "/v1", "/v1/requests", OpenDsrRequestIn, in_schema=False)
