"""A "verified up to" mark for a file of signed lines, MACed so that only a key holder can vouch.

Checking every signature of an append-only file costs one Ed25519 verification per line ever
written, and a new process would pay it on every command. The mark records that the first
``length`` bytes of the file (with that SHA-256) were checked, and the newest entry among
them, under an HMAC whose key the caller derives from a secret the file's owner holds (the
ledger's signing key): someone who can edit the file and the mark, but holds no key, cannot
make a process skip a line it has not checked. A mark that does not verify, names another
origin or verifier key, or is malformed, is ignored: the caller checks every line again.

The mark is a cache, never a source of truth: it is written with a rename (never torn), not
synced (a lost mark costs one full check), and a failure to write it is not an error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

FORMAT = "processor checkpoint-log verified mark v1"
KEY_CONTEXT = b"processor/ledger/checkpoint-log-mark/v1"


def mark_key(secret: bytes) -> bytes:
    """The MAC key of marks, derived from ``secret`` (used for nothing else)."""
    return hmac.digest(secret, KEY_CONTEXT, "sha256")


@dataclass(frozen=True, slots=True)
class Vouched:
    """What a valid mark vouches for: a checked prefix and the newest entry found in it."""

    length: int
    digest: bytes
    newest: tuple[int, str, str] | None  # line number, signed_at, signed note


class VerifiedMark:
    """The mark file at ``path`` for one origin and verifier key, MACed under ``key``."""

    def __init__(self, path: Path, key: bytes, origin: str, vkey: str) -> None:
        self.path = path
        self._key = key
        self._origin = origin
        self._vkey = vkey

    def _mac(self, body: dict[str, object]) -> str:
        text = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
        return hmac.new(self._key, text, hashlib.sha256).hexdigest()

    def _body(
        self, length: int, digest: bytes, newest: tuple[int, str, str] | None
    ) -> dict[str, object]:
        return {
            "format": FORMAT,
            "origin": self._origin,
            "vkey": self._vkey,
            "length": length,
            "sha256": digest.hex(),
            "newest": None if newest is None else list(newest),
        }

    def load(self) -> Vouched | None:
        """What the mark vouches for, or None if it is missing, malformed, foreign or forged."""
        try:
            data = json.loads(self.path.read_bytes())
            mac = data.pop("mac")
            length, digest = data["length"], bytes.fromhex(data["sha256"])
            raw = data["newest"]
            newest = None if raw is None else (int(raw[0]), str(raw[1]), str(raw[2]))
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            return None
        if data != self._body(length, digest, newest):
            return None  # another origin or key, another format, or extra fields
        if not isinstance(mac, str) or not hmac.compare_digest(mac, self._mac(data)):
            return None
        return Vouched(length, digest, newest)

    def save(self, length: int, digest: bytes, newest: tuple[int, str, str] | None) -> None:
        """Replace the mark (a rename: readers see the old mark or the new one, never a mix)."""
        body = self._body(length, digest, newest)
        text = json.dumps({**body, "mac": self._mac(body)}, sort_keys=True).encode("utf-8")
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, text)
            finally:
                os.close(fd)
            tmp.replace(self.path)
        except OSError:
            # Only a cache: the next process checks every line instead.
            tmp.unlink(missing_ok=True)
