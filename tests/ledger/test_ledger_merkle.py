# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""RFC 9162 proofs against the naive recursive reference: exhaustive to 64 leaves, random beyond."""

from __future__ import annotations

import functools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import (
    EMPTY_ROOT,
    LedgerError,
    MemoryNodeStore,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.merkle import largest_power_of_two_below

N = 64
HASHES = [leaf_hash(i.to_bytes(2, "big")) for i in range(N)]


@functools.cache
def ref(start: int, end: int) -> bytes:
    """MTH of HASHES[start:end] by the RFC recursion (memoised: the proofs reuse ranges)."""
    return root_from_leaf_hashes(HASHES[start:end])


@pytest.fixture(scope="module")
def tree64() -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    tree.append(HASHES)
    return tree


def test_largest_power_of_two_below():
    """The RFC split point k is the largest power of two strictly below n."""
    assert [largest_power_of_two_below(n) for n in range(2, 10)] == [1, 2, 2, 4, 4, 4, 4, 8]
    with pytest.raises(ValueError):
        largest_power_of_two_below(1)


def test_all_inclusion_proofs_up_to_64(tree64):
    """For every (index, size) up to 64 the pure and stored proofs agree and verify."""
    for size in range(1, N + 1):
        root = ref(0, size)
        assert tree64.root(size) == root
        for index in range(size):
            proof = inclusion_proof(index, size, ref)
            assert tree64.inclusion_proof(index, size) == proof
            verify_inclusion(HASHES[index], index, size, proof, root)


def test_all_consistency_proofs_up_to_64(tree64):
    """For every 0 <= m <= n <= 64 the pure and stored proofs agree and verify."""
    for size2 in range(N + 1):
        root2 = ref(0, size2) if size2 else EMPTY_ROOT
        for size1 in range(size2 + 1):
            root1 = ref(0, size1) if size1 else EMPTY_ROOT
            proof = consistency_proof(size1, size2, ref)
            assert tree64.consistency_proof(size1, size2) == proof
            verify_consistency(size1, size2, root1, root2, proof)


def test_inclusion_proof_of_one_tree_fails_in_another():
    """A valid proof for (index, size) is rejected for every other index of the same size."""
    for size in (5, 8, 13):
        root = ref(0, size)
        for index in range(size):
            proof = inclusion_proof(index, size, ref)
            for other in range(size):
                if other != index:
                    with pytest.raises(ProofError):
                        verify_inclusion(HASHES[index], other, size, proof, root)


def test_consistency_edge_cases():
    """Equal sizes and the empty tree need an empty proof; a shrinking tree never verifies."""
    root3 = ref(0, 3)
    verify_consistency(3, 3, root3, root3, [])
    verify_consistency(0, 3, EMPTY_ROOT, root3, [])
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(3, 3, root3, ref(0, 4), [])
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(3, 3, root3, root3, [root3])
    with pytest.raises(ProofError, match="empty-tree"):
        verify_consistency(0, 3, root3, root3, [])
    with pytest.raises(ProofError, match="exceeds"):
        verify_consistency(4, 3, ref(0, 4), root3, [])
    with pytest.raises(ProofError, match="non-negative"):
        verify_consistency(-1, 3, root3, root3, [])


def test_proof_errors_are_one_line_value_errors():
    """ProofError is a LedgerError and a ValueError with a single-line message."""
    with pytest.raises(ProofError) as caught:
        verify_inclusion(HASHES[0], 0, 8, [HASHES[1]], ref(0, 8))
    assert isinstance(caught.value, LedgerError)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_proof_generation_rejects_bad_arguments():
    """Generating a proof for an index outside the tree or m > n is a caller error."""
    with pytest.raises(ValueError):
        inclusion_proof(3, 3, ref)
    with pytest.raises(ValueError):
        consistency_proof(4, 3, ref)


@pytest.fixture(scope="module")
def big():
    """Build a 5000-leaf stored tree in uneven batches; return it with its leaf hashes."""
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(5000)]
    tree = MerkleTree(MemoryNodeStore())
    start = 0
    for batch in (1, 2, 5, 300, 1024, 1, 1667, 2000):
        tree.append(hashes[start : start + batch])
        start += batch
    assert start == len(hashes)
    return tree, hashes


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_large_tree_historical_proofs(big, data):
    """On a 5000-leaf tree, historical roots match the reference and all proofs verify."""
    tree, hashes = big
    size2 = data.draw(st.integers(1, len(hashes)), label="size2")
    size1 = data.draw(st.integers(0, size2), label="size1")
    index = data.draw(st.integers(0, size2 - 1), label="index")
    root2 = root_from_leaf_hashes(hashes[:size2])
    root1 = root_from_leaf_hashes(hashes[:size1])
    assert tree.root(size2) == root2
    assert tree.root(size1) == root1
    verify_inclusion(hashes[index], index, size2, tree.inclusion_proof(index, size2), root2)
    verify_consistency(size1, size2, root1, root2, tree.consistency_proof(size1, size2))


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(1, 3000),
    data=st.data(),
)
def test_large_proof_lengths_are_logarithmic(big, size, data):
    """Proofs have at most ceil(log2(size)) elements (RFC 9162 bounds)."""
    tree, _ = big
    index = data.draw(st.integers(0, size - 1))
    bound = (size - 1).bit_length()
    assert len(tree.inclusion_proof(index, size)) <= bound
    assert len(tree.consistency_proof(data.draw(st.integers(0, size)), size)) <= bound + 1


def test_large_tree_random_large_sizes(big):
    """Seeded random (index, m, n) with n in [2500, 5000]: roots match, proofs verify."""
    tree, hashes = big
    rng = random.Random(9162)  # noqa: S311 - reproducible test sampling, not crypto
    for _ in range(15):
        size2 = rng.randint(2500, len(hashes))
        size1 = rng.randint(1, size2)
        index = rng.randrange(size2)
        root2 = root_from_leaf_hashes(hashes[:size2])
        root1 = root_from_leaf_hashes(hashes[:size1])
        assert tree.root(size2) == root2
        assert tree.root(size1) == root1
        verify_inclusion(hashes[index], index, size2, tree.inclusion_proof(index, size2), root2)
        verify_consistency(size1, size2, root1, root2, tree.consistency_proof(size1, size2))
