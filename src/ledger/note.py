# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

The signed-note format is what transparency-log tooling (Go's ``golang.org/x/mod/sumdb/note``,
witnesses, ``transparency-dev``) already speaks, so our checkpoints can be checked by
third-party tools and cosigned by witnesses without a custom format. Keys use the same
verifier-key (``vkey``) and signer-key (``skey``) strings as the Go package.

Parsing is strict on purpose: base64 must be canonical (otherwise an edited character that
only touches padding bits would still verify, and "any edited byte fails" would be false),
control characters are refused, and a known key with a bad signature rejects the whole note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self

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

if TYPE_CHECKING:
    from collections.abc import Sequence

EM_DASH = "\u2014"
ED25519_TYPE = 0x01
MAX_SIGNATURES = 100
_KEY_BYTES = 32
_ID_BYTES = 4
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")


def strict_b64decode(text: str, what: str) -> bytes:
    """Decode standard base64, accepting only the canonical encoding of the result."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def check_key_name(name: str) -> None:
    """Key names must be non-empty and contain no whitespace or '+' (signed-note spec)."""
    if not name or "+" in name or any(ch.isspace() for ch in name) or _CONTROL.search(name):
        raise CheckpointError(f"invalid key name {name!r}")


def key_id(name: str, public_key: bytes, key_type: int = ED25519_TYPE) -> bytes:
    """Return the 4-byte key ID: SHA-256(name || 0x0A || key type || public key)[:4].

    The signed-note spec derives every key ID this way; only the type byte tells a note
    signature (0x01) from, say, a witness cosignature (0x04).
    """
    data = name.encode("utf-8") + b"\n" + bytes((key_type,)) + public_key
    return hashlib.sha256(data).digest()[:_ID_BYTES]


def raw_public(key: Ed25519PublicKey) -> bytes:
    """Return the raw 32 bytes of an Ed25519 public key, as key IDs and vkeys carry it."""
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def format_vkey(name: str, key_id: bytes, key_type: int, public_key: bytes) -> str:
    """Return the verifier key string ``<name>+<hex key ID>+base64(key type || public key)``."""
    material = bytes((key_type,)) + public_key
    return f"{name}+{key_id.hex()}+{base64.b64encode(material).decode('ascii')}"


def split_key(text: str) -> tuple[str, str, str]:
    """Split ``<name>+<hex key ID>+<base64>`` into its three parts, unchecked."""
    name, _, rest = text.partition("+")
    hex_id, _, b64 = rest.partition("+")
    return name, hex_id, b64


def decode_key(b64: str, what: str, key_type: int, kind: str) -> bytes:
    """Decode base64 ``key type || 32 key bytes`` and return the key bytes.

    `kind` names the expected type in the error (``"an Ed25519 (type 0x01)"``).
    """
    material = strict_b64decode(b64, what)
    if len(material) != 1 + _KEY_BYTES or material[0] != key_type:
        raise CheckpointError(f"{what} is not {kind} key")
    return material[1:]


def format_signature_line(name: str, blob: bytes) -> str:
    """Return a signature line ``— <name> <base64(blob)>`` (with its newline)."""
    return f"{EM_DASH} {name} {base64.b64encode(blob).decode('ascii')}\n"


class NamedPublicKey:
    """An Ed25519 public key under a key name, with the key ID of its signature type."""

    key_type: ClassVar[int] = ED25519_TYPE

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        check_key_name(name)
        self.name = name
        self.public_key = public_key
        self.key_id = key_id(name, raw_public(public_key), self.key_type)

    def vkey(self) -> str:
        """Return the verifier key string to publish (for auditors and witnesses)."""
        return format_vkey(self.name, self.key_id, self.key_type, raw_public(self.public_key))


class NamedPrivateKey:
    """An Ed25519 private key under a key name, with the key ID of its signature type."""

    key_type: ClassVar[int] = ED25519_TYPE

    def __init__(self, private_key: Ed25519PrivateKey, name: str) -> None:
        check_key_name(name)
        self.name = name
        self.private_key = private_key
        self.key_id = key_id(name, raw_public(private_key.public_key()), self.key_type)

    @classmethod
    def generate(cls, name: str) -> Self:
        """Create a key with fresh random material."""
        return cls(Ed25519PrivateKey.generate(), name)

    @classmethod
    def from_private_bytes(cls, name: str, raw: bytes) -> Self:
        """Load a key from the raw 32-byte Ed25519 private key (seed)."""
        if len(raw) != _KEY_BYTES:
            raise CheckpointError("an Ed25519 private key is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(raw), name)

    def private_bytes(self) -> bytes:
        """Return the raw 32-byte private key, for storage in a secrets manager."""
        return self.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def vkey(self) -> str:
        """Return the verifier key string to publish."""
        public = raw_public(self.private_key.public_key())
        return format_vkey(self.name, self.key_id, self.key_type, public)


class Verifier(NamedPublicKey):
    """An Ed25519 note verifier: a key name plus a public key."""

    @classmethod
    def from_vkey(cls, vkey: str) -> Self:
        """Parse ``<name>+<hex key id>+<base64(0x01 || public key)>`` and check the key ID."""
        name, hex_id, b64 = split_key(vkey)
        if not _HEX8.fullmatch(hex_id) or not b64:
            raise CheckpointError("verifier key is not <name>+<8 hex digits>+<base64 key>")
        check_key_name(name)
        public = decode_key(b64, "verifier key", ED25519_TYPE, "an Ed25519 (type 0x01)")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(public))
        if verifier.key_id != bytes.fromhex(hex_id):
            raise CheckpointError("verifier key ID does not match its name and key")
        return verifier

    def verify(self, text: str, signature: bytes) -> bool:
        """Return whether ``signature`` (without key ID) is valid over ``text``."""
        try:
            self.public_key.verify(signature, text.encode("utf-8"))
        except InvalidSignature:
            return False
        return True


class NoteSigner(NamedPrivateKey):
    """An Ed25519 note signer: a key name plus a private key."""

    @classmethod
    def from_skey(cls, skey: str) -> Self:
        """Load a Go-compatible ``PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>``."""
        prefix = "PRIVATE+KEY+"
        if not skey.startswith(prefix):
            raise CheckpointError("signer key does not start with PRIVATE+KEY+")
        name, hex_id, b64 = split_key(skey.removeprefix(prefix))
        seed = decode_key(b64, "signer key", ED25519_TYPE, "an Ed25519 (type 0x01)")
        if not _HEX8.fullmatch(hex_id):
            raise CheckpointError("signer key is not an Ed25519 (type 0x01) key")
        signer = cls.from_private_bytes(name, seed)
        if signer.key_id != bytes.fromhex(hex_id):
            raise CheckpointError("signer key ID does not match its name and key")
        return signer

    def skey(self) -> str:
        """Return the Go-compatible signer key string (secret!)."""
        material = bytes((ED25519_TYPE,)) + self.private_bytes()
        b64 = base64.b64encode(material).decode("ascii")
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{b64}"

    def verifier(self) -> Verifier:
        """Return the matching verifier."""
        return Verifier(self.name, self.private_key.public_key())

    def signature_line(self, text: str) -> str:
        """Return the signature line ``— <name> <base64(key ID || signature)>`` (with newline)."""
        signature = self.private_key.sign(text.encode("utf-8"))
        return format_signature_line(self.name, self.key_id + signature)

    def sign_note(self, text: str) -> str:
        """Return the signed note: ``text``, a blank line, then the signature line."""
        check_note_text(text)
        return text + "\n" + self.signature_line(text)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One parsed signature line."""

    name: str
    key_id: bytes
    signature: bytes


