"""The key store: per-subject data keys under a key hierarchy, kept apart from the events.

Erasure is crypto-shredding: deleting a subject's wrapped key makes every copy of its sealed
data unreadable, in the event store and in every backup of it, because backups of the event
store never contain keys (the key store is a separate SQLite file or PostgreSQL schema).
A tombstone records *that* a key was destroyed, so a missing key reads as "erased" and a key
that never existed is an integrity failure rather than a silent erasure.

Key hierarchy (RET-5): master key -> key-encryption key (KEK, numbered generations) -> subject
keys. A database does not forget a deleted row at once (PostgreSQL keeps it in heap pages and
WAL until they are reused), so a destroyed subject key leaves a wrapped remnant. Rotating the
KEK re-wraps every live subject key under a new generation and then destroys the old KEK, so
the remnant no longer opens with anything that still exists. The KEK table is tiny, so it can
be rewritten physically (VACUUM FULL) on every rotation, which the big subject-key table cannot.

A check value (a known constant sealed under the master key) lets every open prove the master
key right before anything is written. Rotating and destroying KEKs is `keklifecycle`, which
works on a `KeyStore` through its public KEK methods (`kek`, `new_kek`, `forget_keks`,
`purge_dead_copies`); the wrapping keys themselves are `wrapping` and `custodian`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.kernel.errors import ConfigurationError, IntegrityFailureError
from processor.keys.custodian import FixedCustodian
from processor.keys.wrapping import (
    FIRST_GENERATION,
    KEY_BYTES,
    CustodianWrapper,
    KeyWrapper,
    MasterKey,
    WrappingGenerationGoneError,
    family,
)
from processor.storage.engines import bulk_insert
from processor.storage.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Iterable

    from processor.keys.wrapping import Custodian

# The check value: a known constant sealed under the wrapping key, by which every open proves
# the key right. Public because the ratchet and the master-key rotation re-wrap it, and a
# restore reads it to tell whether a key backup belongs to the store.
CHECK_NAME = "master-key-check"
CHECK_VALUE = b"processor key store: the master key is right (v1)"
LEGACY_GENERATION = 0  # subject keys wrapped by the master key itself, before KEKs existed

metadata = sa.MetaData()
subject_keys = sa.Table(
    "subject_keys",
    metadata,
    sa.Column("subject_id", sa.String(64), primary_key=True),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("kek_generation", sa.Integer, nullable=False, index=True),
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
    sa.Column("wrap_generation", sa.Integer, nullable=False, server_default="1"),
)
key_encryption_keys = sa.Table(
    "key_encryption_keys",
    metadata,
    sa.Column("generation", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("wrapped", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("wrap_generation", sa.Integer, nullable=False, server_default="1"),
)
key_store_check = sa.Table(
    "key_store_check",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("wrap_generation", sa.Integer, nullable=False, server_default="1"),
)
# Which custodian holds the wrapping keys, and when the ratchet last ran (processor.keys.ratchet).
key_custodian = sa.Table(
    "key_custodian",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("detail", sa.String(256), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("last_ratchet_at", UTCDateTime(), nullable=True),
)
# An unfinished master-key rotation's marker (`processor.keys.masterrotation`). Its own metadata:
# only that rotation creates it, and an open of the key store only asks whether it is there.
rotation_metadata = sa.MetaData()
master_rotation = sa.Table(
    "master_rotation",
    rotation_metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("new_check", sa.LargeBinary, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # started | committed
    sa.Column("started_at", UTCDateTime(), nullable=False),
)
# The one row of `key_custodian` (the ratchet stamps `last_ratchet_at` on it).
CUSTODIAN_ROW = "custodian"
_WRAPPED_TABLES = ("key_encryption_keys", "system_keys", "key_store_check")


def kek_name(generation: int) -> str:
    """The associated data a KEK is wrapped under by the master key."""
    return f"kek:{generation}"


def subject_key_name(subject_id: str, generation: int) -> str:
    """The associated data a subject key is wrapped under (its subject and KEK generation)."""
    return subject_id if generation == LEGACY_GENERATION else f"{subject_id}@kek:{generation}"


class KeyStore:
    """Subject and system keys in their own database (SQLite file or PostgreSQL schema)."""

    def __init__(
        self, engine: sa.Engine, custodian: Custodian | MasterKey, *, at: datetime | None = None
    ) -> None:
        """Open (or create) the key store and prove the custodian right before any write.

        Everything happens in one transaction: when the check value does not open, it rolls
        back and nothing is written. A `MasterKey` is taken as the operator's fixed key.
        """
        self._engine = engine
        self._custodian = (
            FixedCustodian(custodian) if isinstance(custodian, MasterKey) else custodian
        )
        self._keks: dict[bytes, KeyWrapper | CustodianWrapper] = {}
        now = at or datetime.now(tz=UTC)
        with engine.begin() as conn:
            metadata.create_all(conn)
            self._upgrade(conn)
            generation = self._check_master(conn, now)
            if not conn.execute(
                sa.select(sa.func.count()).select_from(key_encryption_keys)
            ).scalar():
                conn.execute(
                    key_encryption_keys.insert(),
                    {"generation": 1, "wrapped": self.new_kek(1, generation),
                     "created_at": now, "wrap_generation": generation},
                )  # fmt: skip
        # A ratchet that committed and then died left older generations: destroy them now.
        # Newer ones may be a ratchet under way elsewhere; the next ratchet destroys those.
        if self._custodian.can_ratchet:
            for old in self._custodian.generations():
                if old < generation:
                    self._custodian.destroy(old)

    @property
    def engine(self) -> sa.Engine:
        """The key store's engine (tests scan its files and tables)."""
        return self._engine

    @property
    def custodian(self) -> Custodian:
        """Where the wrapping keys are (processor.keys.custodian)."""
        return self._custodian

    # -- the custodian and its check value -----------------------------------------------------

    def _check_custodian(self, conn: sa.Connection, now: datetime, *, new: bool) -> None:
        """Refuse a custodian of another kind than the one this key store was made with."""
        row = conn.execute(
            sa.select(key_custodian.c.kind, key_custodian.c.detail).where(
                key_custodian.c.name == CUSTODIAN_ROW
            )
        ).first()
        if row is None:
            if not new and self._custodian.kind == "pkcs11":
                return  # a file store opened with a token: the check value refuses it below
            conn.execute(
                key_custodian.insert(),
                {"name": CUSTODIAN_ROW, "kind": self._custodian.kind,
                 "detail": self._custodian.describe(), "created_at": now},
            )  # fmt: skip
            return
        if family(row.kind) != family(self._custodian.kind):
            raise ConfigurationError(
                f"this key store's wrapping keys are held by the {row.detail} custodian, but "
                f"this run is configured for {self._custodian.describe()}: set "
                + (
                    "PROCESSOR_CUSTODIAN=pkcs11 and PROCESSOR_PKCS11_MODULE/_TOKEN/_PIN"
                    if row.kind == "pkcs11"
                    else "PROCESSOR_CUSTODIAN=file (or unset it) and keep the key folder"
                )
            )

    def _check_master(self, conn: sa.Connection, now: datetime) -> int:
        """Prove the custodian right; return the wrapping generation the store is under."""
        row = conn.execute(
            sa.select(key_store_check.c.sealed, key_store_check.c.wrap_generation).where(
                key_store_check.c.name == CHECK_NAME
            )
        ).first()
        self._check_custodian(conn, now, new=row is None and not self._has_keys(conn))
        if row is not None:
            generation = int(row[1])
            if generation not in self._custodian.generations():
                raise self._custodian.missing(generation)
            try:
                ok = self._custodian.unwrap(generation, CHECK_NAME, row[0]) == CHECK_VALUE
            except IntegrityFailureError:
                ok = False
            if not ok:
                if pending_rotation(conn) == "committed":
                    raise IntegrityFailureError(
                        "the key store was re-wrapped under a new master key that is not "
                        "installed yet: rerun `processor keys rotate-master` with that key file"
                    )
                raise IntegrityFailureError(
                    "the master key does not open this key store (check value fails): "
                    "wrong master key, or the key store was altered"
                )
            return generation
        generation = self._custodian.generation
        if generation == 0:
            raise self._custodian.missing(1)
        # A key store from before check values: prove the master key on a key it already holds.
        legacy = conn.execute(
            sa.select(
                system_keys.c.name, system_keys.c.wrapped, system_keys.c.wrap_generation
            ).limit(1)
        ).first()
        if legacy is not None:
            generation = int(legacy[2])
            self._custodian.unwrap(generation, legacy[0], legacy[1])
        conn.execute(
            key_store_check.insert(),
            {"name": CHECK_NAME,
             "sealed": self._custodian.wrap(generation, CHECK_NAME, CHECK_VALUE),
             "created_at": now, "wrap_generation": generation},
        )  # fmt: skip
        return generation

    @staticmethod
    def _has_keys(conn: sa.Connection) -> bool:
        return conn.execute(sa.select(system_keys.c.name).limit(1)).first() is not None

    def wrap_generation(self, conn: sa.Connection) -> int:
        """The generation everything is wrapped under, share-locked against a ratchet."""
        return int(
            conn.execute(
                sa.select(key_store_check.c.wrap_generation)
                .where(key_store_check.c.name == CHECK_NAME)
                .with_for_update(read=True)
            ).scalar_one()
        )

    def _upgrade(self, conn: sa.Connection) -> None:
        """Add columns newer than the store: KEK generation (legacy keys: 0), wrapping generation.

        Every key wrapped before the custodian existed was wrapped by `master.key`, which is the
        custodian's generation 1.
        """
        inspector = sa.inspect(conn)
        columns = {c["name"] for c in inspector.get_columns("subject_keys", _schema(conn))}
        if "kek_generation" not in columns:
            conn.execute(
                sa.text(
                    f"ALTER TABLE {_qualified(conn, 'subject_keys')} "
                    f"ADD COLUMN kek_generation INTEGER NOT NULL DEFAULT {LEGACY_GENERATION}"
                )
            )
        for table in _WRAPPED_TABLES:
            columns = {c["name"] for c in inspector.get_columns(table, _schema(conn))}
            if "wrap_generation" not in columns:
                conn.execute(
                    sa.text(
                        f"ALTER TABLE {_qualified(conn, table)} "
                        "ADD COLUMN wrap_generation INTEGER NOT NULL DEFAULT 1"
                    )
                )

    # -- key-encryption keys -------------------------------------------------------------------

    def new_kek(self, generation: int, wrap_generation: int) -> bytes:
        """A fresh random KEK of `generation`, wrapped by the custodian (for the KEK lifecycle)."""
        return self._custodian.wrap(wrap_generation, kek_name(generation), os.urandom(KEY_BYTES))

    def kek(
        self, generation: int, wrapped: bytes | None, wrap_generation: int | None = None
    ) -> KeyWrapper | CustodianWrapper:
        """The unwrapped KEK of a generation (cached by its wrapped bytes for this process).

        Public for the KEK lifecycle and the ratchet (`keklifecycle`, `ratchet`), which re-wrap
        subject keys and KEKs with the store's own cache.
        """
        if generation == LEGACY_GENERATION:
            return CustodianWrapper(self._custodian, FIRST_GENERATION)  # was `master.key`
        if wrapped is None or wrap_generation is None:
            raise IntegrityFailureError(
                f"key-encryption key {generation} is missing while keys still use it: "
                "key store altered"
            )
        kek = self._keks.get(wrapped)
        if kek is None:
            kek = self._keks[wrapped] = KeyWrapper(
                self._custodian.unwrap(wrap_generation, kek_name(generation), wrapped)
            )
        return kek

    def _current_kek(self, conn: sa.Connection) -> tuple[int, KeyWrapper | CustodianWrapper]:
        """The newest KEK, share-locked on PostgreSQL so a rotation cannot destroy it meanwhile."""
        row = conn.execute(
            sa.select(
                key_encryption_keys.c.generation,
                key_encryption_keys.c.wrapped,
                key_encryption_keys.c.wrap_generation,
            )
            .order_by(key_encryption_keys.c.generation.desc())
            .limit(1)
            .with_for_update(read=True)
        ).first()
        if row is None:
            raise IntegrityFailureError(
                "the key store has no key-encryption key: key store altered"
            )
        return row[0], self.kek(row[0], row[1], row[2])

    # -- subject keys --------------------------------------------------------------------------

    def create_subject_keys(self, subject_ids: Iterable[str], at: datetime) -> dict[str, bytes]:
        """Create a fresh random key for each subject, in one transaction, and return them."""
        keys = {sid: os.urandom(KEY_BYTES) for sid in subject_ids}
        if keys:
            with self._engine.begin() as conn:
                gen, kek = self._current_kek(conn)
                rows = [
                    {
                        "subject_id": sid,
                        "wrapped": kek.wrap(subject_key_name(sid, gen), k),
                        "kek_generation": gen,
                        "created_at": at,
                    }
                    for sid, k in keys.items()
                ]
                bulk_insert(conn, subject_keys, rows)
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
                try:
                    self._read_chunk(conn, chunk, found)
                except WrappingGenerationGoneError:
                    # A ratchet in another process committed and destroyed the generation our
                    # statement saw; the next statement sees the re-wrapped KEK.
                    conn.rollback()
                    self._read_chunk(conn, chunk, found)
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

    def _read_chunk(
        self, conn: sa.Connection, chunk: list[str], found: dict[str, bytes | None]
    ) -> None:
        # One statement reads each key with its KEK, so a concurrent rotation is seen either
        # wholly before or wholly after.
        for sid, wrapped, gen, kek, wgen in conn.execute(
            with_kek(subject_keys.c.subject_id, subject_keys.c.wrapped).where(
                subject_keys.c.subject_id.in_(chunk)
            )
        ):
            found[sid] = self.kek(gen, kek, wgen).unwrap(subject_key_name(sid, gen), wrapped)

    def destroy_subject_keys(self, subject_ids: Iterable[str], at: datetime) -> int:
        """Destroy keys (crypto-shredding) and leave tombstones; returns how many were destroyed.

        Destroying an already destroyed key is a no-op, so an interrupted erasure can be rerun.
        The wrapped remnant a database may keep becomes useless at the next KEK rotation.
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
            self.purge_dead_copies()
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

    # -- system keys ---------------------------------------------------------------------------

    def system_key(self, name: str, *, create: bool = True, at: datetime | None = None) -> bytes:
        """Return a named system key (ledger signing, pseudonyms, blind index), creating it once."""
        try:
            return self._system_key(name, create=create, at=at)
        except WrappingGenerationGoneError:
            # Read between another process's ratchet commit and its destroy step: read again.
            return self._system_key(name, create=create, at=at)

    def _system_key(self, name: str, *, create: bool, at: datetime | None) -> bytes:
        with self._engine.begin() as conn:
            row = conn.execute(
                sa.select(system_keys.c.wrapped, system_keys.c.wrap_generation).where(
                    system_keys.c.name == name
                )
            ).first()
            if row is not None:
                return self._custodian.unwrap(int(row[1]), name, row[0])
            if not create:
                raise ConfigurationError(f"system key {name!r} is missing from the key store")
            key = os.urandom(KEY_BYTES)
            generation = self.wrap_generation(conn)
            conn.execute(
                system_keys.insert(),
                {
                    "name": name,
                    "wrapped": self._custodian.wrap(generation, name, key),
                    "created_at": at or datetime.now(tz=UTC),
                    "wrap_generation": generation,
                },
            )
            return key

    def forget_keks(self) -> None:
        """Drop every unwrapped KEK this process holds: none outlives its destruction."""
        self._keks.clear()

    def purge_dead_copies(self, *, keks: bool = False, wrapped: bool = False) -> None:
        """Make destroyed keys physically unrecoverable from the store's files, as far as we can.

        SQLite runs with `secure_delete` (freed cells and pages are zeroed) and a rollback
        journal. PostgreSQL keeps dead tuples until VACUUM, so we run it; a plain VACUUM only
        marks the space free, so the small KEK table is rewritten (VACUUM FULL) after a KEK is
        destroyed. WAL still holds old rows until it is recycled: that is why the hierarchy
        exists (see the module docstring).
        """
        if self._engine.dialect.name != "postgresql":
            return
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text(f"VACUUM {_qualified(conn, subject_keys.name)}"))
            tables = _WRAPPED_TABLES if wrapped else (key_encryption_keys.name,) if keks else ()
            for table in tables:
                conn.execute(sa.text(f"VACUUM FULL {_qualified(conn, table)}"))


def with_kek(*columns: Any) -> sa.Select[Any]:  # noqa: ANN401 - SQLAlchemy column objects
    """Select subject-key columns with the generation and wrapped KEK that opens each.

    Public for the KEK rotation (`keklifecycle`), which reads keys with their KEK the same way.
    """
    return sa.select(
        *columns,
        subject_keys.c.kek_generation,
        key_encryption_keys.c.wrapped,
        key_encryption_keys.c.wrap_generation,
    ).join_from(
        subject_keys,
        key_encryption_keys,
        subject_keys.c.kek_generation == key_encryption_keys.c.generation,
        isouter=True,
    )


def pending_rotation(conn: sa.Connection) -> str | None:
    """The state of an unfinished master-key rotation, if any (for error messages)."""
    if not sa.inspect(conn).has_table(master_rotation.name, _schema(conn)):
        return None
    state = conn.execute(sa.select(master_rotation.c.state)).scalar()
    return None if state is None else str(state)


def _schema(conn: sa.Connection) -> str | None:
    schema_map = conn.get_execution_options().get("schema_translate_map") or {}
    schema: str | None = schema_map.get(None)
    return schema


def _qualified(conn: sa.Connection, name: str) -> str:
    schema = _schema(conn)
    return f'"{schema}"."{name}"' if schema else f'"{name}"'


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
