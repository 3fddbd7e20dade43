"""What a read-model handler is handed besides the event: the batch's buffered writes.

Kept apart from the projector so that the handler modules need nothing of the projector at run
time, and so that both the projector's catch-up and the full rebuild (`readmodels/rebuild.py`)
write through it while this module knows neither. The handler's shape (`Handler`) and the
table of handlers (`HandlerTable`) belong to the projector, which runs them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from processor.storage.engines import bulk_insert

if TYPE_CHECKING:
    import sqlalchemy as sa


class Writes:
    """Buffers inserts for executemany; flushes them before any other statement keeps order."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self._inserts: dict[sa.Table, list[dict[str, Any]]] = defaultdict(list)
        self.shred: dict[str, Any] = {}

    def insert(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Queue a row for `table`; written at the next flush, with the table's other rows."""
        self._inserts[table].append(row)

    def execute(self, statement: sa.Executable) -> None:
        """Run `statement` after the queued inserts, so it sees them."""
        self.flush()
        self.conn.execute(statement)

    def flush(self) -> None:
        """Write the queued inserts, one executemany per table."""
        for table, rows in self._inserts.items():
            bulk_insert(self.conn, table, rows)
        self._inserts.clear()
