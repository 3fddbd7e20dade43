# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""An append-only file of signed checkpoints, kept apart from the database it vouches for.

Someone with write access to the database can delete the newest records together with their
tree nodes and checkpoints, and what is left agrees with itself. A checkpoint kept somewhere
else survives that: the store must still extend it. This file is that somewhere else, on the
machine (and in the account) of the person who runs the log, rather than in the database.

One entry per line, JSON: ``{"signed_at": <ISO time>, "note": <signed checkpoint note>}``.
Appends are one ``write`` on a file opened with ``O_APPEND``, followed by ``fsync``, so entries
from several processes never interleave and a returned append survives a crash. A torn last
line (a crash in the middle of a write) is ignored; any other malformed line is an error,
because it means someone edited the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.errors import CheckpointError

if TYPE_CHECKING:
    from pathlib import Path

    from ledger.note import Verifier


# What this process has verified already, per (file, origin, verifier key): the length of the
# checked prefix, its SHA-256 and its entries. A later read re-checks only the lines appended
# since, and only if the prefix is byte for byte what was checked (else it checks every line):
# the result, and every error, are those of checking the whole file, without re-verifying
# thousands of signatures on every command of a long-running process (issue 17).
_VERIFIED: dict[tuple[str, str, str], tuple[int, bytes, list[LogEntry]]] = {}


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One verified checkpoint from the file, with where it was and when it was signed."""

    line: int
    signed_at: str
    checkpoint: Checkpoint


class CheckpointLog:
    """The checkpoint log file at ``path`` (created, 0600 in a 0700 folder, on first append)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, note: str, signed_at: str) -> None:
        """Append one signed note durably (O_APPEND, one write, fsync)."""
        line = json.dumps({"signed_at": signed_at, "note": note}, sort_keys=True) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self, verifier: Verifier, origin: str) -> list[LogEntry]:
        """Every checkpoint of ``origin`` in the file, each signature checked.

        Entries of other origins belong to another log that once lived at the same place (a
        store deleted and initialised again) and are skipped. Raises ``CheckpointError`` naming
        the line of anything malformed or wrongly signed.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint log {self.path}: {exc}") from None
        # The last piece has no newline: empty, or torn by a crash in the middle of an append.
        end = data.rfind(b"\n") + 1
        key = (str(self.path), origin, verifier.vkey())
        done, digest, found = _VERIFIED.get(key, (0, b"", []))
        if done > end or hashlib.sha256(data[:done]).digest() != digest:
            done, found = 0, []  # rewritten or truncated: check every line again
        found = list(found)
        start = data.count(b"\n", 0, done) + 1
        complete = data[done:end].split(b"\n")[:-1]
        for number, raw in enumerate(complete, start=start):
            where = f"checkpoint log {self.path} line {number}"
            try:
                entry = json.loads(raw.decode("utf-8"))
                note, signed_at = entry["note"], entry["signed_at"]
            except (ValueError, TypeError, KeyError) as exc:
                raise CheckpointError(f"{where} is malformed: {exc}") from None
            if not isinstance(note, str) or not isinstance(signed_at, str):
                raise CheckpointError(f"{where} is malformed: note and signed_at must be text")
            first_line = note.split("\n", 1)[0]
            if first_line != origin:
                continue
            try:
                checkpoint = verify_checkpoint(note, verifier, origin=origin)
            except CheckpointError as exc:
                raise CheckpointError(f"{where}: {exc}") from None
            found.append(LogEntry(number, signed_at, checkpoint))
        _VERIFIED[key] = (end, hashlib.sha256(data[:end]).digest(), list(found))
        return found

    def newest(self, verifier: Verifier, origin: str) -> LogEntry | None:
        """The entry of the largest tree in the file (the first one if repeated)."""
        best: LogEntry | None = None
        for entry in self.entries(verifier, origin):
            if best is None or entry.checkpoint.size > best.checkpoint.size:
                best = entry
        return best
