# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Offline receipts: verification, byte-level tamper detection, consistency extension."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from ledger import (
    MemoryNodeStore,
    MerkleTree,
    ReceiptError,
    Signer,
    consistency_extension,
    issue_receipt,
    parse_checkpoint,
    verify_receipt,
)

ORIGIN = "example.com/ledger-test"


@pytest.fixture(scope="module")
def log(signer, make_records):
    """20 records in a tree, signed checkpoints at sizes 13 and 20, receipt for leaf 5."""
    records = make_records(20)
    tree = MerkleTree(MemoryNodeStore())
    tree.append([r.leaf_hash() for r in records])
    old_note = signer.sign_checkpoint(ORIGIN, 13, tree.root(13))
    new_note = signer.sign_checkpoint(ORIGIN, 20, tree.root(20))
    receipt = issue_receipt(
        signer,
        kind="erasure",
        record=records[5],
        leaf_index=5,
        inclusion_proof=tree.inclusion_proof(5, 13),
        checkpoint=old_note,
        metadata={"simulation": False, "details": {"subject": "c-17", "at": "2026-03-02"}},
    )
    extension = consistency_extension(
        parse_checkpoint(old_note), tree.consistency_proof(13, 20), new_note, 20
    )
    return {"records": records, "receipt": receipt, "consistency": extension}


def test_receipt_verifies(log, verifier):
    """A freshly issued receipt verifies and reports what it proves."""
    result = verify_receipt(log["receipt"], verifier)
    assert result.kind == "erasure"
    assert result.record == log["records"][5]
    assert result.leaf_index == 5
    assert result.checkpoint.size == 13
    assert result.metadata["details"]["subject"] == "c-17"
    assert result.later_checkpoint is None


def test_receipt_survives_a_json_round_trip(log, verifier):
    """A receipt serialised with any JSON formatting verifies after loading."""
    for text in (json.dumps(log["receipt"]), json.dumps(log["receipt"], indent=2)):
        verify_receipt(json.loads(text), verifier)


def _edits(text: str):
    """Yield every single-byte edit of ASCII ``text`` that is still valid JSON."""
    for i, ch in enumerate(text):
        edited = text[:i] + chr(ord(ch) ^ 0x01) + text[i + 1 :]
        try:
            yield i, json.loads(edited)
        except json.JSONDecodeError:
            continue


def test_every_byte_edit_of_the_receipt_fails(log, verifier):
    """AUD-4: any single-byte edit of the receipt JSON (every field, signature too) fails."""
    text = json.dumps(log["receipt"], separators=(",", ":"))
    tried = 0
    for _, edited in _edits(text):
        if edited == log["receipt"]:
            continue  # an edit that JSON does not see (there are none with this encoding)
        tried += 1
        with pytest.raises(ReceiptError):
            verify_receipt(edited, verifier)
    assert tried > 500


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (("record", "state_b64"), "AAAA", "inclusion proof"),
        (("record", "position"), 52, "inclusion proof"),
        (("record", "originator_version"), 2, "inclusion proof"),
        (("record", "topic"), "other", "inclusion proof"),
        (("leaf_index",), 6, "inclusion proof"),
        (("kind",), "export", "receipt signature"),
        (("metadata", "simulation"), True, "receipt signature"),
        (("version",), 2, "version"),
        (("version",), True, "version"),
    ],
)
def test_field_edits_fail_with_a_precise_reason(log, verifier, path, value, reason):
    """AUD-4: changing any field to another plausible value fails, naming what broke."""
    receipt = copy.deepcopy(log["receipt"])
    target = receipt
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReceiptError, match=reason) as caught:
        verify_receipt(receipt, verifier)
    assert "\n" not in str(caught.value)


def test_structural_damage_fails(log, verifier):
    """Missing or extra keys, wrong types and a bad proof list are ReceiptErrors."""
    for mutate in (
        lambda r: r.pop("signature"),
        lambda r: r.update(extra=1),
        lambda r: r["inclusion_proof"].pop(),
        lambda r: r["inclusion_proof"].append(r["inclusion_proof"][0]),
        lambda r: r["inclusion_proof"].__setitem__(0, r["inclusion_proof"][0].upper()),
        lambda r: r.update(metadata=[]),
        lambda r: r["record"].pop("topic"),
    ):
        receipt = copy.deepcopy(log["receipt"])
        mutate(receipt)
        with pytest.raises(ReceiptError):
            verify_receipt(receipt, verifier)
    with pytest.raises(ReceiptError):
        verify_receipt([], verifier)


def test_wrong_key_fails(log):
    """A receipt does not verify under another key."""
    other = Signer.from_private_bytes("example.com/ledger-test", bytes(32)).verifier()
    with pytest.raises(ReceiptError, match="known key"):
        verify_receipt(log["receipt"], other)


def test_consistency_extension_verifies(log, verifier):
    """The receipt's checkpoint is proven a prefix of the later signed checkpoint."""
    result = verify_receipt(log["receipt"], verifier, log["consistency"])
    assert result.later_checkpoint is not None
    assert result.later_checkpoint.size == 20


def test_every_byte_edit_of_the_consistency_extension_fails(log, verifier):
    """AUD-4: any single-byte edit of the consistency extension JSON is rejected."""
    text = json.dumps(log["consistency"], separators=(",", ":"))
    tried = 0
    for _, edited in _edits(text):
        if edited == log["consistency"]:
            continue
        tried += 1
        with pytest.raises(ReceiptError):
            verify_receipt(log["receipt"], verifier, edited)
    assert tried > 200


def test_consistency_with_a_forked_head_fails(log, signer, verifier):
    """AUD-4: a later head signed over different history is not consistent with the receipt."""
    forked = MerkleTree(MemoryNodeStore())
    hashes = [r.leaf_hash() for r in log["records"]]
    forked.append([*hashes[:12], *hashes[13:20], bytes(32)])
    fork_note = signer.sign_checkpoint(ORIGIN, 20, forked.root(20))
    extension = dict(log["consistency"], checkpoint=fork_note)
    with pytest.raises(ReceiptError, match="consistency"):
        verify_receipt(log["receipt"], verifier, extension)
    other_log = signer.sign_checkpoint(
        "example.com/other-log", 20, MerkleTree(MemoryNodeStore()).root(0)
    )
    with pytest.raises(ReceiptError, match="origin"):
        verify_receipt(log["receipt"], verifier, dict(log["consistency"], checkpoint=other_log))


def test_receipt_verifies_in_a_fresh_process(log, verifier, tmp_path):
    """Given only the receipt JSON and the vkey, a new interpreter verifies the receipt."""
    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(log["receipt"], indent=2), encoding="utf-8")
    code = (
        "import json, sys\n"
        "from ledger import Verifier, verify_receipt\n"
        "receipt = json.load(open(sys.argv[1], encoding='utf-8'))\n"
        "result = verify_receipt(receipt, Verifier.from_vkey(sys.argv[2]))\n"
        "print(result.kind, result.leaf_index, result.checkpoint.size)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(receipt_file), verifier.vkey()],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["erasure", "5", "13"]
    receipt_file.write_text(
        json.dumps(log["receipt"]).replace('"leaf_index": 5', '"leaf_index": 4'), encoding="utf-8"
    )
    failed = subprocess.run(
        [sys.executable, "-c", code, str(receipt_file), verifier.vkey()],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        timeout=60,
    )
    assert failed.returncode != 0
    assert "ReceiptError" in failed.stderr
