# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Offline-verifiable receipts: "this record is in the log, and the log signed it".

A receipt is plain JSON that a data controller or an auditor keeps and checks years later with
nothing but the log's verifier key: the stored record (its encrypted state, never plaintext),
its leaf index, an inclusion proof and the signed checkpoint the proof leads to. An optional
consistency extension proves that checkpoint is a prefix of a later signed one, i.e. that the
record was never rewritten afterwards.

``kind`` and ``metadata`` are not part of the Merkle leaf, so the whole receipt (minus its
``signature`` field) is also signed by the log key over a canonical JSON form. That makes every
edited byte of any field fail verification, not just the cryptographically bound ones.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.errors import LedgerError, ReceiptError
from ledger.leaf import LeafRecord
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.note import EM_DASH, NoteSigner, Verifier, open_note, strict_b64decode

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RECEIPT_VERSION = 1
# First line of the signed receipt statement: it can never parse as a checkpoint (whose second
# line is a decimal size), so the one log key can sign both without confusion.
_STATEMENT_HEADER = "ledger receipt v1\n"
_HEX_HASH = re.compile(r"[0-9a-f]{64}")
_RECEIPT_KEYS = frozenset(
    {"version", "kind", "record", "leaf_index", "inclusion_proof", "checkpoint", "metadata"}
)
_RECORD_KEYS = frozenset({"position", "originator_id", "originator_version", "topic", "state_b64"})
_CONSISTENCY_KEYS = frozenset({"from_size", "to_size", "proof", "checkpoint"})


class RecordDict(TypedDict):
    """The JSON form of a stored record inside a receipt."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    state_b64: str


@dataclass(frozen=True)
class VerifiedReceipt:
    """What a successfully verified receipt proves."""

    kind: str
    record: LeafRecord
    leaf_index: int
    checkpoint: Checkpoint
    metadata: dict[str, Any] = field(default_factory=dict)
    later_checkpoint: Checkpoint | None = None


def record_to_json(record: LeafRecord) -> RecordDict:
    """Return the JSON form of a record (state as standard base64)."""
    return {
        "position": record.position,
        "originator_id": record.originator_id,
        "originator_version": record.originator_version,
        "topic": record.topic,
        "state_b64": base64.b64encode(record.state).decode("ascii"),
    }


def _canonical_statement(receipt: Mapping[str, Any]) -> str:
    """Return the signed text: a header line and the canonical JSON of all but the signature."""
    body = {key: value for key, value in receipt.items() if key != "signature"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return _STATEMENT_HEADER + text + "\n"


def issue_receipt(
    signer: NoteSigner,
    *,
    kind: str,
    record: LeafRecord,
    leaf_index: int,
    inclusion_proof: Sequence[bytes],
    checkpoint: str,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build and sign a receipt, then verify it so a broken receipt is never handed out.

    The receipt and the checkpoint are signed by the same log key. ``metadata`` is copied
    through JSON, so the receipt holds exactly what a reader will load (and no shared objects).
    """
    receipt: dict[str, Any] = {
        "version": RECEIPT_VERSION,
        "kind": kind,
        "record": record_to_json(record),
        "leaf_index": leaf_index,
        "inclusion_proof": [value.hex() for value in inclusion_proof],
        "checkpoint": checkpoint,
        "metadata": json.loads(json.dumps(dict(metadata or {}), allow_nan=False)),
    }
    line = signer.signature_line(_canonical_statement(receipt))
    receipt["signature"] = line.rstrip("\n").rsplit(" ", 1)[1]
    verify_receipt(receipt, signer.verifier())
    return receipt


def consistency_extension(
    from_checkpoint: Checkpoint, proof: Sequence[bytes], to_checkpoint_note: str, to_size: int
) -> dict[str, Any]:
    """Build the ``consistency`` argument of ``verify_receipt`` from a later signed head."""
    return {
        "from_size": from_checkpoint.size,
        "to_size": to_size,
        "from_root": from_checkpoint.root.hex(),
        "proof": [value.hex() for value in proof],
        "checkpoint": to_checkpoint_note,
    }


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ReceiptError(f"{what} must be a non-negative integer")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ReceiptError(f"{what} must be a string")
    return value


def _hashes(value: object, what: str) -> list[bytes]:
    """Decode a list of lowercase hex SHA-256 hashes (one spelling per hash)."""
    if not isinstance(value, list) or not all(
        isinstance(item, str) and _HEX_HASH.fullmatch(item) for item in value
    ):
        raise ReceiptError(f"{what} must be a list of 64-digit lowercase hex hashes")
    return [bytes.fromhex(item) for item in value]


def _keys(value: object, expected: frozenset[str], what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict) or set(value) != expected:
        raise ReceiptError(f"{what} must be an object with exactly the keys {sorted(expected)}")
    return value


