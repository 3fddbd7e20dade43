# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Certificate Transparency known-answer vectors and corrupted-proof probes.

Source (copied verbatim, not recomputed): github.com/transparency-dev/merkle
``testonly/constants.go`` (LeafInputs, NodeHashes, RootHashes) and ``proof/verify_test.go``
(inclusionProofs, consistencyProofs, roots, and the corruptInclusionProof /
corruptConsistencyProof probe sets). In verify_test.go the inclusion vectors use 1-based leaf
numbers (``leaves[p.leaf-1]``); they are converted to 0-based indexes here.
"""

from __future__ import annotations

import pytest

from ledger import (
    EMPTY_ROOT,
    MemoryNodeStore,
    MerkleTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]


def h(value: str) -> bytes:
    return bytes.fromhex(value)


# RootHashes(), indexed by tree size.
ROOTS = {
    0: h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    1: h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    2: h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    3: h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    4: h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    5: h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    6: h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    7: h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    8: h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
}

# NodeHashes(): [level][index] hashes of every perfect subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

# inclusionProofs (leaf converted to a 0-based index, size, path).
INCLUSION = [
    (
        0,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        5,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (2, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        1,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (0, 1, []),
]

# consistencyProofs (size1, size2, proof).
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def reference_subtree(start: int, end: int) -> bytes:
    return root_from_leaf_hashes(HASHES[start:end])


@pytest.fixture
def tree() -> MerkleTree:
    built = MerkleTree(MemoryNodeStore())
    built.append(HASHES[:3])
    built.append(HASHES[3:])
    return built


def test_empty_root_is_sha256_of_nothing():
    """The empty tree hash is SHA-256 of the empty string (RFC 9162 2.1.1)."""
    assert ROOTS[0] == EMPTY_ROOT
    assert root_from_leaf_hashes([]) == ROOTS[0]


@pytest.mark.parametrize("size", range(1, 9))
def test_reference_roots_match_ct_vectors(size):
    """The recursive reference MTH gives the published root for every size 1..8."""
    assert root_from_leaf_hashes(HASHES[:size]) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_tree_roots_match_ct_vectors(tree, size):
    """The stored tree gives the published root at every historical size 0..8."""
    assert tree.root(size) == ROOTS[size]


def test_stored_nodes_match_ct_node_hashes(tree):
    """Every perfect-subtree node the tree stores equals NodeHashes() of the vectors."""
    expected = {
        (level, index): value
        for level, row in enumerate(NODE_HASHES)
        for index, value in enumerate(row)
    }
    assert tree.store.get_nodes(expected) == expected
    assert tree.store._nodes == expected


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors_are_generated_and_verify(tree, index, size, path):
    """Generated inclusion proofs equal the published paths, which verify against the root."""
    assert inclusion_proof(index, size, reference_subtree) == path
    assert tree.inclusion_proof(index, size) == path
    assert root_from_inclusion_proof(HASHES[index], index, size, path) == ROOTS[size]
    verify_inclusion(HASHES[index], index, size, path, ROOTS[size])


@pytest.mark.parametrize(("size1", "size2", "path"), CONSISTENCY)
def test_consistency_vectors_are_generated_and_verify(tree, size1, size2, path):
    """Generated consistency proofs equal the published ones, which verify between roots."""
    assert consistency_proof(size1, size2, reference_subtree) == path
    assert tree.consistency_proof(size1, size2) == path
    verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], path)


def inclusion_probes(index, size, path, root, leaf):
    """Port of corruptInclusionProof from transparency-dev/merkle proof/verify_test.go."""
    probes = [
        ("index - 1", index - 1, size, root, leaf, path),
        ("index + 1", index + 1, size, root, leaf, path),
        ("index ^ 2", index ^ 2, size, root, leaf, path),
        ("size * 2", index, size * 2, root, leaf, path),
        ("size / 2", index, size // 2, root, leaf, path),
        ("wrong leaf", index, size, root, b"WrongLeaf", path),
        ("wrong 32-byte leaf", index, size, root, SOME_HASH, path),
        ("empty root", index, size, EMPTY_ROOT, leaf, path),
        ("random root", index, size, SOME_HASH, leaf, path),
        ("trailing garbage", index, size, root, leaf, [*path, b""]),
        ("trailing root", index, size, root, leaf, [*path, root]),
        ("preceding garbage", index, size, root, leaf, [b"", *path]),
        ("preceding root", index, size, root, leaf, [root, *path]),
    ]
    for i in range(len(path)):
        for bit in range(8):
            flipped = list(path)
            flipped[i] = bytes([path[i][0] ^ (1 << bit)]) + path[i][1:]
            probes.append((f"proof[{i}] bit {bit}", index, size, root, leaf, flipped))
    if path:
        probes.append(("removed last", index, size, root, leaf, path[:-1]))
        probes.append(("removed first", index, size, root, leaf, path[1:]))
    if len(path) > 1:
        probes.append(("inserted", index, size, root, leaf, [path[0], SOME_HASH, *path[1:]]))
    return probes


def consistency_probes(size1, size2, root1, root2, path):
    """Port of corruptConsistencyProof from transparency-dev/merkle proof/verify_test.go."""
    probes = [
        ("size1 - 1", size1 - 1, size2, root1, root2, path),
        ("size1 + 1", size1 + 1, size2, root1, root2, path),
        ("size1 ^ 2", size1 ^ 2, size2, root1, root2, path),
        ("size2 * 2", size1, size2 * 2, root1, root2, path),
        ("size2 / 2", size1, size2 // 2, root1, root2, path),
        ("wrong root1", size1, size2, b"WrongRoot", root2, path),
        ("wrong root2", size1, size2, root1, b"WrongRoot", path),
        ("random root1", size1, size2, SOME_HASH, root2, path),
        ("random root2", size1, size2, root1, SOME_HASH, path),
        ("swapped roots", size1, size2, root2, root1, path),
        ("empty proof", size1, size2, root1, root2, []),
        ("trailing garbage", size1, size2, root1, root2, [*path, b""]),
        ("trailing root1", size1, size2, root1, root2, [*path, root1]),
        ("trailing root2", size1, size2, root1, root2, [*path, root2]),
        ("preceding garbage", size1, size2, root1, root2, [b"", *path]),
        ("preceding root1", size1, size2, root1, root2, [root1, *path]),
        ("preceding root2", size1, size2, root1, root2, [root2, *path]),
        ("preceding proof[0]", size1, size2, root1, root2, [path[0], *path]),
        ("truncated", size1, size2, root1, root2, path[:-1]),
        ("removed first", size1, size2, root1, root2, path[1:]),
        ("inserted", size1, size2, root1, root2, [path[0], SOME_HASH, *path[1:]]),
    ]
    for i in range(len(path)):
        for bit in range(8):
            flipped = list(path)
            flipped[i] = bytes([path[i][0] ^ (1 << bit)]) + path[i][1:]
            probes.append((f"proof[{i}] bit {bit}", size1, size2, root1, root2, flipped))
    return probes


@pytest.mark.parametrize(("index", "size", "path"), [v for v in INCLUSION if v[2]])
def test_corrupted_inclusion_proofs_fail(index, size, path):
    """Every corruption probe of a CT inclusion vector raises ProofError."""
    verify_inclusion(HASHES[index], index, size, path, ROOTS[size])
    accepted = []
    for desc, p_index, p_size, p_root, p_leaf, p_path in inclusion_probes(
        index, size, path, ROOTS[size], HASHES[index]
    ):
        try:
            verify_inclusion(p_leaf, p_index, p_size, p_path, p_root)
        except ProofError:
            continue
        accepted.append(desc)
    assert accepted == []


@pytest.mark.parametrize(("size1", "size2", "path"), [v for v in CONSISTENCY if v[2]])
def test_corrupted_consistency_proofs_fail(size1, size2, path):
    """Every corruption probe of a CT consistency vector raises ProofError."""
    verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], path)
    accepted = []
    for desc, p1, p2, r1, r2, p_path in consistency_probes(
        size1, size2, ROOTS[size1], ROOTS[size2], path
    ):
        try:
            verify_consistency(p1, p2, r1, r2, p_path)
        except ProofError:
            continue
        accepted.append(desc)
    assert accepted == []


def test_single_entry_tree_inclusion():
    """A 1-leaf tree: root = leaf hash, empty proof (TestVerifyInclusionSingleEntry)."""
    value = leaf_hash(b"data")
    verify_inclusion(value, 0, 1, [], value)
    for leaf, root in [(value, b""), (b"", value), (b"", b"")]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf, 0, 1, [], root)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (2, 1), (1, 1)])
def test_inclusion_index_outside_tree_fails(index, size):
    """An index at or beyond the tree size never verifies (TestVerifyInclusion probes)."""
    with pytest.raises(ProofError):
        verify_inclusion(SOME_HASH, index, size, [], EMPTY_ROOT)
