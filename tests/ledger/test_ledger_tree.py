# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The incremental node-store tree: batching, history, append-only guarantees, damage."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import (
    EMPTY_ROOT,
    IntegrityError,
    MemoryNodeStore,
    MerkleTree,
    leaf_hash,
    root_from_leaf_hashes,
)
from ledger.tree import frontier, perfect_nodes

HASHES = [leaf_hash(b"leaf %d" % i) for i in range(300)]


def build(n: int, batches: list[int] | None = None) -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    start = 0
    for size in batches or [n]:
        tree.append(HASHES[start : start + size])
        start += size
    return tree


def test_empty_tree():
    """An empty tree has size 0, the empty root, and appending nothing changes nothing."""
    tree = MerkleTree(MemoryNodeStore())
    assert tree.size() == 0
    assert tree.root() == EMPTY_ROOT
    assert tree.append([]) == 0
    assert tree.consistency_proof(0, 0) == []


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 40), max_size=12))
def test_batching_does_not_change_the_tree(batches):
    """Appending in any batch sizes stores exactly the nodes of one big append."""
    total = sum(batches)
    assert build(total, batches).store._nodes == build(total).store._nodes


def test_every_perfect_subtree_is_stored():
    """After n leaves, the store holds exactly one node per complete perfect subtree."""
    tree = build(300)
    expected = {(level, index) for level in range(9) for index in range(300 >> level)}
    assert set(tree.store._nodes) == expected
    assert tree.store.size() == 300


def test_append_returns_the_new_size_and_root_moves():
    """append() returns the new size; the root at each size matches the reference."""
    tree = MerkleTree(MemoryNodeStore())
    for n in range(1, 40):
        assert tree.append([HASHES[n - 1]]) == n
        assert tree.root() == root_from_leaf_hashes(HASHES[:n])


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 299), st.integers(1, 300))
def test_subtree_of_any_range_matches_reference(start, length):
    """subtree(start, end) equals MTH of those leaves, aligned or not."""
    end = min(start + length, 300)
    tree = build(300)
    assert tree.subtree(start, end) == root_from_leaf_hashes(HASHES[start:end])


def test_rfc_ranges_need_at_most_one_node_per_level():
    """Roots and proof ranges decompose into O(log n) stored nodes."""
    for size in range(1, 300):
        assert len(perfect_nodes(0, size)) == size.bit_count()
    assert frontier(6) == [(2, 0), (1, 2)]
    assert frontier(0) == []


def test_leaf_hashes_reads_level_zero():
    """leaf_hashes() returns the stored leaf hashes by index."""
    tree = build(10)
    assert tree.leaf_hashes(3, 6) == {3: HASHES[3], 4: HASHES[4], 5: HASHES[5]}


def test_sizes_beyond_the_tree_are_refused():
    """Roots and proofs for a size larger than the tree are caller errors, not corruption."""
    tree = build(10)
    with pytest.raises(ValueError, match="exceeds"):
        tree.root(11)
    with pytest.raises(ValueError, match="exceeds"):
        tree.inclusion_proof(3, 12)
    with pytest.raises(ValueError, match="exceeds"):
        tree.consistency_proof(3, 12)
    with pytest.raises(ValueError):
        tree.root(-1)


def test_store_is_append_only():
    """AUD-4: rewriting an existing node is refused, and the whole batch is left unwritten."""
    tree = build(8)
    before = dict(tree.store._nodes)
    with pytest.raises(IntegrityError, match="append-only"):
        tree.store.put_nodes({(0, 8): HASHES[0], (0, 3): HASHES[0]})
    assert tree.store._nodes == before


def test_missing_node_is_an_integrity_error():
    """AUD-4: a deleted node makes roots, proofs and appends fail loudly, not silently."""
    tree = build(7)
    del tree.store._nodes[(1, 2)]
    with pytest.raises(IntegrityError, match=r"\(1, 2\)"):
        tree.root(7)
    with pytest.raises(IntegrityError):
        tree.inclusion_proof(0, 7)
    with pytest.raises(IntegrityError, match="frontier"):
        tree.append([HASHES[7]])
    assert tree.size() == 7


def test_bad_leaf_hash_is_refused():
    """Only 32-byte digests can be appended (a raw record would be a silent format bug)."""
    tree = build(0)
    with pytest.raises(ValueError, match="32-byte"):
        tree.append([b"not a hash"])
    assert tree.size() == 0
