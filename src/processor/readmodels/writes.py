"""What a read-model handler is handed: the batch's buffered writes, and the handler's shape.

Kept apart from the projector so that the handler modules and the table of handlers
(`readmodels/registry.py`) need nothing of the projector at run time: the projector is given
the table when it is built, and no handler module imports the projector to register itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from processor.storage.engines import bulk_insert

if TYPE_CHECKING:
    import sqlalchemy as sa

    from processor.readmodels.projector import Projector


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


# A handler applies one event (at its notification id) to the read models.
Handler = Callable[["Projector", Writes, Any, int], None]
# The projector's table: event class `__qualname__` -> its handlers, run in this order.
HandlerTable = Mapping[str, Sequence[Handler]]
