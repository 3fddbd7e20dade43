"""Sealing personal data with the data subject's own key (AES-256-GCM).

Personal fields are sealed *before* they reach an aggregate, so the event store, snapshots
and the aggregate cache only ever hold ciphertext. Opening a value whose key was destroyed
yields `ERASED` instead of raising: erased history stays readable as history.

The key store alone does not decide what is erased: a key it offers for a subject whose
erasure the events record is never used (`processor.keys.erasures`), and reading such a subject is
an integrity failure, because the key was put back behind the application's back.
"""

from __future__ import annotations

import base64
import json
import os
from typing import TYPE_CHECKING, Any, Final, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from processor.kernel.errors import IntegrityFailureError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from processor.keys.keystore import KeyStore

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


def resurrected_message(subject_id: str) -> str:
    """The one-line error for a key found alive after its subject's recorded erasure."""
    return (
        f"subject {subject_id} is erased by its recorded erasure, yet the key store holds a key "
        "for it (put back after the erasure?): nothing was decrypted; run `processor doctor`"
    )


class ErasureOracle(Protocol):
    """What the sealer asks before it trusts a live key: whether the events erased the subject."""

    def erased_among(self, subject_ids: Iterable[str]) -> dict[str, bool]:
        """The erased subjects among `subject_ids`, each with whether its erasure is settled."""
        ...


class Sealer:
    """Seals and opens values per subject, fetching keys from the key store in batches.

    Unwrapped keys are cached only for the life of one command (`forget()` is called when the
    command ends), so an erasure by another process is honoured by the next command.

    The cipher object of the last key used is kept too: a new contact's profile, source and
    consent evidence are sealed one after another under one key, and a fresh `AESGCM` costs
    more than the encryption itself (its context is set up on first use). Only one is kept,
    so a rebuild opening a million subjects holds one, not a million; it is found by the
    identity of the key bytes this cache handed out, so a shredded (None) key never reaches it.

    With an `ErasureOracle` (the application always gives one), every live key the key store
    hands over is checked against the events first: a subject they erased gets None whatever
    the key store says, and one whose erasure is settled is remembered as *resurrected*, so
    any read of it raises IntegrityFailureError naming `processor doctor`.
    """

    def __init__(self, keys: KeyStore, erasures: ErasureOracle | None = None) -> None:
        self._keys = keys
        self._cache: dict[str, bytes | None] = {}
        self._last: tuple[bytes, AESGCM] | None = None
        self.erasures = erasures
        self._resurrected: set[str] = set()

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
        if not missing:
            return
        found = self._keys.subject_keys(missing)
        if self.erasures is not None:
            alive = [sid for sid, key in found.items() if key is not None]
            for sid, settled in self.erasures.erased_among(alive).items():
                found[sid] = None  # the events erased it: its key is never used
                if settled:
                    self._resurrected.add(sid)
        self._cache.update(found)

    def key(self, subject_id: str) -> bytes | None:
        """The subject's key, or None if it was destroyed (or the events erased the subject).

        A key alive for a subject whose erasure is settled raises IntegrityFailureError.
        """
        if subject_id not in self._cache:
            self.prefetch([subject_id])
        if subject_id in self._resurrected:
            raise IntegrityFailureError(resurrected_message(subject_id))
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

    def open_unless_erased(self, subject_id: str, purpose: str, token: str) -> Any:  # noqa: ANN401
        """`open`, but a subject the events erased reads as `ERASED` even if its key is back.

        For the projector: it runs before every command (`doctor` included) and must derive
        nothing for an erased subject, while the refusal belongs to the reading commands.
        """
        if subject_id not in self._cache:
            self.prefetch([subject_id])
        key = self._cache[subject_id]
        if key is None:
            return ERASED
        return open_with_aead(self._aead(key), subject_id, purpose, token)

    def shred(self, subject_ids: Iterable[str], at: datetime) -> int:
        """Destroy the subjects' keys and forget any cached copy."""
        ids = list(subject_ids)
        count = self._keys.destroy_subject_keys(ids, at)
        for sid in ids:
            self._cache[sid] = None
            self._resurrected.discard(sid)
        return count

    def forget(self) -> None:
        """Drop every cached key (end of a command)."""
        self._cache.clear()
        self._resurrected.clear()
        self._last = None
