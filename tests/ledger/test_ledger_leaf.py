# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Canonical leaf encoding of stored event records."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import LeafRecord, encode_leaf, leaf_hash


def test_encoding_layout_byte_by_byte():
    """The leaf is version 1, u64 position, then u32-length-prefixed id/topic/state fields."""
    encoded = encode_leaf(258, "ab", 3, "t", b"\x00\xff")
    assert encoded == (
        b"\x01"  # format version
        b"\x00\x00\x00\x00\x00\x00\x01\x02"  # position 258
        b"\x00\x00\x00\x02ab"  # originator_id
        b"\x00\x00\x00\x00\x00\x00\x00\x03"  # originator_version
        b"\x00\x00\x00\x01t"  # topic
        b"\x00\x00\x00\x02\x00\xff"  # state (stored bytes, as is)
    )


def test_record_hashes_its_encoding():
    """LeafRecord.leaf_hash() is the RFC 9162 leaf hash of encode_leaf()."""
    record = LeafRecord(7, "id", 1, "topic", b"sealed")
    assert record.encode() == encode_leaf(7, "id", 1, "topic", b"sealed")
    assert record.leaf_hash() == leaf_hash(record.encode())


def test_unicode_fields_are_utf8_and_length_counts_bytes():
    """Field lengths count UTF-8 bytes, so non-ASCII ids and topics stay unambiguous."""
    encoded = encode_leaf(0, "é", 0, "—", b"")
    assert b"\x00\x00\x00\x02\xc3\xa9" in encoded
    assert b"\x00\x00\x00\x03\xe2\x80\x94" in encoded


text = st.text(max_size=6)
records = st.tuples(
    st.integers(0, 2**64 - 1), text, st.integers(0, 2**64 - 1), text, st.binary(max_size=8)
)


@given(records, records)
def test_encoding_is_injective(first, second):
    """Different records never share an encoding (no field-boundary ambiguity)."""
    if first != second:
        assert encode_leaf(*first) != encode_leaf(*second)


def test_boundary_shift_changes_the_leaf():
    """Moving bytes from one field to the next changes the leaf (the classic concat attack)."""
    assert encode_leaf(1, "ab", 1, "c", b"") != encode_leaf(1, "a", 1, "bc", b"")
    assert encode_leaf(1, "a", 1, "b", b"c") != encode_leaf(1, "a", 1, "bc", b"")


@pytest.mark.parametrize(
    "args",
    [
        (-1, "a", 0, "t", b""),
        (2**64, "a", 0, "t", b""),
        (0, "a", -1, "t", b""),
        (True, "a", 0, "t", b""),
        (1.0, "a", 0, "t", b""),
    ],
)
def test_out_of_range_integers_are_refused(args):
    """Positions and versions must fit a u64 and be real integers."""
    with pytest.raises(ValueError):
        encode_leaf(*args)


def test_state_must_be_bytes():
    """The state is the stored (sealed) bytes; a str would mean plaintext slipped in."""
    with pytest.raises(TypeError):
        encode_leaf(0, "a", 0, "t", "plaintext")
