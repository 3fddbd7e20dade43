# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""verify_log: a clean log passes; every kind of tampering is found at the right index."""

from __future__ import annotations

import dataclasses

import pytest

from ledger import (
    EMPTY_ROOT,
    CompactTree,
    MemoryNodeStore,
    MerkleTree,
    Signer,
    leaf_hash,
    root_from_leaf_hashes,
    verify_log,
)

ORIGIN = "example.com/ledger-test"
N = 40
EVERY = 8  # checkpoint interval (plus one at the end)


@pytest.fixture
def log(signer, make_records):
    """40 records, their stored tree, and signed checkpoints at 0, 8, 16, 24, 32, 40."""
    records = make_records(N)
    store = MemoryNodeStore()
    tree = MerkleTree(store)
    tree.append([r.leaf_hash() for r in records])
    notes = [
        signer.sign_checkpoint(ORIGIN, size, tree.root(size)) for size in range(0, N + 1, EVERY)
    ]
    return records, notes, store


def flip(record, byte=3):
    state = bytearray(record.state)
    state[byte] ^= 0x01
    return dataclasses.replace(record, state=bytes(state))


def test_compact_tree_matches_reference():
    """The O(log n) right-edge stack yields the reference root at every size."""
    hashes = [leaf_hash(bytes([i])) for i in range(70)]
    compact = CompactTree()
    assert compact.root() == EMPTY_ROOT
    for n, value in enumerate(hashes, 1):
        compact.append(value)
        assert compact.root() == root_from_leaf_hashes(hashes[:n])
        assert len(compact.stack) == n.bit_count()


def test_clean_log_passes(log, verifier):
    """An untouched log verifies with and without stored nodes, reporting progress."""
    records, notes, store = log
    seen = []
    report = verify_log(records, notes, verifier, store, progress=seen.append, progress_every=16)
    assert report.ok, report.reason
    assert report.records_checked == N
    assert report.checkpoints_checked == len(notes)
    assert report.verified_size == N
    assert report.root == MerkleTree(store).root()
    assert report.first_bad_index is None
    assert seen == [16, 32, 40]
    assert verify_log(iter(records), iter(notes), [verifier], origin=ORIGIN).ok


def test_records_beyond_the_last_checkpoint_are_reported_unanchored(log, verifier):
    """Records after the last checkpoint are checked but verified_size says what is signed."""
    records, notes, _ = log
    report = verify_log(records, notes[:-1], verifier)
    assert report.ok
    assert report.verified_size == 32
    assert report.records_checked == N


@pytest.mark.parametrize("index", [0, 5, 8, 21, 39])
def test_flipped_byte_is_found_at_its_index__AUD_4(log, verifier, index):
    """AUD-4: a flipped byte in one record's state is reported at exactly that record."""
    records, notes, store = log
    records[index] = flip(records[index])
    report = verify_log(records, notes, verifier, store)
    assert not report.ok
    assert report.first_bad_index == index
    assert report.first_bad_position == records[index].position
    assert report.records_checked == index
    assert "stored leaf hash" in report.reason


@pytest.mark.parametrize("index", [0, 5, 21, 39])
def test_flipped_byte_without_nodes_is_found_by_checkpoint__AUD_4(log, verifier, index):
    """AUD-4: without stored nodes, the next checkpoint fails and names the suspect range."""
    records, notes, _ = log
    records[index] = flip(records[index])
    report = verify_log(records, notes, verifier)
    start = index - index % EVERY
    assert not report.ok
    assert report.first_bad_index == start
    assert report.first_bad_position == records[start].position
    assert f"[{start}, {start + EVERY})" in report.reason
    assert report.verified_size == start


def test_checkpoint_per_record_pins_the_index_without_nodes__AUD_4(signer, verifier, make_records):
    """AUD-4: with a checkpoint after every record, the exact index is found from notes alone."""
    records = make_records(12)
    tree = MerkleTree(MemoryNodeStore())
    tree.append([r.leaf_hash() for r in records])
    notes = [signer.sign_checkpoint(ORIGIN, n, tree.root(n)) for n in range(13)]
    records[7] = flip(records[7])
    report = verify_log(records, notes, verifier)
    assert (report.ok, report.first_bad_index, report.first_bad_position) == (False, 7, 71)


@pytest.mark.parametrize("index", [0, 9, 39])
def test_deleted_record_is_found__AUD_4(log, verifier, index):
    """AUD-4: a deleted record is reported at its index (the next record no longer matches)."""
    records, notes, store = log
    del records[index]
    report = verify_log(records, notes, verifier, store)
    assert not report.ok
    assert report.first_bad_index == index


def test_swapped_records_are_found_at_the_first__AUD_4(log, verifier):
    """AUD-4: two swapped records are reported at the earlier index."""
    records, notes, store = log
    records[11], records[14] = records[14], records[11]
    report = verify_log(records, notes, verifier, store)
    assert not report.ok
    assert report.first_bad_index == 11
    report = verify_log(records, notes, verifier)
    assert (report.ok, report.first_bad_index) == (False, 8)


