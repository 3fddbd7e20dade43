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
from ledger.verifiedmark import VerifiedMark

if TYPE_CHECKING:
    from collections.abc import Callable
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
    """The checkpoint log file at ``path`` (created, 0600 in a 0700 folder, on first append).

    Given ``mark_key`` (a function returning a secret only the log's owner holds), `newest`
    keeps a MACed "verified up to" mark beside the file (`ledger.verifiedmark`), so a new
    process checks only the lines appended since the last one that checked, not every
    checkpoint ever written. `entries` (the audit's full list) always checks every line.
    """

    def __init__(self, path: Path, mark_key: Callable[[], bytes] | None = None) -> None:
        self.path = path
        self._mark_key = mark_key

    @property
    def mark_path(self) -> Path:
        """Where the "verified up to" mark of this log is kept (beside it)."""
        return self.path.with_name(self.path.name + ".verified")

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
        found = [*found, *_check_lines(self.path, data, done, end, verifier, origin)]
        _VERIFIED[key] = (end, hashlib.sha256(data[:end]).digest(), list(found))
        return found

    def newest(self, verifier: Verifier, origin: str) -> LogEntry | None:
        """The entry of the largest tree in the file (the first one if repeated).

        With a mark key, the lines a valid mark vouches for are not checked again: the mark
        holds the length and SHA-256 of the prefix that was checked and the newest entry in it,
        under a MAC. A missing, forged or foreign mark, or a prefix that is no longer byte for
        byte the one checked, means every line is checked, as without a mark; so the result and
        every error are those of checking the whole file.
        """
        if self._mark_key is None:
            return _largest(None, self.entries(verifier, origin))
        data = self._read()
        end = data.rfind(b"\n") + 1
        mark = VerifiedMark(self.mark_path, self._mark_key(), origin, verifier.vkey())
        done, best, hashed = 0, None, hashlib.sha256()
        vouched = mark.load()
        if vouched is not None and vouched.length <= end:
            prefix = hashlib.sha256(data[: vouched.length])
            if prefix.digest() == vouched.digest:
                try:
                    best = _entry(vouched.newest, verifier, origin) if vouched.newest else None
                    done, hashed = vouched.length, prefix
                except CheckpointError:
                    best = None  # only a key holder wrote it, yet it does not verify: check all
        best = _largest(best, _check_lines(self.path, data, done, end, verifier, origin))
        if end != done:
            hashed.update(data[done:end])  # the prefix is hashed once, not again for the mark
            raw = None if best is None else (best.line, best.signed_at, best.checkpoint.note_text)
            mark.save(end, hashed.digest(), raw)
        return best

    def _read(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise CheckpointError(f"cannot read checkpoint log {self.path}: {exc}") from None


def _largest(best: LogEntry | None, entries: list[LogEntry]) -> LogEntry | None:
    """The entry of the largest tree: `best` (from earlier lines) or one of `entries`."""
    for entry in entries:
        if best is None or entry.checkpoint.size > best.checkpoint.size:
            best = entry
    return best


def _entry(raw: tuple[int, str, str], verifier: Verifier, origin: str) -> LogEntry:
    """The newest entry a mark recorded, its signature checked again (one verification)."""
    line, signed_at, note = raw
    return LogEntry(line, signed_at, verify_checkpoint(note, verifier, origin=origin))


def _check_lines(
    path: Path, data: bytes, done: int, end: int, verifier: Verifier, origin: str
) -> list[LogEntry]:
    """Parse and check every complete line of ``data[done:end]`` (``done`` is a line start)."""
    found: list[LogEntry] = []
    start = data.count(b"\n", 0, done) + 1
    complete = data[done:end].split(b"\n")[:-1]
    for number, raw in enumerate(complete, start=start):
        where = f"checkpoint log {path} line {number}"
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
    return found
