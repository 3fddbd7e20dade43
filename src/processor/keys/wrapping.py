"""What wraps keys: a wrapping key in memory, the master key, and the custodian interface.

The lowest file of the key family. It does no I/O and knows no settings, so the key store
(`keystore`), the concrete custodians (`custodian`, `custodian_pkcs11`) and the settings' own
master-key reader can all build on it without importing one another. A `KeyWrapper` is AES-256-GCM
with the wrapped key's name bound as associated data; a `MasterKey` is one that refuses weak
material; a `Custodian` holds the destroyable wrapping keys of a store by generation
(`processor.keys.custodian` says where they live), and `CustodianWrapper` shows one of its
generations as a `KeyWrapper`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from processor.kernel.errors import (
    ConfigurationError,
    IntegrityFailureError,
    ProcessorError,
)

KEY_BYTES = 32
_NONCE = 12
_MIN_DISTINCT_BYTES = 8

# The custodian kinds, and the generation `master.key` has always been.
FILE = "file"
FIXED = "fixed"
PKCS11 = "pkcs11"
KINDS = (FILE, PKCS11, FIXED)
FIRST_GENERATION = 1


def family(kind: str) -> str:
    """Key material that is 32 bytes in a file or variable (file, fixed) versus a token."""
    return PKCS11 if kind == PKCS11 else FILE


class WrappingGenerationGoneError(IntegrityFailureError):
    """A key is wrapped under a generation the custodian no longer holds (a ratchet destroyed it).

    Read in the instant between another process's ratchet commit and its destroy step, a retry
    sees the re-wrapped row; anywhere else it means a copy from before the ratchet.
    """


class Custodian(ABC):
    """Holds the destroyable wrapping keys of one store, by generation."""

    kind: str = ""

    @property
    @abstractmethod
    def can_ratchet(self) -> bool:
        """Whether this custodian can make new generations and destroy old ones."""

    @abstractmethod
    def generations(self) -> tuple[int, ...]:
        """Every generation this custodian still holds, oldest first."""

    @property
    def generation(self) -> int:
        """The newest generation held (0 when none yet)."""
        held = self.generations()
        return held[-1] if held else 0

    @abstractmethod
    def wrap(self, generation: int, name: str, key: bytes) -> bytes:
        """Encrypt `key` under the wrapping key of `generation`, binding `name`."""

    @abstractmethod
    def unwrap(self, generation: int, name: str, wrapped: bytes) -> bytes:
        """Decrypt a key wrapped under `generation`; a wrong name or key is an integrity failure."""

    @abstractmethod
    def ratchet(self) -> int:
        """Make generation n+1 (n the newest held) and return it."""

    @abstractmethod
    def destroy(self, generation: int) -> None:
        """Destroy a generation's wrapping key for good (a no-op when it is already gone)."""

    def describe(self) -> str:
        """Where the wrapping keys are, for `keys status` and error messages."""
        return self.kind

    def why_not_ratchet(self) -> str:
        """Why this custodian cannot ratchet, and how to move to one that can."""
        return ""

    def close(self) -> None:  # noqa: B027 - most custodians hold no session
        """Let go of any session the custodian holds."""

    def missing(self, generation: int) -> ProcessorError:
        """The error for a key store wrapped under a generation this custodian does not hold."""
        return WrappingGenerationGoneError(
            f"the key store is wrapped under wrapping-key generation {generation}, which the "
            f"{self.describe()} custodian no longer holds (destroyed by a ratchet, RET-5): "
            "keys and copies from before that ratchet cannot be opened"
        )


def weakness(key: bytes) -> str | None:
    """Why `key` is too weak to be a master key, or None.

    Catches what people type by hand or copy from examples: one byte repeated (all-zero
    included), a short pattern repeated, a counting sequence, or very few distinct bytes.
    """
    steps = {(key[i + 1] - key[i]) % 256 for i in range(len(key) - 1)}
    if len(steps) == 1:
        return "its bytes are all equal or count up/down"
    for period in (2, 4, 8, 16):
        if key == key[:period] * (len(key) // period):
            return f"it repeats a {period}-byte pattern"
    if len(set(key)) < _MIN_DISTINCT_BYTES:
        return f"it has fewer than {_MIN_DISTINCT_BYTES} distinct bytes"
    return None


class KeyWrapper:
    """Wraps and unwraps keys (AES-256-GCM, the wrapped key's name bound as associated data)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigurationError("the master key must be 32 bytes (64 hex characters)")
        self._aead = AESGCM(key)

    def wrap(self, name: str, key: bytes) -> bytes:
        """Encrypt `key`; `name` is bound as associated data so wrapped keys cannot be swapped."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, key, name.encode())

    def unwrap(self, name: str, wrapped: bytes) -> bytes:
        """Decrypt a wrapped key; a wrong key or a swapped row is an integrity failure."""
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], name.encode())
        except Exception:  # noqa: BLE001 - any failure here means the key cannot be trusted
            raise IntegrityFailureError(
                f"key {name!r} cannot be unwrapped: wrong master key or altered key store"
            ) from None


class MasterKey(KeyWrapper):
    """The root of the hierarchy: wraps KEKs and system keys; weak keys are refused."""

    def __init__(self, key: bytes) -> None:
        super().__init__(key)
        why = weakness(key)
        if why is not None:
            raise ConfigurationError(f"the master key is weak ({why}): generate a random one")

    @classmethod
    def from_hex(cls, text: str) -> MasterKey:
        """Parse a master key given as 64 hex characters (PROCESSOR_MASTER_KEY)."""
        try:
            raw = bytes.fromhex(text.strip())
        except ValueError:
            raise ConfigurationError("the master key must be 64 hex characters") from None
        return cls(raw)

    @staticmethod
    def generate_hex() -> str:
        """A fresh random master key as hex (what `init` writes to the key file)."""
        while True:
            key = os.urandom(KEY_BYTES)
            if weakness(key) is None:  # practically always on the first draw
                return key.hex()


class CustodianWrapper:
    """One custodian generation seen as a `KeyWrapper` (the keys the master key used to wrap)."""

    def __init__(self, custodian: Custodian, generation: int) -> None:
        self._custodian = custodian
        self.generation = generation

    def wrap(self, name: str, key: bytes) -> bytes:
        """Wrap inside the custodian under this generation."""
        return self._custodian.wrap(self.generation, name, key)

    def unwrap(self, name: str, wrapped: bytes) -> bytes:
        """Unwrap inside the custodian under this generation."""
        return self._custodian.unwrap(self.generation, name, wrapped)
