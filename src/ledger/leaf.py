# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Canonical leaf encoding of a stored event record.

A leaf commits to the record exactly as it is *stored*: the notification position, the
aggregate id and version, the topic and the state bytes, which are already compressed and
encrypted by the event store. Hashing the stored bytes, never the plaintext, matters because:

* an auditor (or a court expert) can verify the log from a database dump without holding any
  decryption key, so verification never widens access to personal data;
* crypto-shredding (erasing a data subject by destroying their key, GDPR Art. 17) leaves the
  ciphertext and therefore every leaf, proof and signed checkpoint valid;
* a hash of low-entropy plaintext (a name, an e-mail address) published in a receipt or proof
  could be confirmed by guessing; a hash of ciphertext reveals nothing.

The encoding is a version byte followed by fixed-width integers and u32-length-prefixed
fields, so two different records can never encode to the same bytes (no delimiter or
concatenation ambiguity) and the format can evolve behind a new version byte.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ledger.merkle import leaf_hash

LEAF_FORMAT_VERSION = 1
_U32_MAX = 0xFFFFFFFF
_U64_MAX = 0xFFFFFFFFFFFFFFFF


def _u64(value: int, what: str) -> bytes:
    """Encode a big-endian u64, refusing values that would wrap or be ambiguous."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _U64_MAX:
        raise ValueError(f"{what} must be an integer in [0, 2**64), got {value!r}")
    return struct.pack(">Q", value)


def _field(value: bytes, what: str) -> bytes:
    """Encode a u32-length-prefixed byte string."""
    if len(value) > _U32_MAX:
        raise ValueError(f"{what} is too long to encode ({len(value)} bytes)")
    return struct.pack(">I", len(value)) + value


def encode_leaf(
    position: int, originator_id: str, originator_version: int, topic: str, state: bytes
) -> bytes:
    """Return the canonical bytes of one stored event record (the Merkle leaf input).

    Layout: ``0x01 || u64 position || str originator_id || u64 originator_version ||
    str topic || bytes state`` where ``str``/``bytes`` are u32 big-endian length + data and
    strings are UTF-8.
    """
    if not isinstance(state, bytes):
        raise TypeError("state must be the stored bytes")
    return b"".join(
        (
            bytes((LEAF_FORMAT_VERSION,)),
            _u64(position, "position"),
            _field(originator_id.encode("utf-8"), "originator_id"),
            _u64(originator_version, "originator_version"),
            _field(topic.encode("utf-8"), "topic"),
            _field(state, "state"),
        )
    )


@dataclass(frozen=True, slots=True)
class LeafRecord:
    """One stored event record as the ledger sees it: the fields that a leaf commits to."""

    position: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes

    def encode(self) -> bytes:
        """Return the canonical leaf bytes of this record."""
        return encode_leaf(
            self.position, self.originator_id, self.originator_version, self.topic, self.state
        )

    def leaf_hash(self) -> bytes:
        """Return the RFC 9162 leaf hash of this record."""
        return leaf_hash(self.encode())