def _parse_record(value: object) -> LeafRecord:
    record = _keys(value, _RECORD_KEYS, "record")
    return LeafRecord(
        position=_int(record["position"], "record position"),
        originator_id=_str(record["originator_id"], "record originator_id"),
        originator_version=_int(record["originator_version"], "record originator_version"),
        topic=_str(record["topic"], "record topic"),
        state=strict_b64decode(_str(record["state_b64"], "record state_b64"), "record state"),
    )


def _verify_consistency(
    value: Mapping[str, Any], checkpoint: Checkpoint, verifiers: Sequence[Verifier]
) -> Checkpoint:
    """Check that the receipt's checkpoint is a prefix of a later signed checkpoint."""
    if not isinstance(value, dict):
        raise ReceiptError("consistency must be an object")
    keys = set(value)
    if not _CONSISTENCY_KEYS <= keys <= _CONSISTENCY_KEYS | {"from_root"}:
        raise ReceiptError(f"consistency must have the keys {sorted(_CONSISTENCY_KEYS)}")
    from_size = _int(value["from_size"], "consistency from_size")
    to_size = _int(value["to_size"], "consistency to_size")
    if from_size != checkpoint.size:
        raise ReceiptError("consistency from_size is not the receipt checkpoint size")
    if "from_root" in value and _hashes([value["from_root"]], "from_root")[0] != checkpoint.root:
        raise ReceiptError("consistency from_root is not the receipt checkpoint root")
    later = verify_checkpoint(_str(value["checkpoint"], "consistency checkpoint"), verifiers)
    if later.size != to_size:
        raise ReceiptError("consistency to_size is not the later checkpoint size")
    if later.origin != checkpoint.origin:
        raise ReceiptError("the later checkpoint is from another log (origin differs)")
    proof = _hashes(value["proof"], "consistency proof")
    verify_consistency(from_size, to_size, checkpoint.root, later.root, proof)
    return later


def verify_receipt(
    receipt: Mapping[str, Any],
    verifier: Verifier | Sequence[Verifier],
    consistency: Mapping[str, Any] | None = None,
) -> VerifiedReceipt:
    """Verify a receipt offline; raise ``ReceiptError`` with a one-line reason on any failure.

    Checks, in order: the shape, the checkpoint signature, the leaf recomputed from the record
    against the inclusion proof and checkpoint root, the receipt signature, and optionally the
    consistency of the checkpoint with a later signed one.
    """
    verifiers = [verifier] if isinstance(verifier, Verifier) else list(verifier)
    try:
        return _verify(receipt, verifiers, consistency)
    except ReceiptError:
        raise
    except (LedgerError, ValueError, TypeError, KeyError) as exc:
        raise ReceiptError(f"receipt does not verify: {exc}") from exc


def _verify(
    receipt: Mapping[str, Any],
    verifiers: Sequence[Verifier],
    consistency: Mapping[str, Any] | None,
) -> VerifiedReceipt:
    """Do the checks of ``verify_receipt``; any exception means "does not verify"."""
    if not isinstance(receipt, dict) or set(receipt) != _RECEIPT_KEYS | {"signature"}:
        raise ReceiptError("receipt must be an object with exactly the receipt keys")
    if receipt["version"] != RECEIPT_VERSION or isinstance(receipt["version"], bool):
        raise ReceiptError(f"unsupported receipt version {receipt['version']!r}")
    kind = _str(receipt["kind"], "kind")
    metadata = receipt["metadata"]
    if not isinstance(metadata, dict):
        raise ReceiptError("metadata must be an object")
    record = _parse_record(receipt["record"])
    leaf_index = _int(receipt["leaf_index"], "leaf_index")
    proof = _hashes(receipt["inclusion_proof"], "inclusion_proof")
    checkpoint = verify_checkpoint(_str(receipt["checkpoint"], "checkpoint"), verifiers)
    verify_inclusion(record.leaf_hash(), leaf_index, checkpoint.size, proof, checkpoint.root)
    # Last, so a damaged record, index or proof is reported as such; the signature then binds
    # what no proof covers (kind, metadata, the exact spelling of every field).
    signature = _str(receipt["signature"], "signature")
    statement = _canonical_statement(receipt)
    notes = [f"{statement}\n{EM_DASH} {v.name} {signature}\n" for v in verifiers]
    if not any(_opens(note, verifiers) for note in notes):
        raise ReceiptError("receipt signature does not verify (kind or metadata edited?)")
    later = None
    if consistency is not None:
        later = _verify_consistency(consistency, checkpoint, verifiers)
    return VerifiedReceipt(kind, record, leaf_index, checkpoint, dict(metadata), later)


def _opens(note: str, verifiers: Sequence[Verifier]) -> bool:
    """Return whether a signed note verifies (the receipt signature check)."""
    try:
        open_note(note, verifiers)
    except LedgerError:
        return False
    return True
