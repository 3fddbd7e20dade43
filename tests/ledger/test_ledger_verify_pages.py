# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""verify_pages: the same report as verify_log, for a clean log and every kind of tampering.

`verify_pages` is the fast path `ledger verify` uses (rows in pages, stored leaves read as a
range); every row that is not plainly fine is handed to `verify_log`'s own checks. These tests
hold it to that: for each tampering, at several places and page sizes, its report (index,
position, reason, checkpoints) is exactly `verify_log`'s.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest

from ledger import MemoryNodeStore, MerkleTree, verify_log
from ledger.verify import verify_pages

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger import LeafRecord

ORIGIN = "example.com/ledger-test"
N = 40
EVERY = 8


@pytest.fixture
def log(signer, make_records):
    """40 records, their stored tree, and signed checkpoints at 0, 8, ..., 40."""
    records = make_records(N)
    store = MemoryNodeStore()
    tree = MerkleTree(store)
    tree.append([r.leaf_hash() for r in records])
    notes = [
        signer.sign_checkpoint(ORIGIN, size, tree.root(size)) for size in range(0, N + 1, EVERY)
    ]
    return records, notes, store


def _flip(r: LeafRecord) -> LeafRecord:
    state = bytearray(r.state)
    state[0] ^= 1
    return dataclasses.replace(r, state=bytes(state))


def _mutations(i: int) -> dict[str, Callable[[list[Any]], list[Any]]]:
    def at(change: Callable[[Any], Any]) -> Callable[[list[Any]], list[Any]]:
        return lambda rs: [*rs[:i], change(rs[i]), *rs[i + 1 :]]

    return {
        "flipped state": at(_flip),
        "deleted": lambda rs: rs[:i] + rs[i + 1 :],
        "swapped": lambda rs: [*rs[:i], rs[i + 1], rs[i], *rs[i + 2 :]],
        "duplicated": lambda rs: [*rs[: i + 1], rs[i], *rs[i + 1 :]],
        "state as text": at(lambda r: dataclasses.replace(r, state=r.state.hex())),
        "negative position": at(lambda r: dataclasses.replace(r, position=-1)),
        "version a bool": at(lambda r: dataclasses.replace(r, originator_version=True)),
        "version as text": at(lambda r: dataclasses.replace(r, originator_version="7")),
        "id not text": at(lambda r: dataclasses.replace(r, originator_id=7)),
        "position too large": at(lambda r: dataclasses.replace(r, position=2**64)),
        "same position as before": at(
            lambda r: dataclasses.replace(r, position=r.position - 1 if i else r.position)
        ),
        "tail removed": lambda rs: rs[: i + 1],
    }


def _rows(records: list[Any]) -> list[tuple[Any, ...]]:
    return [(r.position, r.originator_id, r.originator_version, r.topic, r.state) for r in records]


def _pages(rows: list[Any], size: int) -> list[list[Any]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def _leaves(store: MemoryNodeStore) -> Callable[[int, int], dict[int, bytes]]:
    return lambda start, end: MerkleTree(store).leaf_hashes(start, end)


def _same(records, notes, verifier, store, page: int) -> None:
    expected = verify_log(records, notes, verifier, store, origin=ORIGIN)
    got = verify_pages(
        _pages(_rows(records), page),
        notes,
        verifier,
        _leaves(store),
        store.size,
        origin=ORIGIN,
    )
    assert dataclasses.replace(got, roots={}) == expected


@pytest.mark.parametrize("page", [1, 7, 40])
def test_clean_log_gives_the_report_of_verify_log(log, verifier, page):
    """An untouched log: ok, every checkpoint checked, the same root."""
    records, notes, store = log
    _same(records, notes, verifier, store, page)


@pytest.mark.parametrize("page", [3, 16])
@pytest.mark.parametrize("index", [0, 5, 8, 23, N - 2])
@pytest.mark.parametrize("kind", list(_mutations(0)))
def test_tampering_is_reported_exactly_as_verify_log_reports_it(log, verifier, kind, index, page):
    """Every tampering gives verify_log's index, position and reason, at any page size."""
    records, notes, store = log
    tampered = _mutations(index)[kind](list(records))
    _same(tampered, notes, verifier, store, page)


@pytest.mark.parametrize("index", [0, 11, N - 2])
@pytest.mark.parametrize("kind", list(_mutations(0)))
def test_tampering_without_stored_nodes_is_reported_as_verify_log_does(log, verifier, kind, index):
    """Without a node store the order and the checkpoints locate a change, as in verify_log."""
    records, notes, _ = log
    tampered = _mutations(index)[kind](list(records))
    expected = verify_log(tampered, notes, verifier, origin=ORIGIN)
    got = verify_pages(_pages(_rows(tampered), 5), notes, verifier, origin=ORIGIN)
    assert dataclasses.replace(got, roots={}) == expected


def test_a_stored_leaf_that_differs_from_its_record_is_found_at_its_index(log, verifier):
    """A leaf node changed in the store (records intact) is reported at that leaf."""
    records, notes, store = log
    store._nodes[(0, 13)] = bytes(32)
    _same(records, notes, verifier, store, 10)
    report = verify_pages(
        _pages(_rows(records), 10), notes, verifier, _leaves(store), store.size, origin=ORIGIN
    )
    assert report.first_bad_index == 13
    assert "does not match its stored leaf hash" in report.reason


def test_roots_are_those_of_the_stored_tree_at_the_asked_sizes(log, verifier):
    """The report's roots at the asked sizes are the tree's roots (for outside checkpoints)."""
    records, notes, store = log
    report = verify_pages(
        _pages(_rows(records), 6), notes, verifier, origin=ORIGIN, roots_at=[1, 13, 40, 99]
    )
    tree = MerkleTree(store)
    assert report.roots == {n: tree.root(n) for n in (1, 13, 40)}
    assert tree.roots([0, 1, 13, 40]) == {n: tree.root(n) for n in (0, 1, 13, 40)}
