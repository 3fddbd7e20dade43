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

from dataclasses import dataclass
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.errors import CheckpointError
from ledger.note import (
    NamedPrivateKey,
    NamedPublicKey,
    check_key_name,
    check_note_text,
    decode_key,
    format_signature_line,
    key_id,
    parse_note,
    split_key,
)

COSIGNATURE_V1_TYPE = 0x04
_ID_BYTES = 4
_TIME_BYTES = 8
_SIG_BYTES = 64
_MAX_TIME = 2**63 - 1


def cosignature_key_id(name: str, public_key: bytes) -> bytes:
    """Return the 4-byte key ID of a cosignature/v1 key (signature type 0x04)."""
    return key_id(name, public_key, COSIGNATURE_V1_TYPE)


def cosigned_message(note_text: str, timestamp: int) -> bytes:
    """Return the exact bytes a cosignature/v1 signs for checkpoint text ``note_text``."""
    check_note_text(note_text)
    if isinstance(timestamp, bool) or not 0 <= timestamp <= _MAX_TIME:
        raise CheckpointError("cosignature timestamp must be in [0, 2**63)")
    return f"cosignature/v1\ntime {timestamp}\n{note_text}".encode()


@dataclass(frozen=True, slots=True)
class Cosignature:
    """One verified cosignature: who, and when (POSIX seconds) they vouched for the tree."""

    name: str
    timestamp: int


class CosignatureVerifier(NamedPublicKey):
    """A witness's public key, as a verifier of its cosignature/v1 lines."""

    key_type: ClassVar[int] = COSIGNATURE_V1_TYPE

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex key ID>+base64(0x04 || key)`` and check the key ID."""
        name, hex_id, b64 = split_key(vkey.strip())
        check_key_name(name)
        kind = "a cosignature/v1 (type 0x04)"
        public = decode_key(b64, "witness key", COSIGNATURE_V1_TYPE, kind)
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(public))
        if len(hex_id) != 2 * _ID_BYTES or verifier.key_id.hex() != hex_id.lower():
            raise CheckpointError("witness key ID does not match its name and key")
        return verifier

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


class CosignatureSigner(NamedPrivateKey):
    """A witness's private key: signs cosignature/v1 lines."""

    key_type: ClassVar[int] = COSIGNATURE_V1_TYPE

    def verifier(self) -> CosignatureVerifier:
        """The matching verifier."""
        return CosignatureVerifier(self.name, self.private_key.public_key())

    def cosign(self, note_text: str, timestamp: int) -> str:
        """Return the cosignature line (with its newline) over checkpoint text ``note_text``."""
        signature = self.private_key.sign(cosigned_message(note_text, timestamp))
        blob = self.key_id + timestamp.to_bytes(_TIME_BYTES, "big") + signature
        return format_signature_line(self.name, blob)


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