def test_truncated_tail_is_found__AUD_4(log, verifier):
    """AUD-4: removing the last records is caught by the checkpoint that covered them."""
    records, notes, store = log
    report = verify_log(records[:35], notes, verifier)
    assert not report.ok
    assert report.first_bad_index == 35
    assert "removed from the tail" in report.reason
    report = verify_log(records[:32], notes[:-1], verifier, store)
    assert not report.ok
    assert report.first_bad_index == 32
    assert "stored tree has 40 leaves" in report.reason


def test_inserted_record_is_found__AUD_4(log, verifier, make_records):
    """AUD-4: a record inserted between two others (valid position) is found at its index."""
    records, notes, store = log
    forged = dataclasses.replace(make_records(20)[19], position=records[16].position + 5)
    records.insert(17, forged)
    report = verify_log(records, notes, verifier, store)
    assert (report.ok, report.first_bad_index, report.first_bad_position) == (
        False,
        17,
        forged.position,
    )
    report = verify_log(records, notes, verifier)
    assert (report.ok, report.first_bad_index) == (False, 16)


def test_duplicate_position_is_found__AUD_4(log, verifier):
    """AUD-4: positions must strictly increase; a duplicated record is reported."""
    records, notes, store = log
    records.insert(12, records[11])
    report = verify_log(records, notes, verifier, store)
    assert (report.ok, report.first_bad_index, report.first_bad_position) == (False, 12, 111)
    assert "not greater" in report.reason
    report = verify_log(records, notes, verifier)
    assert (report.ok, report.first_bad_index, report.first_bad_position) == (False, 8, 81)
    assert "[8, 12]" in report.reason


def test_replaced_checkpoint_signature_is_found__AUD_4(log, verifier):
    """AUD-4: a checkpoint whose signature was replaced fails and is named by its ordinal."""
    records, notes, store = log
    impostor = Signer.from_private_bytes(ORIGIN, bytes(32))
    body = notes[3].split("\n\n")[0] + "\n"
    notes[3] = body + "\n" + impostor.signature_line(body)
    report = verify_log(records, notes, verifier, store)
    assert not report.ok
    assert report.bad_checkpoint == 3
    assert report.first_bad_index is None
    assert report.checkpoints_checked == 3
    assert "known key" in report.reason


def test_forged_checkpoint_root_is_found__AUD_4(log, signer, verifier):
    """AUD-4: a validly signed checkpoint over a different root fails at its size."""
    records, notes, store = log
    notes[2] = signer.sign_checkpoint(ORIGIN, 16, leaf_hash(b"forged"))
    report = verify_log(records, notes, verifier, store)
    assert (report.ok, report.bad_checkpoint, report.first_bad_index) == (False, 2, 8)


def test_checkpoint_stream_rules(log, signer, verifier):
    """Unsorted checkpoints, another log's checkpoint and garbage notes are failures."""
    records, notes, _ = log
    report = verify_log(records, [notes[2], notes[1]], verifier)
    assert (report.ok, report.bad_checkpoint) == (False, 1)
    assert "sorted" in report.reason
    other = signer.sign_checkpoint("example.com/other", 8, MerkleTree(MemoryNodeStore()).root())
    report = verify_log(records, [notes[0], other], verifier)
    assert (report.ok, report.bad_checkpoint) == (False, 1)
    assert "origin" in report.reason
    report = verify_log(records, ["not a note"], verifier)
    assert (report.ok, report.bad_checkpoint) == (False, 0)


def test_empty_log(signer, verifier):
    """An empty log with a size-0 checkpoint verifies; a nonzero checkpoint does not."""
    assert verify_log([], [signer.sign_checkpoint(ORIGIN, 0, EMPTY_ROOT)], verifier).ok
    report = verify_log([], [signer.sign_checkpoint(ORIGIN, 1, EMPTY_ROOT)], verifier)
    assert (report.ok, report.first_bad_index) == (False, 0)


def test_altered_stored_node_is_found(log, verifier):
    """AUD-4: a stored leaf node that disagrees with its record is reported at that index."""
    records, notes, store = log
    store._nodes[(0, 30)] = leaf_hash(b"x")
    report = verify_log(records, notes, verifier, store)
    assert (report.ok, report.first_bad_index) == (False, 30)


def test_unencodable_record_is_reported_not_raised(log, verifier):
    """A record that cannot be encoded (negative position) is a failed report, not a crash."""
    records, notes, store = log
    records[3] = dataclasses.replace(records[3], position=-1)
    report = verify_log(records, notes, verifier, store)
    assert (report.ok, report.first_bad_index) == (False, 3)
    assert "cannot be encoded" in report.reason


def test_bad_tuning_arguments_are_refused(log, verifier):
    """A zero batch size would silently check nothing, so it is refused."""
    records, notes, _ = log
    with pytest.raises(ValueError, match="positive"):
        verify_log(records, notes, verifier, batch_size=0)
