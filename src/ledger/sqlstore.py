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
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from ledger.errors import IntegrityError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

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


# Fewer rows than this go as one executemany: COPY's extra round trip would cost more.
_COPY_MIN_ROWS = 32


def raw_insert(
    conn: sa.Connection, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert plain tuples with the driver's own `executemany`, skipping SQLAlchemy's per-row work.

    Only for columns whose Python values the driver stores as they are (integers, bytes, text):
    no SQLAlchemy type processing runs. Same table, same rows, same transaction as
    `conn.execute(table.insert(), dicts)`, at a fraction of the cost per row (issue 17). The
    schema comes from the connection's `schema_translate_map`, as SQLAlchemy would apply it.
    """
    if not rows:
        return
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(table.schema)
    name = f'"{schema}"."{table.name}"' if schema else f'"{table.name}"'
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cols = ", ".join(f'"{c}"' for c in columns)
    if conn.dialect.driver == "psycopg" and len(rows) >= _COPY_MIN_ROWS:  # the server's bulk path
        copy_rows(conn, f"COPY {name} ({cols}) FROM STDIN", rows)
        return
    marks = ", ".join(mark for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {name} ({cols}) VALUES ({marks})", list(rows))


def copy_rows(conn: sa.Connection, statement: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """`COPY ... FROM STDIN` on the connection's psycopg cursor, in its transaction.

    A failure is raised as SQLAlchemy raises it for an INSERT (`IntegrityError` for a duplicate
    key), so callers handle both paths alike.
    """
    import psycopg

    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from None


class ConnectionNodeStore:
    """The node store inside one caller-owned connection (and its transaction).

    With ``cached``, the nodes this store has read or written, and the tree size, are kept for
    the life of the object, so a writer that appends, checks old roots and signs the new root
    in one transaction reads each node once (a node never changes once written). Only for a
    caller that holds the ledger's write lock for that whole life: the size would otherwise
    go stale. Uncached, nothing is kept (a verify of a million leaves stays flat in memory).
    """

    def __init__(self, conn: sa.Connection, *, cached: bool = False) -> None:
        self.conn = conn
        self._cache: dict[NodeKey, bytes] | None = {} if cached else None
        self._size: int | None = None

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """The stored hashes for ``keys`` (those not already held, one query per 500 keys)."""
        if self._cache is None:
            return self._read_nodes(keys)
        cache = self._cache
        wanted = list(dict.fromkeys(keys))
        missing = [key for key in wanted if key not in cache]
        if missing:
            cache.update(self._read_nodes(sorted(missing)))
        return {key: cache[key] for key in wanted if key in cache}

    def _read_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
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
        rows = [(lv, idx, value) for (lv, idx), value in nodes.items()]
        try:
            raw_insert(self.conn, ledger_nodes, ("level", "idx", "hash"), rows)
        except SqlIntegrityError as exc:
            raise IntegrityError("a tree node is already stored; the tree is append-only") from exc
        if self._cache is not None:
            self._cache.update(nodes)
            leaves = [idx for level, idx in nodes if level == 0]
            if leaves and self._size is not None:
                self._size = max(self._size, max(leaves) + 1)

    def size(self) -> int:
        """Return the number of leaves, from the highest level-0 index (a PK index lookup)."""
        if self._cache is not None and self._size is not None:
            return self._size
        query = sa.select(sa.func.max(ledger_nodes.c.idx)).where(ledger_nodes.c.level == 0)
        highest = self.conn.execute(query).scalar_one_or_none()
        size = 0 if highest is None else int(highest) + 1
        if self._cache is not None:
            self._size = size
        return size


class SqlNodeStore:
    """Node store on a SQLAlchemy engine; creates ``ledger_nodes`` if it is missing.

    Use ``bind(conn)`` to write inside the application's transaction. The methods of this
    class itself each run in their own short transaction.
    """

    def __init__(self, engine: sa.Engine, *, create_tables: bool = True) -> None:
        self.engine = engine
        if create_tables:
            metadata.create_all(engine, tables=[ledger_nodes], checkfirst=True)

    def bind(self, conn: sa.Connection, *, cached: bool = False) -> ConnectionNodeStore:
        """Return a store that reads and writes through ``conn`` (the caller commits).

        ``cached``: see `ConnectionNodeStore`; only under the ledger's write lock.
        """
        return ConnectionNodeStore(conn, cached=cached)

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
