"""eventsourcing's PostgreSQL recorder, with large batches written in chunks in one transaction.

The library's `PostgresApplicationRecorder.insert_events` sends the table lock, the NOTIFY and
one `INSERT … SELECT FROM unnest(%s)` of every event in a psycopg *pipeline*, then `sync()`s.
With psycopg 3.3 a statement of a few megabytes (5,000 events of 1.2 kB, or 1,000 of 12 kB)
can hang there, not every time: the client waits in `sync()` while the server waits for the
rest of the statement (`ClientRead`). Plain eventsourcing saving such a batch hangs the same
way (issue 17: a campaign send of 10,000 messages; docs/performance.md).

Batches above `CHUNK_EVENTS` events or `CHUNK_BYTES` bytes of state are therefore written
outside pipeline mode: one transaction, the same table lock and NOTIFY first, then the same
insert statement once per chunk. The notification ids stay gap-free and in commit order (the
lock is held until the commit), and the batch is still all or nothing. Smaller batches take
the library's own path unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from eventsourcing.persistence import StoredEvent

CHUNK_EVENTS = 1000
"""Events per insert statement of a large batch (the library's pipeline copes with this many)."""

CHUNK_BYTES = 1_000_000
"""Bytes of state per insert statement: well under the smallest batch seen to hang (~6 MB)."""


def chunks(stored_events: Sequence[StoredEvent]) -> Iterator[Sequence[StoredEvent]]:
    """Consecutive runs of at most `CHUNK_EVENTS` events and (but for one event) `CHUNK_BYTES`."""
    start, size = 0, 0
    for i, stored in enumerate(stored_events):
        if i > start and (i - start >= CHUNK_EVENTS or size + len(stored.state) > CHUNK_BYTES):
            yield stored_events[start:i]
            start, size = i, 0
        size += len(stored.state)
    if start < len(stored_events):
        yield stored_events[start:]


def is_large(stored_events: Sequence[StoredEvent]) -> bool:
    """Whether the batch goes in more than one statement."""
    return len(stored_events) > CHUNK_EVENTS or (
        sum(len(s.state) for s in stored_events) > CHUNK_BYTES
    )


class ChunkingPostgresRecorder(PostgresApplicationRecorder):
    """The library's recorder, but a large batch is inserted in chunks (see the module doc)."""

    def insert_events(
        self,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,  # noqa: ANN401 - the library's own signature
    ) -> Sequence[int] | None:
        """Insert the batch in one transaction; large batches in chunks, outside a pipeline."""
        if self.datastore.enable_db_functions or not is_large(stored_events):
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        else:
            ids = self._insert_in_chunks(stored_events)
        return ids

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def _insert_in_chunks(self, stored_events: Sequence[StoredEvent]) -> Sequence[int]:
        ids: list[int] = []
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as curs:
            self._lock_table(curs)
            self._notify_channel(curs)
            for chunk in chunks(stored_events):
                # The plain insert: this recorder's own override would lock the table again.
                PostgresAggregateRecorder._insert_stored_events(self, curs, chunk)  # noqa: SLF001
                ids.extend(row["notification_id"] for row in curs.fetchall())
        return ids