def check_note_text(text: str) -> None:
    """Note text must be non-empty, end in a newline and contain no other control chars."""
    if not text.endswith("\n") or _CONTROL.search(text):
        raise CheckpointError("note text must end with a newline and have no control characters")


def parse_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signatures, without verifying anything."""
    if not isinstance(note, str):
        raise CheckpointError("a signed note must be text")
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("signed note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    check_note_text(text)
    if not block.endswith("\n") or _CONTROL.search(block):
        raise CheckpointError("signature block must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for line in lines:
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != EM_DASH:  # noqa: PLR2004 - dash, name, signature
            raise CheckpointError("malformed signature line")
        check_key_name(parts[1])
        blob = strict_b64decode(parts[2], "signature")
        if len(blob) <= _ID_BYTES:
            raise CheckpointError("signature is too short")
        signatures.append(NoteSignature(parts[1], blob[:_ID_BYTES], blob[_ID_BYTES:]))
    return text, signatures


def open_note(note: str, verifiers: Verifier | Sequence[Verifier]) -> str:
    """Verify a signed note and return its text.

    Signatures from unknown keys are ignored (witness cosignatures, rotated keys); a
    signature from a known key that fails rejects the note; at least one must verify.
    """
    known = [verifiers] if isinstance(verifiers, Verifier) else list(verifiers)
    text, signatures = parse_note(note)
    verified = 0
    for sig in signatures:
        for verifier in known:
            if verifier.name == sig.name and verifier.key_id == sig.key_id:
                if not verifier.verify(text, sig.signature):
                    raise CheckpointError(f"invalid signature by key {sig.name!r}")
                verified += 1
    if not verified:
        raise CheckpointError("note is not signed by any known key")
    return text
