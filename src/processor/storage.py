"""Engines for the read models, the ledger and the key store, on SQLite or PostgreSQL.

SQLite: one file per store in the data directory. The key store file uses `secure_delete` and
a rollback journal (not WAL), so a destroyed key leaves no copy in a free page or WAL file.
PostgreSQL: schemas in the configured database(s); each schema is created on first use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from processor.config import PostgresLocation, Settings


def _sqlite_engine(path: Path, *, keystore: bool = False) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:  # noqa: ANN401
        cur = dbapi_conn.cursor()
        if keystore:
            cur.execute("PRAGMA journal_mode=DELETE")
            cur.execute("PRAGMA secure_delete=ON")
        else:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    return engine


def _postgres_engine(loc: PostgresLocation) -> sa.Engine:
    base = sa.create_engine(loc.sqlalchemy_url(), pool_size=2, max_overflow=2)
    with base.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{loc.schema}"'))
    return base.execution_options(schema_translate_map={None: loc.schema})


def ensure_postgres_schema(loc: PostgresLocation) -> None:
    """Create the schema that `eventsourcing` will put its events table in."""
    _postgres_engine(loc).dispose()


class Engines:
    """The SQLAlchemy engines of one store."""

    def __init__(self, settings: Settings) -> None:
        if settings.backend == "postgres":
            events = settings.events_location()
            self.readmodels = _postgres_engine(events)
            self.ledger = self.readmodels
            self.keys = _postgres_engine(settings.keystore_location())
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.readmodels = _sqlite_engine(settings.data_dir / "readmodels.sqlite")
            self.ledger = _sqlite_engine(settings.data_dir / "ledger.sqlite")
            self.keys = _sqlite_engine(settings.data_dir / "keys.sqlite", keystore=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        for engine in {id(e): e for e in (self.readmodels, self.ledger, self.keys)}.values():
            engine.dispose()
