# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Incremental RFC 9162 Merkle tree over a store of perfect-subtree nodes.

Only the hashes of *complete perfect subtrees* are stored, keyed ``(level, index)``: node
``(L, i)`` is MTH of leaves ``[i * 2**L, (i + 1) * 2**L)``, level 0 being the leaf hashes. Such
a node never changes once written, so the store is append-only (an overwrite is refused as an
integrity violation), and any tree size up to the current one can be reconstructed: the root
and every proof of an old checkpoint stay available forever.

Every MTH the RFC needs for a root or a proof covers a range that splits, by the RFC's own
recursion, into O(log n) stored perfect nodes. Proof generation therefore runs twice: a dry
run records which ranges the RFC algorithm asks for, their node keys are fetched from the store
in a single ``get_nodes`` call (one query for a database), and the real run combines them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ledger import merkle
from ledger.errors import IntegrityError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

NodeKey = tuple[int, int]
"""``(level, index)`` of a perfect subtree; level 0 holds leaf hashes."""


class NodeStore(Protocol):
    """Where the perfect-subtree hashes live. Implementations must be append-only."""

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the stored hashes for ``keys``; missing keys are simply absent."""
        ...

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Store new nodes; must refuse to overwrite an existing key."""
        ...

    def size(self) -> int:
        """Return the number of leaves (level-0 nodes) stored."""
        ...


class MemoryNodeStore:
    """A dict-backed node store for tests, tools and offline recomputation."""

    def __init__(self) -> None:
        self._nodes: dict[NodeKey, bytes] = {}
        self._size = 0

    def get_nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """Return the stored hashes for ``keys``."""
        return {key: self._nodes[key] for key in keys if key in self._nodes}

    def put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        """Store new nodes atomically; an existing key aborts the whole batch."""
        clash = next((key for key in nodes if key in self._nodes), None)
        if clash is not None:
            raise IntegrityError(f"node {clash} is already stored; the tree is append-only")
        self._nodes.update(nodes)
        leaves = [index for level, index in nodes if level == 0]
        if leaves:
            self._size = max(self._size, max(leaves) + 1)

    def size(self) -> int:
        """Return the number of leaves stored."""
        return self._size


def perfect_nodes(start: int, end: int) -> list[NodeKey]:
    """Return the stored nodes whose RFC-split combination is MTH of leaves [start, end).

    Ranges the RFC algorithms ask for start on a boundary aligned to a power of two at least as
    large as the range, so this is at most one node per level; other ranges still work.
    """
    n = end - start
    if n <= 0:
        raise ValueError(f"empty leaf range [{start}, {end})")
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        return [(level, start >> level)]
    k = merkle.largest_power_of_two_below(n)
    return perfect_nodes(start, start + k) + perfect_nodes(start + k, end)


def _combine(start: int, end: int, nodes: Mapping[NodeKey, bytes]) -> bytes:
    """Compute MTH of leaves [start, end) from fetched perfect nodes (mirrors perfect_nodes)."""
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        level = n.bit_length() - 1
        key = (level, start >> level)
        try:
            return nodes[key]
        except KeyError:
            raise IntegrityError(f"node {key} is missing from the store") from None
    k = merkle.largest_power_of_two_below(n)
    return merkle.node_hash(_combine(start, start + k, nodes), _combine(start + k, end, nodes))


def frontier(size: int) -> list[NodeKey]:
    """Return the perfect nodes on the right edge of a tree of ``size`` leaves, largest first."""
    return [
        (level, (size >> level) - 1)
        for level in range(size.bit_length() - 1, -1, -1)
        if size >> level & 1
    ]


