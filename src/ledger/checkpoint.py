# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint).

A checkpoint is a signed note whose text is three lines (origin, decimal tree size, base64 root
hash), each ending in a newline, plus optional extension lines. It commits the log to its first
``size`` records: once it is handed to an auditor, a witness or a data controller, any later
rewrite of those records is provable (inclusion and consistency proofs against it fail). The
origin names the log, so a checkpoint of one log can never pass as a checkpoint of another.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.errors import CheckpointError
from ledger.merkle import HASH_SIZE
from ledger.note import NoteSigner, Verifier, open_note, parse_note, strict_b64decode

if TYPE_CHECKING:
    from collections.abc import Sequence

_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**63 - 1  # fits a signed 64-bit database column
_MIN_LINES = 3


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A parsed checkpoint; ``note_text`` is the full signed note it came from."""

    origin: str
    size: int
    root: bytes
    note_text: str
    extensions: tuple[str, ...] = ()


def format_checkpoint_text(
    origin: str, size: int, root: bytes, extensions: Sequence[str] = ()
) -> str:
    """Return the checkpoint note text (the part that is signed)."""
    if not origin or "\n" in origin:
        raise CheckpointError("origin must be a non-empty single line")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_SIZE:
        raise CheckpointError(f"tree size must be an integer in [0, 2**63), got {size!r}")
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")
    if any(not line or "\n" in line for line in extensions):
        raise CheckpointError("extension lines must be non-empty single lines")
    lines = [origin, str(size), base64.b64encode(root).decode("ascii"), *extensions]
    return "".join(line + "\n" for line in lines)


def _parse_text(text: str, note: str) -> Checkpoint:
    """Parse checkpoint note text (already split from its signatures)."""
    lines = text[:-1].split("\n")
    if len(lines) < _MIN_LINES or any(not line for line in lines):
        raise CheckpointError("checkpoint needs origin, size and root lines, none empty")
    origin, size_line, root_line, *extensions = lines
    if not _SIZE.fullmatch(size_line) or int(size_line) > _MAX_SIZE:
        raise CheckpointError("checkpoint size is not a canonical decimal number")
    root = strict_b64decode(root_line, "checkpoint root hash")
    if len(root) != HASH_SIZE:
        raise CheckpointError(f"checkpoint root hash is not {HASH_SIZE} bytes")
    return Checkpoint(origin, int(size_line), root, note, tuple(extensions))


def parse_checkpoint(note_text: str) -> Checkpoint:
    """Parse a signed checkpoint note WITHOUT checking signatures (use verify_checkpoint)."""
    text, _ = parse_note(note_text)
    return _parse_text(text, note_text)


def verify_checkpoint(
    note_text: str, verifier: Verifier | Sequence[Verifier], *, origin: str | None = None
) -> Checkpoint:
    """Verify the note signature(s), parse the checkpoint and optionally pin its origin."""
    text = open_note(note_text, verifier)
    checkpoint = _parse_text(text, note_text)
    if origin is not None and checkpoint.origin != origin:
        raise CheckpointError(f"checkpoint origin {checkpoint.origin!r} is not {origin!r}")
    return checkpoint


class Signer(NoteSigner):
    """The log's checkpoint signer (an Ed25519 note signer).

    Its key name SHOULD equal the log origin (tlog-checkpoint spec); it is not enforced so a
    key can be rotated under a stable origin.
    """

    def sign_checkpoint(
        self, origin: str, size: int, root: bytes, extensions: Sequence[str] = ()
    ) -> str:
        """Return the full signed checkpoint note for the tree (size, root)."""
        return self.sign_note(format_checkpoint_text(origin, size, root, extensions))
