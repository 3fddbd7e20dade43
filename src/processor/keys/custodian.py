"""The key custodian: where the destroyable wrapping keys live, by generation (RET-5, SUBJ-4).

The key store keeps KEKs, system keys and its check value wrapped under a *wrapping key*. A
database cannot forget: an old KEK row survives in PostgreSQL's WAL, in a `pg_dump`, in a copy of
`keys.sqlite` and in every key-store backup. What it wraps is safe only if the wrapping key that
opens it is destroyed somewhere destruction is real. The custodian holds those wrapping keys by
generation, and the ratchet (`processor.keys.ratchet`) makes generation n+1, re-wraps everything
live under it and destroys generation n: every copy wrapped under n is then undecryptable.

- `FileCustodian` (the embedded default): generation g is a 0600 file in the store's key folder;
  the `master.key` every store already has is generation 1. Destroying overwrites the file with
  random bytes, syncs and unlinks it. A filesystem, an SSD's spare blocks or a snapshot may
  still keep the old bytes: that rests on trust (docs/security-model.md).
- `FixedCustodian`: a master key the operator gives (PROCESSOR_MASTER_KEY, --master-key-file).
  We do not own that secret, so we cannot destroy it: it cannot ratchet, and `status` says so.
- `Pkcs11Custodian` (`processor.keys.custodian_pkcs11`): an AES key generated inside an HSM or a
  cloud KMS's PKCS#11 token, never extractable; wrapping happens inside the token.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

from processor.kernel.errors import (
    ConfigurationError,
    IntegrityFailureError,
    ProcessorError,
    RefusedError,
)

if TYPE_CHECKING:
    from processor.config import Settings
    from processor.keys.keystore import MasterKey

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


class FileCustodian(Custodian):
    """Wrapping keys as 0600 files in the store's key folder; `master.key` is generation 1."""

    kind = FILE

    def __init__(self, folder: Path, first: Path | None = None) -> None:
        self._folder = folder
        self._first = first or folder / "master.key"
        self._keys: dict[int, MasterKey] = {}

    @property
    def can_ratchet(self) -> bool:
        """A file we made ourselves can be replaced and destroyed."""
        return True

    @property
    def folder(self) -> Path:
        """The key folder the generation files are in."""
        return self._folder

    def path(self, generation: int) -> Path:
        """The file of a generation: `master.key` for 1 (every store has it), else numbered."""
        if generation == FIRST_GENERATION:
            return self._first
        return self._folder / f"master.g{generation}.key"

    def generations(self) -> tuple[int, ...]:
        """Every generation file present."""
        held = {FIRST_GENERATION} if self._first.exists() else set()
        for path in self._folder.glob("master.g*.key"):
            number = path.name[len("master.g") : -len(".key")]
            if number.isdigit():
                held.add(int(number))
        return tuple(sorted(held))

    def _key(self, generation: int) -> MasterKey:
        key = self._keys.get(generation)
        if key is None:
            from processor.config import check_private
            from processor.keys.keystore import MasterKey

            path = self.path(generation)
            if not path.exists():
                raise self.missing(generation)
            check_private(path, 0o600)
            key = self._keys[generation] = MasterKey.from_hex(path.read_text(encoding="ascii"))
        return key

    def wrap(self, generation: int, name: str, key: bytes) -> bytes:
        """AES-256-GCM under the generation's key file, `name` as associated data."""
        return self._key(generation).wrap(name, key)

    def unwrap(self, generation: int, name: str, wrapped: bytes) -> bytes:
        """Open a key wrapped under the generation's key file."""
        return self._key(generation).unwrap(name, wrapped)

    def ratchet(self) -> int:
        """Write generation n+1 as a new random 0600 key file (never over an existing one)."""
        from processor.keys.keystore import MasterKey

        generation = self.generation + 1
        path = self.path(generation)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(MasterKey.generate_hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        _sync_folder(self._folder)
        return generation

    def destroy(self, generation: int) -> None:
        """Overwrite the key file with random bytes, sync it, unlink it and sync the folder."""
        self._keys.pop(generation, None)
        path = self.path(generation)
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            os.write(fd, os.urandom(max(size, 1)))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        _sync_folder(path.parent)

    def describe(self) -> str:
        """The key folder."""
        return f"file ({self._folder})"

    def missing(self, generation: int) -> ProcessorError:
        """No key file at all is a store never made here (or moved); else a ratchet's doing."""
        if not self.generations():
            return ConfigurationError(
                f"no master key at {self._first}: run `processor init`, or set "
                "PROCESSOR_MASTER_KEY / --master-key-file"
            )
        return super().missing(generation)


class FixedCustodian(Custodian):
    """A master key the operator gives: generation 1 for ever, never destroyed by us."""

    kind = FIXED

    def __init__(self, master: MasterKey, source: str = "PROCESSOR_MASTER_KEY") -> None:
        self._master = master
        self._source = source

    @property
    def can_ratchet(self) -> bool:
        """We do not own the operator's secret, so we cannot destroy it."""
        return False

    def generations(self) -> tuple[int, ...]:
        """Only generation 1."""
        return (FIRST_GENERATION,)

    def _check(self, generation: int) -> None:
        if generation != FIRST_GENERATION:
            raise self.missing(generation)

    def wrap(self, generation: int, name: str, key: bytes) -> bytes:
        """Wrap with the operator's master key."""
        self._check(generation)
        return self._master.wrap(name, key)

    def unwrap(self, generation: int, name: str, wrapped: bytes) -> bytes:
        """Unwrap with the operator's master key."""
        self._check(generation)
        return self._master.unwrap(name, wrapped)

    def ratchet(self) -> int:
        """Refused: see `why_not_ratchet`."""
        raise RefusedError(self.why_not_ratchet(), rule="CustodianMustBeAbleToRatchet")

    def destroy(self, generation: int) -> None:  # noqa: ARG002 - refused for every generation
        """Refused: the operator's key is not ours to destroy."""
        raise RefusedError(self.why_not_ratchet(), rule="CustodianMustBeAbleToRatchet")

    def describe(self) -> str:
        """Where the operator's key comes from."""
        return f"fixed ({self._source})"

    def why_not_ratchet(self) -> str:
        """The operator's key cannot ratchet; how to move to a custodian that can."""
        return (
            f"the master key is given by the operator ({self._source}), so it cannot ratchet and "
            "old KEK copies in WAL, dumps and backups stay decryptable with it: move to a "
            "ratcheting custodian (put the key in master.key, mode 0600, in the store's key "
            "folder and stop setting it, or use PROCESSOR_CUSTODIAN=pkcs11 on a new store)"
        )


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _file_folder(settings: Settings) -> Path:
    """The key folder holding generation files: the store's key folder, or a legacy data dir."""
    for folder in (settings.key_dir(), settings.data_dir):
        if (folder / "master.key").exists() or any(folder.glob("master.g*.key")):
            return folder
    return settings.key_dir()


def open_custodian(settings: Settings, *, create: bool) -> Custodian:
    """The custodian the settings choose (PROCESSOR_CUSTODIAN, or the master-key options).

    With `create` (init), a file custodian's generation 1 (`master.key`) and a token's first
    wrapping key are made when missing.
    """
    kind = settings.custodian_kind()
    if kind == PKCS11:
        from processor.keys.custodian_pkcs11 import Pkcs11Custodian

        return Pkcs11Custodian.from_settings(settings, create=create)
    if kind == FIXED:
        source = (
            "PROCESSOR_MASTER_KEY" if settings.master_key_hex else f"{settings.master_key_file}"
        )
        return FixedCustodian(settings.master_key(create=create), source)
    if kind != FILE:
        raise ConfigurationError(
            f"unknown key custodian {kind!r}: use one of {', '.join(KINDS[:2])}"
        )
    folder = _file_folder(settings)
    first = folder / "master.key"
    custodian = FileCustodian(folder, first)
    held = custodian.generations()
    if not held:
        if not create:
            if settings.backend == "sqlite" and not settings.keystore_file().exists():
                raise custodian.missing(FIRST_GENERATION)  # no key store to open either
            # Not refused here: the key store says first whether it was made with a token.
            return custodian
        settings.master_key(create=True)  # generation 1: master.key, 0600, in a 0700 folder
    elif folder == settings.key_dir():
        from processor.config import check_private

        check_private(folder, 0o700)
    return custodian
