"""The baselines every figure is divided by, measured in the same run on the same backend.

* plain `eventsourcing`: a minimal `Application` on the same persistence module and settings as
  the processor's event store, saving unsealed aggregates whose creation event has the same
  fields as `Contact.ContactAdded`;
* the raw storage limit: ~300-byte rows in one transaction, `executemany` into a
  `WITHOUT ROWID` table on SQLite, binary `COPY` on PostgreSQL;
* the raw read side: notification-log pages, with and without decoding into domain events.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from eventsourcing.persistence import ApplicationRecorder, Notification

    from processor.app import Processor

SAVE_BATCH = 1000
RAW_ROW_BYTES = 300
READ_PAGE = 1000  # the projector's page
RAW_READ_PAGE = 2000  # the ledger's page


class PlainContact(Aggregate):
    """An unsealed contact: the creation event has exactly `ContactAdded`'s fields."""

    @event("ContactAdded")
    def __init__(
        self,
        id: UUID,  # noqa: A002, ARG002 - same signature as the processor's Contact
        actor: str,
        controller: str,
        profile: str,
        fields: list[str],
        source: str,
        list_name: str,
        consent: dict[str, Any],
    ) -> None:
        self.controller = controller
        self.profile = profile
        self.fields = list(fields)
        self.source = source
        self.added_by = actor
        self.lists = {list_name: True}
        self.consents = [dict(consent, list_name=list_name)]


class PlainApp(Application[UUID]):
    """The minimal application the baseline saves into."""

    name = "Plain"
    is_snapshotting_enabled = False


def plain_contact(row: dict[str, str], list_name: str = "news") -> PlainContact:
    """The baseline's aggregate for one CSV row: the profile as plain JSON, not sealed."""
    profile = {k: v for k, v in row.items() if v}
    return PlainContact(
        id=uuid.uuid4(),
        actor="alice",
        controller="acme",
        profile=json.dumps(profile, separators=(",", ":"), ensure_ascii=False),
        fields=sorted(profile),
        source="import",
        list_name=list_name,
        consent={
            "channel": "email",
            "method": "double-opt-in",
            "evidence": "",
            "given_at": datetime.now(tz=UTC).isoformat(),
        },
    )


def eventsourcing_import(env: dict[str, str], csv_path: Path) -> dict[str, float]:
    """Read the CSV and save one plain aggregate per row, 1,000 per `save()`."""
    app = PlainApp(env=env)
    try:
        count = 0
        start, cpu = time.perf_counter(), time.process_time()
        with csv_path.open(encoding="utf-8", newline="") as handle:
            batch: list[PlainContact] = []
            for row in csv.DictReader(handle):
                batch.append(plain_contact(row))
                if len(batch) >= SAVE_BATCH:
                    app.save(*batch)
                    count += len(batch)
                    batch = []
            if batch:
                app.save(*batch)
                count += len(batch)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        app.close()
    return {"seconds": seconds, "cpu_s": cpu, "rows": count}


def raw_rows(count: int) -> list[tuple[UUID, bytes]]:
    """`count` rows of a 16-byte key and ~300 bytes of data (built before any timing)."""
    filler = os.urandom(RAW_ROW_BYTES)
    return [
        (uuid.uuid4(), i.to_bytes(8, "big") + filler[: RAW_ROW_BYTES - 8]) for i in range(count)
    ]


def raw_insert_sqlite(path: Path, rows: list[tuple[UUID, bytes]]) -> float:
    """Seconds to insert `rows` in one transaction into a WAL-mode `WITHOUT ROWID` table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(
            "CREATE TABLE raw_rows (id BLOB PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID"
        )
        params = [(key.bytes, data) for key, data in rows]
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO raw_rows (id, data) VALUES (?, ?)", params)
        conn.execute("COMMIT")
        return time.perf_counter() - start
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def raw_copy_postgres(url: str, schema: str, rows: list[tuple[UUID, bytes]]) -> float:
    """Seconds to `COPY ... FROM STDIN (FORMAT BINARY)` `rows` in one transaction."""
    with psycopg.connect(url) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'DROP TABLE IF EXISTS "{schema}".raw_rows')
        conn.execute(f'CREATE TABLE "{schema}".raw_rows (id uuid PRIMARY KEY, data bytea NOT NULL)')
        conn.commit()
        start = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy(f'COPY "{schema}".raw_rows (id, data) FROM STDIN (FORMAT BINARY)') as copy,
        ):
            copy.set_types(["uuid", "bytea"])
            for row in rows:
                copy.write_row(row)
        conn.commit()
        seconds = time.perf_counter() - start
        conn.execute(f'DROP TABLE "{schema}".raw_rows')
        conn.commit()
    return seconds


def _pages(recorder: ApplicationRecorder, page: int) -> Iterator[Sequence[Notification]]:
    last = 0
    while notes := recorder.select_notifications(start=last, limit=page, inclusive_of_start=False):
        yield notes
        last = notes[-1].id


def read_decode(proc: Processor) -> dict[str, float]:
    """Read the whole notification log in the projector's pages and decode every event."""
    to_domain_event = proc.store.mapper.to_domain_event
    count = 0
    start = time.perf_counter()
    for notes in _pages(proc.store.recorder, READ_PAGE):
        for note in notes:
            to_domain_event(note)
        count += len(notes)
    return {"seconds": time.perf_counter() - start, "events": count}


def raw_read(proc: Processor) -> dict[str, float]:
    """Read the whole notification log in the ledger's pages, nothing more."""
    count = 0
    start = time.perf_counter()
    for notes in _pages(proc.store.recorder, RAW_READ_PAGE):
        count += len(notes)
    return {"seconds": time.perf_counter() - start, "events": count}
