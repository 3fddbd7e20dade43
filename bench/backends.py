"""Where a benchmark run keeps its data: temporary SQLite files, or fresh PostgreSQL schemas.

Every store and every baseline of a run gets its own SQLite directory or PostgreSQL schema,
all named after the run, and all of them are removed when the run ends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from processor.config import Settings, with_schema
from processor.storage.engines import ensure_postgres_schema
from processor.storage.eventstore import eventstore_env

DEFAULT_POSTGRES_URL = "postgresql://root@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The PostgreSQL server to benchmark (the test suite's)."""
    return os.environ.get("PROCESSOR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def plain_url(url: str) -> str:
    """`url` without its query (`?schema=`), as libpq understands it."""
    return urlunsplit(urlsplit(url)._replace(query=""))


def postgres_version(url: str) -> str:
    """The server's version; raises `psycopg.Error` when it cannot be reached."""
    with psycopg.connect(plain_url(url), connect_timeout=5) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


@dataclass
class Backend:
    """One backend of one run: names and removes the places its stores live in."""

    name: str
    root: Path
    url: str | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def is_postgres(self) -> bool:
        """Whether this is the PostgreSQL backend."""
        return self.name == "postgres"

    def schema(self, label: str) -> str:
        """The PostgreSQL schema of one store or baseline of this run."""
        return f"bench_{self.run_id}_{label}"

    def settings(self, label: str) -> Settings:
        """Settings of a fresh processor store called `label`."""
        data_dir = self.root / label
        if self.url is None:
            return Settings(data_dir=data_dir)
        schema = self.schema(label)
        return Settings(
            data_dir=data_dir,
            database_url=with_schema(self.url, schema),
            keystore_url=with_schema(self.url, f"{schema}_keys"),
        )

    def eventsourcing_env(self, label: str) -> dict[str, str]:
        """The plain `eventsourcing` environment of a baseline: same module, same settings."""
        settings = self.settings(label)
        if self.url is None:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        else:
            ensure_postgres_schema(settings.events_location())
        env = eventstore_env(settings)
        # The library's own recorder: the processor's chunking one (processor.storage.pgrecorder) is
        # ours.
        env.pop("APPLICATION_RECORDER_TOPIC", None)
        return env

    def drop(self, label: str) -> None:
        """Remove one store or baseline of this run."""
        shutil.rmtree(self.root / label, ignore_errors=True)
        if self.url is not None:
            self._drop_schemas(self.schema(label) + "_keys", self.schema(label))

    def cleanup(self) -> None:
        """Remove everything this run created on this backend."""
        shutil.rmtree(self.root, ignore_errors=True)
        if self.url is None:
            return
        prefix = f"bench_{self.run_id}_"
        with psycopg.connect(plain_url(self.url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT schema_name FROM information_schema.schemata"
                " WHERE left(schema_name, %s) = %s",
                (len(prefix), prefix),
            ).fetchall()
        self._drop_schemas(*(str(r[0]) for r in rows))

    def _drop_schemas(self, *schemas: str) -> None:
        assert self.url is not None
        with psycopg.connect(plain_url(self.url), autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
