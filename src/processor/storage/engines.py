"""Engines for the read models, the ledger and the key store, on SQLite or PostgreSQL.

SQLite: one file per store. Events, read models and ledger live in the data directory; the key
store lives apart from it (see `Settings.keystore_file`). Every file is created 0600 in a 0700
folder, and a store whose files others could read or write is refused, because the files hold
the sealed history and the keys that open it. The key store file uses `secure_delete` and a
rollback journal (not WAL), and takes its write lock at the start of every transaction, so a
KEK rotation in one process and a new key in another never interleave.
PostgreSQL: schemas in the configured database(s); each schema is created on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ledger.sqlstore import copy_rows
from processor.config import PostgresLocation, Settings, check_private, private_dir
from processor.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

EVENTS_FILE = "events.sqlite"
_DATA_FILES = (EVENTS_FILE, "readmodels.sqlite", "ledger.sqlite")
_SIDECARS = ("", "-wal", "-shm", "-journal")


SYNCHRONOUS_ENV = "PROCESSOR_SQLITE_SYNCHRONOUS"
SYNCHRONOUS_MODES = ("NORMAL", "FULL")


def sqlite_synchronous() -> str:
    """SQLite's `synchronous` setting for the read-model, ledger and key-store files.

    (The event store file is opened by `eventsourcing`, with SQLite's default, FULL.) NORMAL,
    the default: a returned command survives a crash of the process. After a power loss or an
    operating-system crash the last commits of these files may be missing: read models and
    ledger are then rebuilt from the events on the next start, but a key created by the last
    commits can be lost, leaving its contact unreadable. FULL: every commit is on disk before
    the command returns, at the price of an fsync per file per command. docs/performance.md,
    "Durability", has the table.
    """
    mode = os.environ.get(SYNCHRONOUS_ENV, "NORMAL").strip().upper()
    if mode not in SYNCHRONOUS_MODES:
        raise ConfigurationError(f"{SYNCHRONOUS_ENV} must be NORMAL or FULL, not {mode!r}")
    return mode


def sqlite_engine(path: Path, *, keystore: bool = False) -> sa.Engine:
    """An SQLite engine with our pragmas; a restore opens a staged key store with it too."""
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    synchronous = sqlite_synchronous()

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # noqa: ANN401
        cur = dbapi_conn.cursor()
        if keystore:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
            cur.execute("PRAGMA journal_mode=DELETE")
        else:
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    if keystore:

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _postgres_engine(loc: PostgresLocation) -> sa.Engine:
    base = sa.create_engine(loc.sqlalchemy_url(), pool_size=2, max_overflow=2)
    with base.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{loc.schema}"'))
    return base.execution_options(schema_translate_map={None: loc.schema})


def ensure_postgres_schema(loc: PostgresLocation) -> None:
    """Create the schema that `eventsourcing` will put its events table in."""
    _postgres_engine(loc).dispose()


def sqlite_files(settings: Settings) -> list[Path]:
    """Every SQLite file of the store: events, read models, ledger and the key store."""
    return [settings.data_dir / name for name in _DATA_FILES] + [settings.keystore_file()]


def create_private_sqlite_files(settings: Settings) -> None:
    """Create the store's folders 0700 and its SQLite files 0600 (empty files are valid).

    SQLite gives its WAL, shared-memory and journal files the mode of the database file, so
    they are private too.
    """
    for path in sqlite_files(settings):
        private_dir(path.parent)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def check_private_sqlite_files(settings: Settings) -> None:
    """Refuse a store whose folders or files others could read or write (one-line hint)."""
    folders = {settings.data_dir}
    if settings.keystore_file().parent == settings.key_dir():
        folders.add(settings.key_dir())
    for folder in sorted(folders):
        if folder.exists():
            check_private(folder, 0o700)
    for path in sqlite_files(settings):
        for suffix in _SIDECARS:
            part = path.with_name(path.name + suffix)
            if part.exists():
                check_private(part, 0o600)


class Engines:
    """The SQLAlchemy engines of one store."""

    def __init__(self, settings: Settings, *, create: bool = False) -> None:
        if settings.backend == "postgres":
            events = settings.events_location()
            self.readmodels = _postgres_engine(events)
            self.ledger = self.readmodels
            self.keys = _postgres_engine(settings.keystore_location())
        else:
            if create:
                create_private_sqlite_files(settings)
            check_private_sqlite_files(settings)
            self.readmodels = sqlite_engine(settings.data_dir / "readmodels.sqlite")
            self.ledger = sqlite_engine(settings.data_dir / "ledger.sqlite")
            self.keys = sqlite_engine(settings.keystore_file(), keystore=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in {id(e): e for e in (self.readmodels, self.ledger, self.keys)}.values():
            engine.dispose()


def store_has_events(settings: Settings) -> bool:
    """Tell, without creating or writing anything, whether the store already holds events.

    `init` asks this first, so an `init` refused because the store exists writes nothing.
    """
    if settings.backend == "sqlite":
        path = settings.data_dir / EVENTS_FILE
        if not path.exists() or path.stat().st_size == 0:
            return False
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            return "stored_events" in tables and bool(
                conn.execute("SELECT 1 FROM stored_events LIMIT 1").fetchone()
            )
    loc = settings.events_location()
    engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            table = f'"{loc.schema}"."processor_events"'
            if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
                return False
            return conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None
    finally:
        engine.dispose()


def leftover_keys(settings: Settings) -> str | None:
    """Where keys of an earlier store at this path are ("key folder ..."), or None if none.

    Asked by `init` after `store_has_events` said no: the key folder (SQLite) or key schema
    (PostgreSQL) is named by the store's path, so deleting a data directory and running `init`
    again at the same path meets the old store's keys. Reusing them would mix two stores' keys
    (and fail on the first key the new store makes), so `init` refuses, naming the place.
    """
    tables = ("subject_keys", "shredded_subjects")
    if settings.backend == "sqlite":
        path = settings.keystore_file()
        if not path.exists() or path.stat().st_size == 0:
            return None
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            held = any(
                conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in tables if t in names
            )
        if not held:
            return None
        return f"key store file {path}" if settings.keystore_path else f"key folder {path.parent}"
    loc = settings.keystore_location()
    engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            for name in tables:
                table = f'"{loc.schema}"."{name}"'
                if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is None:
                    continue
                if conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
                    where = f"postgresql://{loc.host}:{loc.port}/{loc.dbname}"
                    return f"key store schema {loc.schema} in {where}"
    finally:
        engine.dispose()
    return None


@contextlib.contextmanager
def setup_lock(engine: sa.Engine, backend: str, name: str) -> Iterator[None]:
    """Serialise a store's set-up (its `CREATE ... IF NOT EXISTS`) across processes.

    `eventsourcing`'s PostgreSQL recorder creates its tables and functions each time a store is
    opened; two processes doing so at the same moment can fail with "tuple concurrently updated".
    A session advisory lock keyed by the schema makes them take turns. SQLite needs none.
    """
    if backend != "postgresql":
        yield
        return
    key = int.from_bytes(
        hashlib.sha256(f"processor-setup:{name}".encode()).digest()[:8], "big", signed=True
    )
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": key})
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": key})


# Below this many rows a batch goes through SQLAlchemy: COPY's extra round trip costs more
# than the per-row work it saves.
BULK_MIN_ROWS = 32


def bulk_insert(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` as `conn.execute(table.insert(), rows)` would, at the driver's own speed.

    The values go through the very bind processors SQLAlchemy would apply (the columns' types
    as adapted to this dialect: UTC timestamps, booleans, JSON), so the stored bytes are the
    same; what is skipped is SQLAlchemy's per-row parameter handling, about 40% of an import's
    projection time (issue 17). SQLite gets one prepared `executemany` of plain tuples,
    PostgreSQL one `COPY`. Rows whose keys differ, or that leave out a column with a Python-side
    default, go through SQLAlchemy, which knows how to fill them in.
    """
    if not rows:
        return
    if len(rows) < BULK_MIN_ROWS:  # a single command's few rows: no gain, one more round trip
        conn.execute(table.insert(), rows)
        return
    keys = tuple(rows[0])
    missing_defaults = any(c.default is not None for c in table.columns if c.name not in rows[0])
    if missing_defaults or not all(map(keys.__eq__, map(tuple, rows))):
        conn.execute(table.insert(), rows)
        return
    dialect = conn.dialect
    processors = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in keys]
    # Column by column, in C-level loops: one `map` per column, and one more where the column
    # has a bind processor, instead of a Python-level step per value (half of a rebuild's
    # insert time went to that per-value step).
    columns = [
        list(map(itemgetter(k), rows)) if p is None else list(map(p, map(itemgetter(k), rows)))
        for p, k in zip(processors, keys, strict=True)
    ]
    values = list(zip(*columns, strict=True))
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(table.schema)
    name = f'"{schema}"."{table.name}"' if schema else f'"{table.name}"'
    cols = ", ".join(f'"{k}"' for k in keys)
    if dialect.driver == "psycopg":
        copy_rows(conn, f"COPY {name} ({cols}) FROM STDIN", values)
        return
    marks = ", ".join("?" for _ in keys)
    conn.exec_driver_sql(f"INSERT INTO {name} ({cols}) VALUES ({marks})", values)
