# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""RFC 9162 section 2.1 Merkle tree hashing, proof generation and proof verification.

These are pure functions with no storage so that the exact same code verifies proofs on the
server, in the CLI and in an auditor's offline check. The verification functions follow the
RFC's numbered algorithms literally (rather than a cleverer equivalent) so a reviewer can check
them line by line against the standard; they raise ``ProofError`` instead of returning a
boolean so a failed check can never be ignored by accident.

Proof *generation* takes an abstract ``subtree(start, end)`` callable returning MTH of leaves
``[start, end)``: the naive reference, an in-memory tree and a database-backed tree all share it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from ledger.errors import ProofError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """Hash a leaf: SHA-256(0x00 || data); the prefix separates leaves from interior nodes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly less than ``n`` (n > 1): the RFC split point."""
    if n < 2:  # noqa: PLR2004 - the RFC split is only defined for two or more leaves
        raise ValueError(f"split needs at least 2 leaves, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Compute MTH over already-hashed leaves with the RFC's recursive definition.

    This is the slow, obviously-correct reference every faster path is tested against.
    """

    def mth(start: int, end: int) -> bytes:
        n = end - start
        if n == 1:
            return hashes[start]
        k = largest_power_of_two_below(n)
        return node_hash(mth(start, start + k), mth(start + k, end))

    if not hashes:
        return EMPTY_ROOT
    return mth(0, len(hashes))


def _check_hash(value: bytes, what: str) -> None:
    """Reject values that cannot be SHA-256 hashes before they reach a comparison."""
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        raise ProofError(f"{what} must be {HASH_SIZE} bytes")


def _check_size(value: int, what: str) -> None:
    """Reject non-integer and negative sizes (``bool`` is an int in Python, so exclude it)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{what} must be a non-negative integer, got {value!r}")


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift fn and sn equally until LSB(fn) is set or fn is 0 (RFC 9162 step ii)."""
    while not fn & 1 and fn != 0:
        fn >>= 1
        sn >>= 1
    return fn, sn


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """Run RFC 9162 section 2.1.3.2 and return the root the proof leads to.

    Fails when the proof has the wrong length for (index, size); the caller compares the root.
    """
    _check_size(index, "leaf index")
    _check_size(size, "tree size")
    if index >= size:
        raise ProofError(f"leaf index {index} is not below tree size {size}")
    _check_hash(leaf, "leaf hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"inclusion proof element {i}")
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError(f"inclusion proof too long for leaf {index} of tree size {size}")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"inclusion proof too short for leaf {index} of tree size {size}")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves with ``root``."""
    _check_hash(root, "root hash")
    if root_from_inclusion_proof(leaf, index, size, proof) != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the tree {size} root")


def _consistency_trivial(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """Decide the cases the RFC algorithm does not cover; True when already verified."""
    if size1 > size2:
        raise ProofError(f"first tree size {size1} exceeds second tree size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise ProofError(f"different roots for the same tree size {size1}")
        return True
    if size1 == 0:
        if proof:
            raise ProofError("consistency proof from the empty tree must be empty")
        if root1 != EMPTY_ROOT:
            raise ProofError("first root is not the empty-tree hash for size 0")
        return True
    if not proof:
        raise ProofError(f"empty consistency proof from size {size1} to {size2}")
    return False


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2).

    Implements RFC 9162 section 2.1.4.2. Two cases the RFC leaves to the caller are decided
    strictly: equal sizes need an empty proof and equal roots, and the empty tree (size1 = 0)
    needs an empty proof and ``root1`` equal to the empty-tree hash.
    """
    _check_size(size1, "first tree size")
    _check_size(size2, "second tree size")
    _check_hash(root1, "first root hash")
    _check_hash(root2, "second root hash")
    for i, p in enumerate(proof):
        _check_hash(p, f"consistency proof element {i}")
    if _consistency_trivial(size1, size2, root1, root2, proof):
        return
    # Step 2: when size1 is a power of two the old root is itself a node on the path.
    path = [root1, *proof] if size1 & (size1 - 1) == 0 else list(proof)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(f"consistency proof too long from size {size1} to {size2}")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(f"consistency proof too short from size {size1} to {size2}")
    if fr != root1:
        raise ProofError(f"consistency proof does not lead to the tree {size1} root")
    if sr != root2:
        raise ProofError(f"consistency proof does not lead to the tree {size2} root")


def inclusion_proof(index: int, size: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """Build PATH(index, D[size]) of RFC 9162 section 2.1.3.1, leaf-side hash first.

    Walks the RFC recursion top-down (collecting the sibling of each half that holds the
    leaf) and reverses, which yields exactly the recursive definition's order.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not below tree size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(size1: int, size2: int, subtree: Callable[[int, int], bytes]) -> list[bytes]:
    """Build PROOF(size1, D[size2]) = SUBPROOF(size1, D[size2], true) of RFC 9162 2.1.4.1.

    Returns ``[]`` when the sizes are equal or ``size1`` is 0: those cases need no proof.
    """
    if not 0 <= size1 <= size2:
        raise ValueError(f"need 0 <= size1 <= size2, got {size1} and {size2}")
    if size1 in (0, size2):
        return []
    proof: list[bytes] = []
    start, end = 0, size2
    whole = True  # the RFC's flag b: the old tree is the whole current subtree so far
    while True:
        n, m = end - start, size1 - start
        if m == n:
            if not whole:
                proof.append(subtree(start, end))
            break
        k = largest_power_of_two_below(n)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
            whole = False
    proof.reverse()
    return proof
