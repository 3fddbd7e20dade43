"""Replacing the master key (RET-5, RET-8): every KEK and system key re-wrapped, resumably.

Key-store backups are wrapped under the master key, so an old key backup holds the keys of
subjects erased since it was taken for as long as that master key exists. Rotating the master
key and then destroying the old one makes every earlier key backup useless at once.

Crash safety comes from the order and a marker row (`master_rotation`):

1. The marker is written with the new key's check value, so a rerun must use the same new key.
2. Subject keys still wrapped by the master key itself (generation 0, from before KEKs) are moved
   under a KEK by a KEK rotation, which is resumable on its own.
3. One transaction re-wraps every KEK and system key, replaces the check value and marks the
   rotation committed: the key store is wholly under the old key or wholly under the new one.
4. The caller installs the new key where the store reads it, then `finish` deletes the marker.

A crash after 3 leaves a store the old key no longer opens; rerunning the command with the same
new key sees that the new key opens the check value and completes steps 4 and 5.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from processor.config import check_private
from processor.kernel.errors import IntegrityFailureError, InvalidInputError
from processor.keys.keklifecycle import rotate_kek
from processor.keys.keystore import (
    CHECK_NAME,
    CHECK_VALUE,
    LEGACY_GENERATION,
    KeyStore,
    kek_name,
    key_encryption_keys,
    key_store_check,
    master_rotation,
    rotation_metadata,
    subject_keys,
    system_keys,
)
from processor.keys.wrapping import MasterKey

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

_ROW = "master"


@dataclass(frozen=True)
class MasterRotation:
    """What one run of `keys rotate-master` did."""

    state: str  # rotated | resumed | already-rotated
    keks: int
    system_keys: int
    legacy_keys_moved: int


def _opens(key: MasterKey, sealed: bytes) -> bool:
    try:
        return key.unwrap(CHECK_NAME, sealed) == CHECK_VALUE
    except IntegrityFailureError:
        return False


def rotate_master(
    engine: sa.Engine, old: MasterKey, new: MasterKey, at: datetime
) -> MasterRotation:
    """Re-wrap everything the master key wraps under `new` (steps 1-3 of the module docstring)."""
    with engine.begin() as conn:
        rotation_metadata.create_all(conn)
        sealed = conn.execute(
            sa.select(key_store_check.c.sealed).where(key_store_check.c.name == CHECK_NAME)
        ).scalar_one()
        pending = conn.execute(sa.select(master_rotation)).first()
        if _opens(new, sealed):
            return MasterRotation("already-rotated" if pending is None else "resumed", 0, 0, 0)
        if not _opens(old, sealed):
            raise IntegrityFailureError(
                "neither the configured nor the new master key opens the key store"
            )
        if pending is not None and not _opens(new, pending.new_check):
            raise InvalidInputError(
                "a rotation to another new master key is pending: rerun with that key file"
            )
        if pending is None:
            conn.execute(
                master_rotation.insert(),
                {"name": _ROW, "new_check": new.wrap(CHECK_NAME, CHECK_VALUE),
                 "state": "started", "started_at": at},
            )  # fmt: skip
    legacy = _count_legacy(engine)
    if legacy:
        rotate_kek(KeyStore(engine, old, at=at), at)
    with engine.begin() as conn:
        keks = conn.execute(
            sa.select(
                key_encryption_keys.c.generation, key_encryption_keys.c.wrapped
            ).with_for_update()
        ).all()
        for generation, wrapped in keks:
            name = kek_name(generation)
            conn.execute(
                key_encryption_keys.update()
                .where(key_encryption_keys.c.generation == generation)
                .values(wrapped=new.wrap(name, old.unwrap(name, wrapped)))
            )
        names = conn.execute(sa.select(system_keys.c.name, system_keys.c.wrapped)).all()
        for name, wrapped in names:
            conn.execute(
                system_keys.update()
                .where(system_keys.c.name == name)
                .values(wrapped=new.wrap(name, old.unwrap(name, wrapped)))
            )
        conn.execute(
            key_store_check.update()
            .where(key_store_check.c.name == CHECK_NAME)
            .values(sealed=new.wrap(CHECK_NAME, CHECK_VALUE))
        )
        conn.execute(master_rotation.update().values(state="committed"))
    return MasterRotation("rotated", len(keks), len(names), legacy)


def _count_legacy(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(subject_keys)
            .where(subject_keys.c.kek_generation == LEGACY_GENERATION)
        ).scalar()
    return int(count or 0)


def finish(engine: sa.Engine) -> None:
    """Forget the rotation once the new key is installed where the store reads it (step 4)."""
    with engine.begin() as conn:
        rotation_metadata.create_all(conn)
        conn.execute(master_rotation.delete())


def _schema(conn: sa.Connection) -> str | None:
    schema_map = conn.get_execution_options().get("schema_translate_map") or {}
    schema: str | None = schema_map.get(None)
    return schema


def install_key_file(path: Path, key_hex: str) -> None:
    """Replace the master key file atomically (0600): a crash leaves the old or the new key."""
    temp = path.with_name(path.name + ".new")
    temp.unlink(missing_ok=True)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key_hex + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    temp.replace(path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def wrap_generation(engine: sa.Engine) -> int:
    """The wrapping generation the key store's check value is under (1 before the custodian)."""
    with engine.connect() as conn:
        columns = {
            c["name"] for c in sa.inspect(conn).get_columns(key_store_check.name, _schema(conn))
        }
        if "wrap_generation" not in columns:
            return 1
        value = conn.execute(
            sa.select(key_store_check.c.wrap_generation).where(key_store_check.c.name == CHECK_NAME)
        ).scalar()
    return 1 if value is None else int(value)


def key_opens(engine: sa.Engine, key: MasterKey) -> bool:
    """Tell whether `key` opens the key store's check value (read-only)."""
    with engine.connect() as conn:
        sealed = conn.execute(
            sa.select(key_store_check.c.sealed).where(key_store_check.c.name == CHECK_NAME)
        ).scalar()
    return sealed is not None and _opens(key, sealed)


def read_or_create_key_file(path: Path) -> tuple[str, bool]:
    """The new master key from `path` (0600), or a fresh random one written there; and if new."""
    if path.exists():
        check_private(path, 0o600)
        text = path.read_text(encoding="ascii").strip()
        MasterKey.from_hex(text)  # malformed or weak: refused before anything changes
        return text, False
    text = MasterKey.generate_hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return text, True
