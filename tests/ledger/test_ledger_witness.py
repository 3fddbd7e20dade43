# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""C2SP tlog-cosignature v1 and the tlog-witness add-checkpoint decision (AUD-4)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger import (
    CheckpointError,
    CheckpointLog,
    CosignatureSigner,
    CosignatureVerifier,
    MemoryNodeStore,
    MerkleTree,
    Witness,
    cosigned_message,
    format_add_checkpoint,
)

SEED = bytes(range(32, 64))


def test_cosignature_matches_the_spec_byte_for_byte__AUD_4():
    """The signed message, key ID and line layout are exactly those of c2sp.org/tlog-cosignature."""
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(body, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + body.encode()
    )
    signer = CosignatureSigner.from_private_bytes("witness.example.com/w1", SEED)
    public = signer.verifier().public_key.public_bytes_raw()
    expected_id = hashlib.sha256(b"witness.example.com/w1\n\x04" + public).digest()[:4]
    assert signer.key_id == expected_id
    line = signer.cosign(body, 1679315147)
    dash, name, blob = line.rstrip("\n").split(" ")
    raw = base64.b64decode(blob)
    assert (dash, name) == ("\u2014", "witness.example.com/w1")
    assert raw[:4] == expected_id
    assert int.from_bytes(raw[4:12], "big") == 1679315147
    assert len(raw) == 4 + 8 + 64
    signer.verifier().public_key.verify(raw[12:], cosigned_message(body, 1679315147))
    vkey = signer.vkey()
    assert base64.b64decode(vkey.split("+")[2])[0] == 0x04
    assert CosignatureVerifier.from_vkey(vkey).key_id == expected_id


def test_cosignature_verifies_and_a_flipped_byte_fails__AUD_4(signer):
    """A cosigned checkpoint verifies with the witness key; an edited checkpoint does not."""
    witness = CosignatureSigner.from_private_bytes("w.example/1", SEED)
    note = signer.sign_checkpoint(signer.name, 3, bytes(32))
    text = note[: note.rfind("\n\n") + 1]
    cosigned = note + witness.cosign(text, 1_700_000_000)
    assert witness.verifier().verify_note(cosigned).timestamp == 1_700_000_000
    with pytest.raises(CheckpointError, match="no cosignature"):
        witness.verifier().verify_note(note)
    forged = cosigned.replace("\n3\n", "\n4\n", 1)
    with pytest.raises(CheckpointError, match="invalid cosignature"):
        witness.verifier().verify_note(forged)


def _tree(n: int) -> MerkleTree:
    tree = MerkleTree(MemoryNodeStore())
    tree.append([hashlib.sha256(bytes([i])).digest() for i in range(n)])
    return tree


def test_witness_cosigns_consistent_successors_only__AUD_4(signer, tmp_path):
    """The witness keeps the latest per log: 409 for a stale size, 422 for a bad proof."""
    witness = Witness(
        CosignatureSigner.from_private_bytes("w.example/1", SEED),
        [signer.verifier()],
        tmp_path,
        clock=lambda: 1_700_000_000,
    )
    tree = _tree(9)
    first = signer.sign_checkpoint(signer.name, 5, tree.root(5))
    assert witness.add_checkpoint(format_add_checkpoint(0, [], first)).status == 200
    later = signer.sign_checkpoint(signer.name, 9, tree.root(9))
    stale = witness.add_checkpoint(format_add_checkpoint(0, [], later))
    assert (stale.status, stale.content_type, stale.body) == (409, "text/x.tlog.size", "5\n")
    other = _tree(12)  # a different history of 9 records is not consistent with the first 5
    forked = signer.sign_checkpoint(signer.name, 9, bytes(32))
    bad = witness.add_checkpoint(format_add_checkpoint(5, other.consistency_proof(5, 9), forked))
    assert bad.status == 422
    good = witness.add_checkpoint(format_add_checkpoint(5, tree.consistency_proof(5, 9), later))
    assert good.status == 200
    assert witness.signer.verifier().verify_note(later + good.body).timestamp == 1_700_000_000
    shorter = signer.sign_checkpoint(signer.name, 7, tree.root(7))
    assert witness.add_checkpoint(format_add_checkpoint(5, [], shorter)).status == 409
    assert witness.add_checkpoint(b"old x\n\n").status == 400


def test_checkpoint_log_appends_and_rejects_edits__AUD_4(signer, tmp_path):
    """The outside log keeps every checkpoint; a torn last line is ignored, an edit is not."""
    log = CheckpointLog(tmp_path / "sub" / "checkpoints.log")
    for size in (1, 2, 3):
        log.append(signer.sign_checkpoint(signer.name, size, bytes(32)), f"t{size}")
    newest = log.newest(signer.verifier(), signer.name)
    assert newest is not None
    assert (newest.checkpoint.size, newest.signed_at, newest.line) == (3, "t3", 3)
    assert oct(log.path.stat().st_mode & 0o777) == "0o600"
    with log.path.open("a", encoding="utf-8") as handle:
        handle.write('{"note": "torn')
    assert len(log.entries(signer.verifier(), signer.name)) == 3
    text = log.path.read_text(encoding="utf-8").replace("\\n2\\n", "\\n4\\n", 1)
    log.path.write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError, match="line 2"):
        log.entries(signer.verifier(), signer.name)
