# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""SqlNodeStore on SQLite (always) and PostgreSQL (when PROCESSOR_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ledger import (
    IntegrityError,
    MemoryNodeStore,
    MerkleTree,
    SqlNodeStore,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

HASHES = [leaf_hash(b"record %d" % i) for i in range(300)]


def count_queries(engine: sa.Engine) -> list[str]:
    """Record every SQL statement sent through ``engine``."""
    seen: list[str] = []

    def before(*args):
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    sa.event.listen(engine, "before_cursor_execute", before)
    return seen


def test_sql_tree_matches_memory_tree(engine):
    """Nodes, historical roots and proofs from SQL equal the in-memory tree's."""
    store = SqlNodeStore(engine)
    sql_tree, mem_tree = MerkleTree(store), MerkleTree(MemoryNodeStore())
    for start, end in [(0, 1), (1, 100), (100, 101), (101, 300)]:
        assert sql_tree.append(HASHES[start:end]) == mem_tree.append(HASHES[start:end]) == end
    assert store.size() == 300
    assert store.get_nodes(mem_tree.store._nodes) == mem_tree.store._nodes
    for size in (1, 2, 7, 64, 100, 257, 300):
        root = root_from_leaf_hashes(HASHES[:size])
        assert sql_tree.root(size) == root
        for index in {0, size // 3, size - 1}:
            proof = sql_tree.inclusion_proof(index, size)
            assert proof == mem_tree.inclusion_proof(index, size)
            verify_inclusion(HASHES[index], index, size, proof, root)
        for size1 in {0, 1, size // 2, size}:
            proof = sql_tree.consistency_proof(size1, size)
            verify_consistency(size1, size, sql_tree.root(size1), root, proof)


def test_proofs_cost_one_query(engine):
    """A root, an inclusion proof or a consistency proof at a given size is one SELECT."""
    store = SqlNodeStore(engine)
    tree = MerkleTree(store)
    tree.append(HASHES)
    seen = count_queries(engine)
    tree.inclusion_proof(123, 299)
    tree.consistency_proof(77, 299)
    tree.root(299)
    assert sum(statement.lstrip().upper().startswith("SELECT") for statement in seen) == 3


def test_append_costs_two_statements(engine):
    """Appending a batch reads the size and frontier and writes all nodes in one INSERT."""
    tree = MerkleTree(SqlNodeStore(engine))
    tree.append(HASHES[:5])
    seen = count_queries(engine)
    tree.append(HASHES[5:200])
    statements = [s.lstrip().split()[0].upper() for s in seen]
    assert statements.count("SELECT") == 2
    # SQLite: one executemany; PostgreSQL: one COPY, which bypasses SQLAlchemy's events.
    assert statements.count("INSERT") == (0 if engine.dialect.driver == "psycopg" else 1)
    assert len(statements) == (2 if engine.dialect.driver == "psycopg" else 3)
    assert tree.size() == 200


def test_bound_store_commits_and_rolls_back_with_the_caller(engine):
    """Nodes written through bind(conn) share the caller's transaction (atomic checkpoints)."""
    store = SqlNodeStore(engine)
    with engine.begin() as conn:
        assert MerkleTree(store.bind(conn)).append(HASHES[:10]) == 10
    assert store.size() == 10
    conn = engine.connect()
    transaction = conn.begin()
    MerkleTree(store.bind(conn)).append(HASHES[10:20])
    assert store.bind(conn).size() == 20
    transaction.rollback()  # e.g. storing the checkpoint failed
    conn.close()
    assert store.size() == 10
    assert MerkleTree(store).root() == root_from_leaf_hashes(HASHES[:10])


def test_existing_nodes_cannot_be_overwritten(engine):
    """AUD-4: the primary key makes the node table append-only; a rewrite raises."""
    store = SqlNodeStore(engine)
    MerkleTree(store).append(HASHES[:4])
    with pytest.raises(IntegrityError, match="append-only"):
        store.put_nodes({(0, 2): HASHES[0]})
    assert store.get_nodes([(0, 2)]) == {(0, 2): HASHES[2]}


def test_tables_are_created_once(engine):
    """A second store on the same database reuses the existing table and data."""
    MerkleTree(SqlNodeStore(engine)).append(HASHES[:3])
    again = SqlNodeStore(engine)
    assert again.size() == 3
    assert set(again.get_nodes([(0, 0), (1, 0), (1, 1), (5, 5)])) == {(0, 0), (1, 0)}


def test_empty_store(engine):
    """An empty table has size 0 and returns no nodes."""
    store = SqlNodeStore(engine)
    assert store.size() == 0
    assert store.get_nodes([]) == {}
    assert store.get_nodes([(0, 0)]) == {}
    store.put_nodes({})


def test_many_keys_are_fetched_in_chunks(engine):
    """More keys than one SELECT holds (500) are all returned, over several queries."""
    store = SqlNodeStore(engine)
    memory = MemoryNodeStore()
    MerkleTree(store).append(HASHES)
    MerkleTree(memory).append(HASHES)
    assert len(memory._nodes) > 500
    seen = count_queries(engine)
    assert store.get_nodes([*memory._nodes, (9, 9)]) == memory._nodes
    assert len(seen) == 2
