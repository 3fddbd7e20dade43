"""The public ledger (`/v1/ledger/...`, `/.well-known/processor-ledger.pub`) and receipts.

The head, proofs and verifier key are public: they contain no personal data (sealed records
are hashed, never shown), and anyone who holds a receipt must be able to check it against the
log. Receipts themselves are issued only to the controller they concern.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from processor.api.deps import CredentialDep, RuntimeDep
from processor.api.problems import ERROR_RESPONSES

router = APIRouter(responses=ERROR_RESPONSES)
Json = dict[str, Any]
Position = Annotated[int, Query(ge=1, le=2**62)]


@router.get("/v1/ledger/head", summary="ledger head", tags=["public"])
def ledger_head(rt: RuntimeDep) -> Json:
    """The latest signed checkpoint (public)."""
    with rt.store() as proc:
        return proc.ledger.head()


@router.get("/v1/ledger/proofs/{position}", summary="ledger prove", tags=["public"])
def ledger_prove(position: int, rt: RuntimeDep) -> Json:
    """Inclusion proof of the event at `position` against the latest checkpoint (public)."""
    with rt.store() as proc:
        return proc.ledger.prove(position)


@router.get("/v1/ledger/consistency", summary="ledger consistency", tags=["public"])
def ledger_consistency(
    rt: RuntimeDep,
    from_size: Annotated[int, Query(alias="from", ge=1, le=2**62)],
    to_size: Annotated[int | None, Query(alias="to", ge=1, le=2**62)] = None,
) -> Json:
    """Consistency proof between two signed tree sizes, verifiable offline (public)."""
    with rt.store() as proc:
        return proc.ledger.consistency(from_size, to_size)


@router.get(
    "/v1/ledger/public-key",
    summary="ledger public-key",
    tags=["public"],
    response_class=PlainTextResponse,
)
@router.get(
    "/.well-known/processor-ledger.pub",
    summary="the ledger's verifier key",
    tags=["public"],
    response_class=PlainTextResponse,
)
def ledger_public_key(rt: RuntimeDep) -> str:
    """The verifier key of checkpoints, receipts and OpenGDPR signatures (note format)."""
    with rt.store() as proc:
        return proc.ledger.vkey() + "\n"


@router.get("/v1/receipts/erasure/{contact}", summary="receipts issue --erasure")
def receipt_of_erasure(
    contact: str,
    rt: RuntimeDep,
    cred: CredentialDep,
    controller: Annotated[str | None, Query(max_length=200)] = None,
) -> Json:
    """The receipt of an erasure, issued again from the ledger (RET-3)."""
    with rt.acting(cred, "receipts issue") as s:
        return s.erasure.reissue(contact, controller)


@router.get("/v1/receipts/certificate/{controller}", summary="receipts issue --certificate")
def deletion_certificate(controller: str, rt: RuntimeDep, cred: CredentialDep) -> Json:
    """The deletion certificate of a controller whose data is gone (RET-3)."""
    with rt.acting(cred, "receipts issue") as s:
        return s.retention.certificate(controller)
