"""The manifest of a backup folder: what it holds, when it was taken, and hashes of its files.

A manifest is plain JSON (`manifest.json`) so people and scripts can read it. It is not trusted on
its own: restore recomputes the hashes and the ledger, and checks the recorded checkpoint against
the restored ledger, its public key and the checkpoint log kept outside the database.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Final

from processor.kernel.errors import IntegrityFailureError, InvalidInputError

if TYPE_CHECKING:
    from pathlib import Path

MANIFEST: Final = "manifest.json"
EVENTS: Final = "events"  # events, read models and ledger
KEYS: Final = "keys"  # the key store only
FORMAT: Final = "processor-backup/1"


@dataclass(frozen=True)
class Manifest:
    """What one backup folder holds."""

    kind: str
    backend: str  # sqlite | postgres
    method: str  # how it was copied: sqlite-online-backup | pg_dump
    taken_at: str
    store: str  # the store it came from (no password)
    store_key: str  # names the store's config folder (keys, checkpoint log)
    files: dict[str, str]  # file name -> SHA-256
    ledger: dict[str, Any] = field(default_factory=dict)  # head at backup time (events only)
    details: dict[str, Any] = field(default_factory=dict)
    format: str = FORMAT

    def write(self, folder: Path) -> None:
        """Write `manifest.json` (0600) last, so a folder without one is an unfinished backup."""
        text = json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"
        fd = os.open(folder / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())

    @classmethod
    def read(cls, folder: Path, kind: str) -> Manifest:
        """Read and check a backup folder's manifest: its kind, format and every file's hash."""
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**data)
        except FileNotFoundError:
            raise InvalidInputError(f"{folder} is not a backup (no {MANIFEST})") from None
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(f"{path} is malformed: {exc}") from None
        if manifest.format != FORMAT:
            raise InvalidInputError(f"{path}: unknown backup format {manifest.format!r}")
        if manifest.kind != kind:
            other = "--keys-from" if manifest.kind == KEYS else "--from"
            raise InvalidInputError(
                f"{folder} holds a {manifest.kind} backup, not a {kind} backup (give it as {other})"
            )
        for name, digest in manifest.files.items():
            if os.sep in name or name.startswith("."):
                raise InvalidInputError(f"{path}: file name {name!r} is not a plain name")
            if not (folder / name).is_file():
                raise IntegrityFailureError(f"backup file {folder / name} is missing")
            if sha256_file(folder / name) != digest:
                raise IntegrityFailureError(
                    f"backup file {folder / name} does not match its hash in {MANIFEST}"
                )
        return manifest


def kind_of(folder: Path) -> str | None:
    """The kind of backup a folder holds, if it holds one."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
