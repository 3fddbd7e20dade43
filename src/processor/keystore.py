"""The key store: per-subject data keys, wrapped by the master key, kept apart from the events.

Erasure is crypto-shredding: deleting a subject's wrapped key makes every copy of its sealed
data unreadable, in the event store and in every backup of it, because backups of the event
store never contain keys (the key store is a separate SQLite file or PostgreSQL schema).
A tombstone records *that* a key was destroyed, so a missing key reads as "erased" and a key
that never existed is an integrity failure rather than a silent erasure.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from processor.errors import ConfigurationError, IntegrityFailureError
from processor.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Iterable

KEY_BYTES = 32
_NONCE = 12

metadata = sa.MetaData()
subject_keys = sa.Table(
    "subject_keys",
    metadata,
    sa.Column("subject_id", sa.String(64), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)
shredded_subjects = sa.Table(
    "shredded_subjects",
    metadata,
    sa.Column("subject_id", sa.String(64), primary_key=True),
    sa.Column("shredded_at", UTCDateTime(), nullable=False),
)
system_keys = sa.Table(
    "system_keys",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)


class MasterKey:
    """Wraps and unwraps data keys (envelope encryption, AES-256-GCM bound to the key's name)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ConfigurationError("the master key must be 32 bytes (64 hex characters)")
        self._aead = AESGCM(key)

    @classmethod
    def from_hex(cls, text: str) -> MasterKey:
        """Parse a master key given as 64 hex characters (PROCESSOR_MASTER_KEY)."""
        try:
            return cls(bytes.fromhex(text.strip()))
        except ValueError:
            raise ConfigurationError("the master key must be 64 hex characters") from None

    def wrap(self, name: str, key: bytes) -> bytes:
        """Encrypt `key`; `name` is bound as associated data so wrapped keys cannot be swapped."""
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, key, name.encode())

    def unwrap(self, name: str, wrapped: bytes) -> bytes:
        """Decrypt a wrapped key; a wrong master key or a swapped row is an integrity failure."""
        try:
            return self._aead.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], name.encode())
        except Exception:  # noqa: BLE001 - any failure here means the key cannot be trusted
            raise IntegrityFailureError(
                f"key {name!r} cannot be unwrapped: wrong master key or altered key store"
            ) from None


class KeyStore:
    """Subject and system keys in their own database (SQLite file or PostgreSQL schema)."""

    def __init__(self, engine: sa.Engine, master: MasterKey) -> None:
        self._engine = engine
        self._master = master
        metadata.create_all(engine)

    @property
    def engine(self) -> sa.Engine:
        """The key store's engine (tests scan its files and tables)."""
        return self._engine

    def create_subject_keys(self, subject_ids: Iterable[str], at: datetime) -> dict[str, bytes]:
        """Create a fresh random key for each subject, in one transaction, and return them."""
        keys = {sid: os.urandom(KEY_BYTES) for sid in subject_ids}
        if keys:
            rows = [
                {"subject_id": sid, "wrapped": self._master.wrap(sid, k), "created_at": at}
                for sid, k in keys.items()
            ]
            with self._engine.begin() as conn:
                conn.execute(subject_keys.insert(), rows)
        return keys

    def subject_keys(self, subject_ids: Iterable[str]) -> dict[str, bytes | None]:
        """Return each subject's key, or None when it was destroyed (the subject is erased).

        A subject with neither a key nor a tombstone means the key store and the event store
        disagree, which is reported as an integrity failure rather than read as erased.
        """
        wanted = list(dict.fromkeys(subject_ids))
        found: dict[str, bytes | None] = {}
        with self._engine.connect() as conn:
            for chunk in _chunks(wanted, 500):
                for sid, wrapped in conn.execute(
                    sa.select(subject_keys.c.subject_id, subject_keys.c.wrapped).where(
                        subject_keys.c.subject_id.in_(chunk)
                    )
                ):
                    found[sid] = self._master.unwrap(sid, wrapped)
                missing = [sid for sid in chunk if sid not in found]
                if missing:
                    for (sid,) in conn.execute(
                        sa.select(shredded_subjects.c.subject_id).where(
                            shredded_subjects.c.subject_id.in_(missing)
                        )
                    ):
                        found[sid] = None
        lost = [sid for sid in wanted if sid not in found]
        if lost:
            raise IntegrityFailureError(
                f"no key and no erasure record for subject {lost[0]}: key store out of step"
            )
        return found

    def destroy_subject_keys(self, subject_ids: Iterable[str], at: datetime) -> int:
        """Destroy keys (crypto-shredding) and leave tombstones; returns how many were destroyed.

        Destroying an already destroyed key is a no-op, so an interrupted erasure can be rerun.
        """
        ids = list(dict.fromkeys(subject_ids))
        destroyed = 0
        with self._engine.begin() as conn:
            for chunk in _chunks(ids, 500):
                destroyed += conn.execute(
                    subject_keys.delete().where(subject_keys.c.subject_id.in_(chunk))
                ).rowcount
                already = {
                    r[0]
                    for r in conn.execute(
                        sa.select(shredded_subjects.c.subject_id).where(
                            shredded_subjects.c.subject_id.in_(chunk)
                        )
                    )
                }
                rows = [{"subject_id": s, "shredded_at": at} for s in chunk if s not in already]
                if rows:
                    conn.execute(shredded_subjects.insert(), rows)
        if destroyed:
            self._purge_dead_copies()
        return destroyed

    def is_shredded(self, subject_id: str) -> bool:
        """Tell whether the subject's key was destroyed."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.select(shredded_subjects.c.subject_id).where(
                    shredded_subjects.c.subject_id == subject_id
                )
            ).first()
        return row is not None

    def system_key(self, name: str, *, create: bool = True, at: datetime | None = None) -> bytes:
        """Return a named system key (ledger signing, pseudonyms, blind index), creating it once."""
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(system_keys.c.wrapped).where(system_keys.c.name == name)
            ).first()
            if row is not None:
                return self._master.unwrap(name, row[0])
            if not create:
                raise ConfigurationError(f"system key {name!r} is missing from the key store")
            key = os.urandom(KEY_BYTES)
            conn.execute(
                system_keys.insert(),
                {
                    "name": name,
                    "wrapped": self._master.wrap(name, key),
                    "created_at": at or datetime.now(tz=UTC),
                },
            )
            return key

    def _purge_dead_copies(self) -> None:
        """Make destroyed keys physically unrecoverable from the store's own files.

        SQLite runs with `secure_delete` (freed pages are zeroed) and a rollback journal, so no
        copy survives in a WAL file. PostgreSQL keeps dead tuples until VACUUM, so we run it.
        """
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in (subject_keys,):
                    conn.execute(sa.text(f"VACUUM {_qualified(conn, table.name)}"))


def _qualified(conn: sa.Connection, name: str) -> str:
    schema_map = conn.get_execution_options().get("schema_translate_map") or {}
    schema = schema_map.get(None)
    return f'"{schema}"."{name}"' if schema else f'"{name}"'


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
