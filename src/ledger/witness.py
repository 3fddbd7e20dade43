# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
r"""A C2SP tlog-witness (https://c2sp.org/tlog-witness): the ``add-checkpoint`` decision.

A witness remembers, per log origin, the latest checkpoint it cosigned, and cosigns a new one
only when a consistency proof shows that it extends that one. A log that rolled back, forked or
rewrote its history therefore cannot get a cosignature for the new story: the witness answers
409 (its size is not the one the log claims) or 422 (the proof does not verify). Whoever
requires the witness's cosignature (a controller checking a receipt, an auditor running
``ledger verify``) is protected even against someone who holds the log's signing key.

This module holds the protocol and the decision; the HTTP server around it is the caller's.
The request body is ``old <size>\n``, up to 63 base64 proof lines, an empty line, then the
signed checkpoint; a 200 answer is the cosignature line(s), a 409 answer the witness's size
(``text/x.tlog.size``).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from ledger.errors import CheckpointError, ProofError
from ledger.merkle import HASH_SIZE, verify_consistency
from ledger.note import strict_b64decode

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from ledger.cosignature import CosignatureSigner
    from ledger.note import Verifier

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"old (0|[1-9][0-9]*)")


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A parsed add-checkpoint request."""

    old_size: int
    proof: list[bytes]
    note: str


@dataclass(frozen=True, slots=True)
class WitnessResponse:
    """What the witness answers: HTTP status, content type and body."""

    status: int
    content_type: str
    body: str


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    """The request body a log sends to a witness."""
    if len(proof) > MAX_PROOF_LINES:
        raise ProofError(f"a consistency proof has at most {MAX_PROOF_LINES} hashes")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body; raise ``ValueError`` (400 Bad Request) when it is malformed."""
    text = body.decode("utf-8")
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ValueError("request has no empty line before the checkpoint")
    lines = head.split("\n")
    match = _OLD.fullmatch(lines[0])
    if match is None:
        raise ValueError("first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = [strict_b64decode(line, "consistency proof line") for line in lines[1:]]
    if any(len(h) != HASH_SIZE for h in proof):
        raise ValueError("a consistency proof line is not a 32-byte hash")
    return AddCheckpoint(int(match.group(1)), proof, note)


def parse_size_response(body: str) -> int:
    r"""The witness's size from a 409 answer (``<decimal>\n``)."""
    text = body.strip()
    if not re.fullmatch(r"0|[1-9][0-9]*", text):
        raise ValueError(f"not a tree size: {text[:40]!r}")
    return int(text)


class Witness:
    """The witness's state (one file per origin in ``state_dir``) and its decisions."""

    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Sequence[Verifier],
        state_dir: Path,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.signer = signer
        self.logs = {verifier.name: verifier for verifier in logs}
        self.state_dir = state_dir
        self.clock = clock
        state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _state_path(self, origin: str) -> Path:
        digest = hashlib.sha256(origin.encode("utf-8")).hexdigest()[:24]
        return self.state_dir / f"log-{digest}.json"

    def latest(self, origin: str) -> Checkpoint | None:
        """The latest checkpoint cosigned for ``origin`` (None before the first)."""
        try:
            data = json.loads(self._state_path(origin).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return parse_checkpoint(str(data["note"]))

    def _store(self, origin: str, note: str) -> None:
        """Persist the new latest checkpoint before answering (write, fsync, rename)."""
        path = self._state_path(origin)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            json.dump({"origin": origin, "note": note}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)

    def add_checkpoint(self, body: bytes) -> WitnessResponse:
        """Decide one add-checkpoint request, atomically with respect to other requests."""
        try:
            request = parse_add_checkpoint(body)
            claimed = parse_checkpoint(request.note)
        except (ValueError, CheckpointError) as exc:
            return WitnessResponse(400, "text/plain", f"bad request: {exc}\n")
        verifier = self.logs.get(claimed.origin)
        if verifier is None:
            return WitnessResponse(404, "text/plain", "unknown log origin\n")
        try:
            checkpoint = verify_checkpoint(request.note, verifier, origin=claimed.origin)
        except CheckpointError as exc:
            return WitnessResponse(403, "text/plain", f"checkpoint signature: {exc}\n")
        if request.old_size > checkpoint.size:
            return WitnessResponse(400, "text/plain", "old size is larger than the checkpoint\n")
        lock_path = self.state_dir / "witness.lock"
        with lock_path.open("a") as lock:
            # One decision at a time (threads and processes): check-and-store must be atomic,
            # or two racing requests could roll the stored size back.
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            return self._decide(request, checkpoint)

    def _decide(self, request: AddCheckpoint, checkpoint: Checkpoint) -> WitnessResponse:
        latest = self.latest(checkpoint.origin)
        size = 0 if latest is None else latest.size
        if request.old_size != size:
            return WitnessResponse(409, SIZE_CONTENT_TYPE, f"{size}\n")
        if latest is not None and latest.size == checkpoint.size:
            if latest.root != checkpoint.root:
                return WitnessResponse(409, SIZE_CONTENT_TYPE, f"{size}\n")
        elif latest is not None:
            try:
                verify_consistency(
                    latest.size, checkpoint.size, latest.root, checkpoint.root, request.proof
                )
            except ProofError as exc:
                return WitnessResponse(422, "text/plain", f"consistency proof: {exc}\n")
        elif request.proof:
            return WitnessResponse(422, "text/plain", "the proof must be empty from size 0\n")
        self._store(checkpoint.origin, checkpoint.note_text)
        text = checkpoint.note_text[: checkpoint.note_text.rfind("\n\n") + 1]
        return WitnessResponse(200, "text/plain", self.signer.cosign(text, self.clock()))