class MerkleTree:
    """An append-only RFC 9162 tree whose nodes live in a ``NodeStore``.

    A single writer must call ``append`` at a time (the application serialises writes with the
    event store's own ordering lock); a racing writer fails on the store's unique keys instead
    of forking the tree.
    """

    def __init__(self, store: NodeStore) -> None:
        self.store = store

    def size(self) -> int:
        """Return the number of leaves in the tree."""
        return self.store.size()

    def append(self, leaf_hashes: Sequence[bytes]) -> int:
        """Append leaf hashes, write the new perfect nodes in one batch, return the new size.

        Costs one read of the O(log n) frontier nodes and one write; each leaf adds on
        average two nodes.
        """
        size = self.store.size()
        if not leaf_hashes:
            return size
        known = self.store.get_nodes(frontier(size))
        new: dict[NodeKey, bytes] = {}
        for value in leaf_hashes:
            if not isinstance(value, bytes) or len(value) != merkle.HASH_SIZE:
                raise ValueError("leaf hashes must be 32-byte SHA-256 digests")
            level, index, current = 0, size, value
            new[(0, index)] = current
            while index & 1:
                sibling = (level, index - 1)
                left = new.get(sibling) or known.get(sibling)
                if left is None:
                    raise IntegrityError(f"frontier node {sibling} is missing from the store")
                current = merkle.node_hash(left, current)
                level, index = level + 1, index >> 1
                new[(level, index)] = current
            size += 1
        self.store.put_nodes(new)
        return size

    def _resolve(self, size: int | None) -> int:
        """Default a size to the current tree size; explicit sizes are checked lazily."""
        if size is None:
            return self.store.size()
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"tree size must be a non-negative integer, got {size!r}")
        return size

    def _fetch(self, keys: Iterable[NodeKey], size: int) -> dict[NodeKey, bytes]:
        """Fetch nodes in one call; explain a miss as a bad size or as a damaged store.

        The size is not checked up front so the usual path costs a single store query.
        """
        wanted = set(keys)
        nodes = self.store.get_nodes(wanted) if wanted else {}
        missing = wanted - nodes.keys()
        if missing:
            current = self.store.size()
            if size > current:
                raise ValueError(f"tree size {size} exceeds the current size {current}")
            raise IntegrityError(f"node {min(missing)} is missing from the store")
        return nodes

    def _batched(
        self, size: int, run: Callable[[Callable[[int, int], bytes]], list[bytes]]
    ) -> list[bytes]:
        """Run a proof algorithm twice: once to learn its ranges, once with fetched nodes."""
        ranges: list[tuple[int, int]] = []

        def record(start: int, end: int) -> bytes:
            ranges.append((start, end))
            return b""

        run(record)
        nodes = self._fetch((key for s, e in ranges for key in perfect_nodes(s, e)), size)
        return run(lambda start, end: _combine(start, end, nodes))

    def subtree(self, start: int, end: int) -> bytes:
        """Return MTH of leaves [start, end) with one node fetch."""
        if not 0 <= start < end:
            raise ValueError(f"leaf range [{start}, {end}) is empty or negative")
        return _combine(start, end, self._fetch(perfect_nodes(start, end), end))

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the tree at ``size`` (default: the current size)."""
        size = self._resolve(size)
        if size == 0:
            return merkle.EMPTY_ROOT
        return self.subtree(0, size)

    def roots(self, sizes: Iterable[int]) -> dict[int, bytes]:
        """The roots at several sizes from one node fetch (a verify's outside checkpoints).

        A size whose nodes are not all stored is left out: `root` of that size explains why.
        """
        asked = {self._resolve(size) for size in sizes}
        wanted = {size: perfect_nodes(0, size) for size in sorted(asked - {0})}
        keys = {key for needed in wanted.values() for key in needed}
        nodes = self.store.get_nodes(keys) if keys else {}
        found = {
            size: _combine(0, size, nodes)
            for size, needed in wanted.items()
            if all(key in nodes for key in needed)
        }
        if 0 in asked:
            found[0] = merkle.EMPTY_ROOT
        return found

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the RFC 9162 inclusion proof of leaf ``index`` in the tree at ``size``."""
        size = self._resolve(size)
        return self._batched(size, lambda sub: merkle.inclusion_proof(index, size, sub))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """Return the RFC 9162 consistency proof from tree size ``size1`` to ``size2``."""
        size2 = self._resolve(size2)
        return self._batched(size2, lambda sub: merkle.consistency_proof(size1, size2, sub))

    def leaf_hashes(self, start: int, end: int) -> dict[int, bytes]:
        """Return the stored leaf hashes of indexes [start, end) (for audits and repairs)."""
        nodes = self.store.get_nodes((0, index) for index in range(start, end))
        return {index: value for (_, index), value in nodes.items()}
