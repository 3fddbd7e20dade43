"""Witnesses: cosigned checkpoints, and sending the newest checkpoint to a C2SP witness (AUD-4).

Built on `processor.link.keeper` (`LedgerService`'s `cosignature`, `store_cosignature` and
`submit_to_witness` are delegates to these; the keeper reads the stored cosignatures itself, in
`cosigned_note`, for its consistency proofs): a witness is another party that keeps the newest
checkpoint it saw and cosigns only checkpoints consistent with it, so a rollback of the whole
store is refused by someone outside it.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from ledger import (
    CheckpointError,
    MerkleTree,
    add_signature_lines,
    format_add_checkpoint,
    parse_size_response,
)
from ledger.note import EM_DASH, parse_note
from processor.kernel.errors import (
    ConfigurationError,
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
)
from processor.link.tables import checkpoints, cosignatures

if TYPE_CHECKING:
    from ledger import CosignatureVerifier
    from processor.link.keeper import LedgerKeeper

# A cosignature/v1 signature: key ID (4), timestamp (8, big-endian), Ed25519 signature (64).
_COSIGNATURE_BYTES: Final = 4 + 8 + 64
WITNESS_TIMEOUT: Final = 10.0  # seconds: a witness that does not answer fails the command, bounded


def cosignature(service: LedgerKeeper, size: int, witness: CosignatureVerifier) -> int:
    """When `witness` validly cosigned checkpoint `size`; CheckpointError if it did not."""
    try:
        note = service.cosigned_note(size)
    except NotFoundError as exc:
        raise CheckpointError(str(exc)) from None
    return witness.verify_note(note).timestamp


def newest_cosignature_time(service: LedgerKeeper) -> datetime | None:
    """When a witness last cosigned one of this store's checkpoints (None: never).

    Read from the stored cosignature/v1 lines (key ID, the witness's timestamp, signature)
    without the witnesses' keys, which the store does not hold: good for `status` asking for
    a witness, not proof that one vouched (`ledger verify --witness KEY` is that).
    """
    with service.engine.connect() as conn:
        lines = conn.execute(sa.select(cosignatures.c.line)).scalars().all()
    newest: int | None = None
    for line in lines:
        try:
            blob = base64.b64decode(str(line).strip().rsplit(" ", 1)[-1], validate=True)
        except ValueError:
            continue
        if len(blob) != _COSIGNATURE_BYTES:
            continue
        stamp = int.from_bytes(blob[4:12], "big")
        newest = stamp if newest is None else max(newest, stamp)
    return None if newest is None else datetime.fromtimestamp(newest, tz=UTC)


def store_cosignature(
    service: LedgerKeeper, size: int, lines: str, witness: CosignatureVerifier | None = None
) -> None:
    """Keep witness cosignature line(s) for checkpoint `size`; checked when `witness` given.

    The cosigned checkpoint is also appended to the checkpoint log, so the proof that a
    witness vouched for this size survives the database too.
    """
    # Appending the cosigned note must not refill a lost log unnoticed (`ledgercustody`).
    problem = service.custody().problem()
    if problem is not None:
        raise IntegrityFailureError(problem)
    merged = add_signature_lines(service.checkpoint_note(size), lines)
    if witness is not None:
        witness.verify_note(merged)
    _, signatures = parse_note(merged)
    own = service.signer()
    rows = [
        {
            "size": size,
            "witness": f"{sig.name}+{sig.key_id.hex()}",
            "line": f"{EM_DASH} {sig.name} "
            f"{base64.b64encode(sig.key_id + sig.signature).decode('ascii')}\n",
        }
        for sig in signatures
        if (sig.name, sig.key_id) != (own.name, own.key_id)
    ]
    with service.engine.begin() as conn:
        for row in rows:
            conn.execute(
                cosignatures.delete().where(
                    (cosignatures.c.size == size) & (cosignatures.c.witness == row["witness"])
                )
            )
        if rows:
            conn.execute(cosignatures.insert(), rows)
        signed_at = conn.execute(
            sa.select(checkpoints.c.signed_at).where(checkpoints.c.size == size)
        ).scalar()
    when = signed_at.isoformat() if isinstance(signed_at, datetime) else ""
    service.publish_checkpoint(service.cosigned_note(size), when)


def submit_to_witness(
    service: LedgerKeeper, url: str, witness: CosignatureVerifier | None = None
) -> dict[str, Any]:
    """Send the newest checkpoint to a C2SP witness with a proof from the witness's size.

    The witness's last size is learnt from its 409 answer; a store shorter than that, or a
    proof the witness rejects (422), is an integrity failure: the store no longer extends
    what the witness has already vouched for.
    """
    problem = service.custody().problem()
    if problem is not None:
        raise IntegrityFailureError(problem)
    head = service.head()
    size, note = int(head["size"]), str(head["checkpoint"])
    endpoint = url.rstrip("/") + "/add-checkpoint"
    old = 0
    for _ in range(2):
        proof = [] if old in (0, size) else MerkleTree(service.nodes).consistency_proof(old, size)
        status, body = _post(endpoint, format_add_checkpoint(old, proof, note))
        if status == 200:  # noqa: PLR2004
            store_cosignature(service, size, body, witness)
            return {"size": size, "witness_size_before": old, "cosignature": body}
        if status != 409:  # noqa: PLR2004
            break
        try:
            witnessed = parse_size_response(body)
        except ValueError:
            break
        if witnessed > size:
            raise IntegrityFailureError(
                f"store has {size} records but witness at {url} has cosigned a checkpoint "
                f"of size {witnessed}: records were removed (rolled back)"
            )
        if witnessed == old:
            break
        old = witnessed
    if status in (409, 422):
        raise IntegrityFailureError(
            f"witness at {url} refused the checkpoint of size {size} ({status}: "
            f"{body.strip()[:200]}): it is not consistent with what the witness cosigned"
        )
    raise ConfigurationError(f"witness at {url} answered {status}: {body.strip()[:200]}")


def _post(url: str, body: bytes) -> tuple[int, str]:
    """POST to a witness; return (status, body). Bounded by WITNESS_TIMEOUT."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"witness URL must be http(s): {url}")
    # Imported here: every signing command imports this module, few ask a witness (issue 28).
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise ConfigurationError(f"cannot reach witness at {url}: {exc}") from None
