# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
r"""C2SP tlog-cosignature v1 (https://c2sp.org/tlog-cosignature): a witness's Ed25519 cosignature.

A log's own signature says "I, the log, committed to this tree". It cannot show that the log did
not later show someone else a different tree, or roll its store back and sign a shorter one. A
witness's cosignature adds a second statement, by a key the log does not hold: "as of this time,
this is the largest tree of this log I have seen, and it is consistent with everything I saw
before". The format is the C2SP one so that third-party witnesses and verifiers interoperate:

- signed message: ``"cosignature/v1\n" + "time <POSIX seconds>\n" + <checkpoint note text>``
  (the whole note body, extension lines included, signature lines excluded);
- key ID: ``SHA-256(<name> || "\n" || 0x04 || <32-byte Ed25519 public key>)[:4]``;
- signature line: ``— <name> base64(key ID || u64 big-endian timestamp || Ed25519 signature)``;
- verifier key (vkey): ``<name>+<hex key ID>+base64(0x04 || public key)``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ledger.errors import CheckpointError
from ledger.note import EM_DASH, check_key_name, check_note_text, parse_note, strict_b64decode

COSIGNATURE_V1_TYPE = 0x04
_KEY_BYTES = 32
_ID_BYTES = 4
_TIME_BYTES = 8
_SIG_BYTES = 64
_MAX_TIME = 2**63 - 1


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID of a cosignature/v1 key (signature type 0x04)."""
    data = name.encode("utf-8") + b"\n" + bytes((COSIGNATURE_V1_TYPE,)) + public_key
    return hashlib.sha256(data).digest()[:_ID_BYTES]


def cosigned_message(note_text: str, timestamp: int) -> bytes:
    """Return the exact bytes a cosignature/v1 signs for checkpoint text ``note_text``."""
    check_note_text(note_text)
    if isinstance(timestamp, bool) or not 0 <= timestamp <= _MAX_TIME:
        raise CheckpointError("cosignature timestamp must be in [0, 2**63)")
    return f"cosignature/v1\ntime {timestamp}\n{note_text}".encode()


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class Cosignature:
    """One verified cosignature: who, and when (POSIX seconds) they vouched for the tree."""

    name: str
    timestamp: int


class CosignatureVerifier:
    """A witness's public key, as a verifier of its cosignature/v1 lines."""

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_id = cosignature_key_id(name, _raw(public_key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex key ID>+base64(0x04 || key)`` and check the key ID."""
        name, _, rest = vkey.strip().partition("+")
        hex_id, _, b64 = rest.partition("+")
        check_key_name(name)
        material = strict_b64decode(b64, "witness key")
        if len(material) != 1 + _KEY_BYTES or material[0] != COSIGNATURE_V1_TYPE:
            raise CheckpointError("witness key is not a cosignature/v1 (type 0x04) key")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(material[1:]))
        if len(hex_id) != 2 * _ID_BYTES or verifier.key_id.hex() != hex_id.lower():
            raise CheckpointError("witness key ID does not match its name and key")
        return verifier

    def vkey(self) -> str:
        """Return the witness's verifier key string, to give to whoever relies on it."""
        material = bytes((COSIGNATURE_V1_TYPE,)) + _raw(self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(material).decode('ascii')}"

    def verify_note(self, note: str) -> Cosignature:
        """Return this witness's valid cosignature on the signed note ``note``.

        Lines of other keys are ignored (the log's own signature, other witnesses). A line with
        this witness's name and key ID that does not verify rejects the note, as does the
        absence of any line from this witness.
        """
        text, signatures = parse_note(note)
        found: Cosignature | None = None
        for sig in signatures:
            if sig.name != self.name or sig.key_id != self.key_id:
                continue
            if len(sig.signature) != _TIME_BYTES + _SIG_BYTES:
                raise CheckpointError(f"cosignature by {self.name!r} has the wrong length")
            timestamp = int.from_bytes(sig.signature[:_TIME_BYTES], "big")
            try:
                self.public_key.verify(
                    sig.signature[_TIME_BYTES:], cosigned_message(text, timestamp)
                )
            except InvalidSignature:
                raise CheckpointError(f"invalid cosignature by witness {self.name!r}") from None
            if found is None or timestamp > found.timestamp:
                found = Cosignature(self.name, timestamp)
        if found is None:
            raise CheckpointError(f"checkpoint carries no cosignature by witness {self.name!r}")
        return found


class CosignatureSigner:
    """A witness's private key: signs cosignature/v1 lines."""

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        check_key_name(name)
        self.name = name
        self.private_key = private_key
        self.key_id = cosignature_key_id(name, _raw(private_key.public_key()))

    @classmethod
    def generate(cls, name: str) -> Self:
        """A witness with a fresh random key."""
        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def from_private_bytes(cls, name: str, raw: bytes) -> Self:
        """Load a witness key from its raw 32-byte Ed25519 seed."""
        if len(raw) != _KEY_BYTES:
            raise CheckpointError("an Ed25519 private key is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(raw), name)

    def private_bytes(self) -> bytes:
        """The raw 32-byte seed, for the witness's own key file."""
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def verifier(self) -> CosignatureVerifier:
        """The matching verifier."""
        return CosignatureVerifier(self.name, self.private_key.public_key())

    def vkey(self) -> str:
        """The verifier key string to publish."""
        return self.verifier().vkey()

    def cosign(self, note_text: str, timestamp: int) -> str:
        """Return the cosignature line (with its newline) over checkpoint text ``note_text``."""
        signature = self.private_key.sign(cosigned_message(note_text, timestamp))
        blob = self.key_id + timestamp.to_bytes(_TIME_BYTES, "big") + signature
        return f"{EM_DASH} {self.name} {base64.b64encode(blob).decode('ascii')}\n"


def add_signature_lines(note: str, lines: str) -> str:
    """Append signature lines (e.g. a witness's response) to a signed note, once each."""
    if not lines:
        return note
    parse_note(note)
    have = set(note.split("\n"))
    extra = [line for line in lines.rstrip("\n").split("\n") if line and line not in have]
    merged = note + "".join(line + "\n" for line in extra)
    parse_note(merged)  # still a well-formed note
    return merged
