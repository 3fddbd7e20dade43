# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""SQL node store (SQLAlchemy Core 2.0) for SQLite and PostgreSQL.

One table, ``ledger_nodes(level, idx, hash)`` with primary key ``(level, idx)``: the primary
key is both the lookup index and the append-only guard, because a second writer that tries to
write an existing node fails on it instead of silently forking the tree.

Writes should happen in the application's own transaction, next to the event records and the
signed checkpoint they produce, so that records, nodes and checkpoint commit or roll back
together: ``SqlNodeStore.bind(conn)`` returns a store that works inside a caller-owned
connection. The unbound store opens a short transaction per call, for tools and tests.
"""

from __future__ import annotations

from itertools import groupby, islice
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from ledger.errors import IntegrityError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from ledger.tree import NodeKey

metadata = sa.MetaData()

ledger_nodes = sa.Table(
    "ledger_nodes",
    metadata,
    sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.LargeBinary(32), nullable=False),
)

# Keys per SELECT: far below SQLite's and PostgreSQL's bound-parameter limits, and far above
# the O(log n) nodes a root or proof needs, so proofs always cost exactly one query.
_KEYS_PER_QUERY = 500


def _chunks(keys: Iterable[NodeKey]) -> Iterator[list[NodeKey]]:
    """Split sorted, de-duplicated keys into query-sized chunks."""
    iterator = iter(sorted(set(keys)))
    while chunk := list(islice(iterator, _KEYS_PER_QUERY)):
        yield chunk


def _level_clause(level: int, indexes: list[int]) -> sa.ColumnElement[bool]:
    """Match sorted indexes of one level, a contiguous run as one range.

    Verification asks for hundreds of consecutive leaves at a time; as an IN list PostgreSQL
    may plan a scan of the whole level for each chunk, while a range uses the primary key.
    """
    table = ledger_nodes
    runs: list[tuple[int, int]] = []
    for idx in indexes:
        if runs and idx == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], idx)
        else:
            runs.append((idx, idx))
    ranges = [r for r in runs if r[1] > r[0]]
    singles = [r[0] for r in runs if r[1] == r[0]]
    parts: list[sa.ColumnElement[bool]] = [table.c.idx.between(lo, hi) for lo, hi in ranges]
    if singles:
        parts.append(table.c.idx.in_(singles))
    return sa.and_(table.c.level == level, sa.or_(*parts))


class ConnectionNodeStore:
    """The node store inside one caller-owned connection (and its transaction)."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Fetch the stored hashes for ``keys``: one SELECT per 500 keys, grouped by level."""
        found: dict[NodeKey, bytes] = {}
        table = ledger_nodes
        for chunk in _chunks(keys):
            per_level = [
                _level_clause(level, [idx for _, idx in group])
                for level, group in groupby(chunk, key=lambda key: key[0])
            ]
            query = sa.select(table.c.level, table.c.idx, table.c.hash).where(sa.or_(*per_level))
            for level, idx, value in self.conn.execute(query):
                found[(int(level), int(idx))] = bytes(value)
        return found

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Insert new nodes in one statement; an existing key raises ``IntegrityError``."""
        if not nodes:
            return
        rows = [{"level": lv, "idx": idx, "hash": value} for (lv, idx), value in nodes.items()]
        try:
            self.conn.execute(sa.insert(ledger_nodes), rows)
        except SqlIntegrityError as exc:
            raise IntegrityError("a tree node is already stored; the tree is append-only") from exc

    def size(self) -> int:
        """Return the number of leaves, from the highest level-0 index (a PK index lookup)."""
        query = sa.select(sa.func.max(ledger_nodes.c.idx)).where(ledger_nodes.c.level == 0)
        highest = self.conn.execute(query).scalar_one_or_none()
        return 0 if highest is None else int(highest) + 1


class SqlNodeStore:
    """Node store on a SQLAlchemy engine; creates ``ledger_nodes`` if it is missing.

    Use ``bind(conn)`` to write inside the application's transaction. The methods of this
    class itself each run in their own short transaction.
    """

    def __init__(self, engine: sa.Engine, *, create_tables: bool = True) -> None:
        self.engine = engine
        if create_tables:
            metadata.create_all(engine, tables=[ledger_nodes], checkfirst=True)

    def bind(self, conn: sa.Connection) -> ConnectionNodeStore:
        """Return a store that reads and writes through ``conn`` (the caller commits)."""
        return ConnectionNodeStore(conn)

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Fetch the stored hashes for ``keys``."""
        with self.engine.connect() as conn:
            return ConnectionNodeStore(conn).get_nodes(keys)

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Insert new nodes in their own transaction."""
        with self.engine.begin() as conn:
            ConnectionNodeStore(conn).put_nodes(nodes)

    def size(self) -> int:
        """Return the number of leaves stored."""
        with self.engine.connect() as conn:
            return ConnectionNodeStore(conn).size()
