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

The `Custodian` interface and the kinds are in `processor.keys.wrapping`, below this module, so
the PKCS#11 custodian builds on them without importing the file and fixed ones.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from processor.config import check_private, private_dir
from processor.kernel.errors import ConfigurationError, RefusedError
from processor.keys.wrapping import (
    FILE,
    FIRST_GENERATION,
    FIXED,
    KINDS,
    PKCS11,
    Custodian,
    MasterKey,
)

if TYPE_CHECKING:
    from pathlib import Path

    from processor.config import Settings
    from processor.kernel.errors import ProcessorError


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
                "PROCESSOR_MASTER_KEY / --master-key-file (a store moved from elsewhere before "
                "it had a store.id: `processor stores list`, then `processor stores adopt ID`)"
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
        return FixedCustodian(master_key(settings, create=create), source)
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
        master_key(settings, create=True)  # generation 1: master.key, 0600, in a 0700 folder
    elif folder == settings.key_dir():
        check_private(folder, 0o700)
    return custodian


def master_key(settings: Settings, *, create: bool) -> MasterKey:
    """The master key: PROCESSOR_MASTER_KEY (hex), or the 0600 file `master_key_path()`.

    With `create`, a missing file is made with a fresh random key; an existing one is used
    (a rerun of an interrupted `init`). The key store's check value proves it right. It lives
    here, not on `Settings`, so reading settings (every CLI start) never imports the keys.
    """
    if settings.master_key_hex:
        return MasterKey.from_hex(settings.master_key_hex)
    path = settings.master_key_path()
    if not path.exists():
        if not create:
            raise ConfigurationError(
                f"no master key at {path}: run `processor init`, or set "
                "PROCESSOR_MASTER_KEY / --master-key-file (a store moved from elsewhere before "
                "it had a store.id: `processor stores list`, then `processor stores adopt ID`)"
            )
        key = MasterKey.generate_hex()
        private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key + "\n")
    check_private(path, 0o600)
    if path.parent == settings.key_dir():
        check_private(path.parent, 0o700)
    return MasterKey.from_hex(path.read_text(encoding="ascii"))
