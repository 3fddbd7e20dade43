"""Sealing personal data with the data subject's own key (AES-256-GCM).

Personal fields are sealed *before* they reach an aggregate, so the event store, snapshots
and the aggregate cache only ever hold ciphertext. Opening a value whose key was destroyed
yields `ERASED` instead of raising: erased history stays readable as history.
"""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from processor.errors import IntegrityFailureError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from processor.keystore import KeyStore

_PREFIX: Final = "s1."
_NONCE: Final = 12
# `json.dumps` with these arguments builds this same encoder on every call; one instance
# gives the same text without that cost on the per-contact sealing path.
_ENCODE: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


PROCESSOR_RECORDS: Final = "records:processor"


def records_subject(controller: str | None) -> str:
    """The key-store subject whose key seals free text that concerns no single data subject.

    Each controller has its own records key (destroyed when its data is deleted, RET-1/RET-2);
    text that belongs to no controller is sealed with the processor's records key.
    """
    return PROCESSOR_RECORDS if controller is None else f"records:{controller}"


class Erased:
    """The explicit marker for data whose key was destroyed."""

    _instance: Erased | None = None

    def __new__(cls) -> Erased:  # noqa: PYI034 - a singleton marker
        """Return the one ERASED instance."""
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ERASED"

    def __str__(self) -> str:
        return "[erased]"

    def __bool__(self) -> bool:
        return False


ERASED: Final = Erased()


def seal_with_key(key: bytes, subject_id: str, purpose: str, value: Any) -> str:  # noqa: ANN401
    """Seal a JSON-serialisable value; subject and purpose are bound as associated data."""
    return seal_with_aead(AESGCM(key), subject_id, purpose, value)


def seal_with_aead(aead: AESGCM, subject_id: str, purpose: str, value: Any) -> str:  # noqa: ANN401
    """`seal_with_key` with the cipher object already made (a fresh nonce every time)."""
    nonce = os.urandom(_NONCE)
    sealed = aead.encrypt(nonce, _ENCODE(value).encode(), f"{subject_id}|{purpose}".encode())
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_with_key(key: bytes, subject_id: str, purpose: str, token: str) -> Any:  # noqa: ANN401
    """Open a sealed value; a forged or moved ciphertext is an integrity failure."""
    return open_with_aead(AESGCM(key), subject_id, purpose, token)


def open_with_aead(aead: AESGCM, subject_id: str, purpose: str, token: str) -> Any:  # noqa: ANN401
    """`open_with_key` with the cipher object already made."""
    if not token.startswith(_PREFIX):
        raise IntegrityFailureError("sealed value has an unknown format")
    raw = base64.urlsafe_b64decode(token[len(_PREFIX) :])
    try:
        plaintext = aead.decrypt(raw[:_NONCE], raw[_NONCE:], f"{subject_id}|{purpose}".encode())
    except InvalidTag:
        raise IntegrityFailureError(
            f"sealed {purpose} of subject {subject_id} fails authentication"
        ) from None
    return json.loads(plaintext)


class Sealer:
    """Seals and opens values per subject, fetching keys from the key store in batches.

    Unwrapped keys are cached only for the life of one command (`forget()` is called when the
    command ends), so an erasure by another process is honoured by the next command.

    The cipher object of the last key used is kept too: a new contact's profile, source and
    consent evidence are sealed one after another under one key, and a fresh `AESGCM` costs
    more than the encryption itself (its context is set up on first use). Only one is kept,
    so a rebuild opening a million subjects holds one, not a million; it is found by the
    identity of the key bytes this cache handed out, so a shredded (None) key never reaches it.
    """

    def __init__(self, keys: KeyStore) -> None:
        self._keys = keys
        self._cache: dict[str, bytes | None] = {}
        self._last: tuple[bytes, AESGCM] | None = None

    def _aead(self, key: bytes) -> AESGCM:
        last = self._last
        if last is not None and last[0] is key:
            return last[1]
        aead = AESGCM(key)
        self._last = (key, aead)
        return aead

    def new_subjects(self, subject_ids: Iterable[str], at: datetime) -> None:
        """Create keys for new subjects (before any of their events is stored)."""
        self._cache.update(self._keys.create_subject_keys(subject_ids, at))

    def prefetch(self, subject_ids: Iterable[str]) -> None:
        """Load keys for many subjects at once, so bulk reads cost one query."""
        missing = [s for s in subject_ids if s not in self._cache]
        if missing:
            self._cache.update(self._keys.subject_keys(missing))

    def key(self, subject_id: str) -> bytes | None:
        """The subject's key, or None if it was destroyed."""
        if subject_id not in self._cache:
            self.prefetch([subject_id])
        return self._cache[subject_id]

    def seal(self, subject_id: str, purpose: str, value: Any) -> str:  # noqa: ANN401
        """Seal `value` for the subject; sealing for an erased subject is refused."""
        key = self.key(subject_id)
        if key is None:
            raise IntegrityFailureError(f"subject {subject_id} is erased; nothing can be sealed")
        return seal_with_aead(self._aead(key), subject_id, purpose, value)

    def open(self, subject_id: str, purpose: str, token: str) -> Any:  # noqa: ANN401
        """Open a sealed value, or return `ERASED` when the subject's key was destroyed."""
        key = self.key(subject_id)
        if key is None:
            return ERASED
        return open_with_aead(self._aead(key), subject_id, purpose, token)

    def shred(self, subject_ids: Iterable[str], at: datetime) -> int:
        """Destroy the subjects' keys and forget any cached copy."""
        ids = list(subject_ids)
        count = self._keys.destroy_subject_keys(ids, at)
        for sid in ids:
            self._cache[sid] = None
        return count

    def forget(self) -> None:
        """Drop every cached key (end of a command)."""
        self._cache.clear()
        self._last = None
