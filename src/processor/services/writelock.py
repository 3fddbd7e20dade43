"""One live contact per controller and e-mail: a per-controller write lock (SUBJ-4, RET-5).

Why a lock, and not a uniqueness claim or a deterministic contact id:
* The event store is append-only. Anything it holds that is derived from the e-mail alone
  under a key that outlives the erasure (a contact id = HMAC(controller key, e-mail), or a
  claim event) would let whoever holds the store and the key store recompute it for a
  guessed address after the erasure and confirm that the person was there. The promise is
  that nothing can (RET-5), so no such value may ever be written to the events.
* A claim kept under a key that the erasure destroys cannot be checked by the next writer,
  who does not know that key before finding the contact; a key per "epoch" rotated by each
  erasure would mean re-claiming every live contact at every erasure.
* A claim row deleted in the erasure's transaction would keep its HMAC in PostgreSQL's dead
  tuples and WAL (and SQLite's WAL) for an unbounded time, under a per-controller key that
  survives: recomputable, so confirmable.
A lock leaves nothing behind. The writer that creates contacts, or changes an e-mail, holds
the controller's lock around: catch up the read models with the whole log, look the e-mail up
by blind index, commit, and project its own events (`Processor.commit` returns only once
they are in the read models). The next holder therefore sees every contact committed before
it, so two live contacts for one normalised e-mail cannot arise through the application. The
read model's index is nulled by the erasure (and rebuilt from sealed profiles, which the
erasure makes unreadable), so after an erasure nothing confirms the address, and the
erasure itself needs no lock. Writers that bypass the services (events written by hand) are
found by `processor doctor` (check `duplicates`), which can erase the extra copies.

The lock is an advisory lock: on PostgreSQL `pg_advisory_xact_lock` keyed by schema and
controller (released by the server if the process dies), on SQLite `flock` on a file per
controller in the data directory (released by the kernel if the process dies). Imports take
it once per batch of 1,000 rows, so concurrent imports interleave batch by batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.config import private_dir
from processor.link.tables import leaves
from processor.readmodels import tables as t
from processor.readmodels.projector import TRACKING_NAME

if TYPE_CHECKING:
    from collections.abc import Iterator

    from processor.app import Processor

LOCK_DIR = "locks"


def _pg_key(schema: str, controller: str) -> int:
    digest = hashlib.sha256(f"{schema}\0contacts\0{controller}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _catch_up(proc: Processor) -> None:
    """Catch up, unless the log is already wholly signed and projected (the usual case).

    The projector's position is read before the log's end, and the ledger's signed position
    after it: if all three are equal, every event up to that end was projected and signed when
    the end was read. Otherwise (a command died between saving and signing, another process is
    mid-commit, or a rebuild projected an unsigned tail) the full catch-up signs, refusing
    records it cannot vouch for, and projects what is missing, as before. Three reads instead of
    two write transactions per contact write.
    """
    position = proc.projector.position()
    end = proc.store.recorder.max_notification_id() or 0
    if position == end and proc.ledger.signed_position() == end:
        return
    proc.catch_up()


def _pg_caught_up(proc: Processor, conn: sa.Connection) -> bool:
    """`_catch_up`'s three reads as one statement on the lock's own connection (PostgreSQL).

    Read models, ledger and events live in one database there: one statement sees the three
    positions in one snapshot, taken after the lock was granted, which is at least as strong
    as three reads in a row, and costs one round trip instead of three pooled connections each
    with BEGIN, SELECT and COMMIT.
    """
    recorder: Any = proc.store.recorder
    events = sa.table(recorder.events_table_name, schema=recorder.datastore.schema)
    row = conn.execute(
        sa.select(
            sa.select(t.tracking.c.position)
            .where(t.tracking.c.name == TRACKING_NAME)
            .scalar_subquery(),
            sa.select(sa.func.max(sa.column("notification_id")))
            .select_from(events)
            .scalar_subquery(),
            sa.select(sa.func.max(leaves.c.position)).scalar_subquery(),
        )
    ).one()
    position, end, signed = (int(v or 0) for v in row)
    return position == end == signed


@contextlib.contextmanager
def contact_writes(proc: Processor, controller: str) -> Iterator[sa.Connection | None]:
    """Hold the controller's contact-write lock, with the read models caught up inside it.

    Yields the lock's read-model connection on PostgreSQL (its transaction holds the lock), on
    which the holder may read the read models; None on SQLite, where the lock is a file's.
    """
    settings = proc.settings
    if settings.backend == "postgres":
        key = _pg_key(settings.events_location().schema, controller)
        with proc.engines.readmodels.connect() as conn, conn.begin():
            # A transaction-level lock: ends with the transaction, so it cannot leak into the
            # connection pool even when the body raises.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
            if not _pg_caught_up(proc, conn):
                proc.catch_up()
            yield conn
        return
    folder = settings.data_dir / LOCK_DIR
    private_dir(folder)
    fd = os.open(folder / f"contacts-{controller}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # flock locks belong to the open file, so threads with their own store exclude each
        # other as processes do.
        fcntl.flock(fd, fcntl.LOCK_EX)
        _catch_up(proc)
        yield None
    finally:
        os.close(fd)
