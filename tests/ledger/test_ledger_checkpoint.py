# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""C2SP signed notes and checkpoints, checked against published Go vectors.

Vectors: golang.org/x/mod/sumdb/note (package doc and note_test.go: the PeterNeumann key and
its signed note), and a real sum.golang.org checkpoint with the Go checksum database's public
verifier key (from transparency-dev/formats log/checkpoint_test.go, TestSumDBNoteParsing).
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from ledger import (
    Checkpoint,
    CheckpointError,
    Signer,
    Verifier,
    format_checkpoint_text,
    open_note,
    parse_checkpoint,
    verify_checkpoint,
)

GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_CHECKPOINT = (
    "go.sum database tree\n"
    "6476701\n"
    "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
    "\n"
    "\u2014 sum.golang.org "
    "Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n"
)
ROOT = hashlib.sha256(b"root").digest()
ORIGIN = "example.com/ledger-test"


def test_go_note_vector_is_reproduced_byte_for_byte():
    """Signing the Go example text with the Go example key gives the published note exactly."""
    signer = Signer.from_skey(GO_SKEY)
    assert signer.vkey() == GO_VKEY
    assert signer.skey() == GO_SKEY
    assert signer.sign_note(GO_TEXT) == GO_NOTE
    assert open_note(GO_NOTE, Verifier.from_vkey(GO_VKEY)) == GO_TEXT


def test_go_note_rejects_edited_text():
    """The Go example note fails once a single character of its text changes."""
    with pytest.raises(CheckpointError, match="invalid signature"):
        open_note(GO_NOTE.replace("cryptography", "cryptographY"), Verifier.from_vkey(GO_VKEY))


def test_real_sumdb_checkpoint_verifies():
    """A checkpoint signed by sum.golang.org verifies with its published key and parses."""
    checkpoint = verify_checkpoint(SUMDB_CHECKPOINT, Verifier.from_vkey(SUMDB_VKEY))
    assert checkpoint.origin == "go.sum database tree"
    assert checkpoint.size == 6476701
    assert base64.b64encode(checkpoint.root) == b"mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk="
    assert checkpoint.note_text == SUMDB_CHECKPOINT
    with pytest.raises(CheckpointError, match="origin"):
        verify_checkpoint(SUMDB_CHECKPOINT, Verifier.from_vkey(SUMDB_VKEY), origin="other")


def test_checkpoint_text_structure_byte_by_byte(signer):
    """The note is origin, size, base64 root, blank line, em-dash signature line."""
    note = signer.sign_checkpoint(ORIGIN, 42, ROOT)
    lines = note.split("\n")
    assert lines[0] == ORIGIN
    assert lines[1] == "42"
    assert lines[2] == base64.b64encode(ROOT).decode()
    assert lines[3] == ""
    assert lines[4].startswith("\u2014 " + signer.name + " ")
    assert lines[5] == ""
    assert len(lines) == 6
    blob = base64.b64decode(lines[4].split(" ")[2])
    assert len(blob) == 4 + 64
    public = signer.verifier().vkey().split("+", 2)[2]
    expected_id = hashlib.sha256(signer.name.encode() + b"\n" + base64.b64decode(public)).digest()[
        :4
    ]
    assert blob[:4] == expected_id
    assert note.encode().count("\u2014 ".encode()) == 1
    assert "\u2014".encode() == b"\xe2\x80\x94"


def test_round_trip(signer, verifier):
    """sign_checkpoint then verify_checkpoint returns the same origin, size and root."""
    note = signer.sign_checkpoint(ORIGIN, 7, ROOT, ["ext line"])
    checkpoint = verify_checkpoint(note, verifier, origin=ORIGIN)
    assert checkpoint == Checkpoint(ORIGIN, 7, ROOT, note, ("ext line",))
    assert parse_checkpoint(note) == checkpoint
    assert verify_checkpoint(signer.sign_checkpoint(ORIGIN, 0, ROOT), verifier).size == 0


def test_every_flipped_byte_fails(signer, verifier):
    """AUD-4: flipping any bit pattern of any byte of a checkpoint note makes it fail."""
    note = signer.sign_checkpoint(ORIGIN, 1234, ROOT).encode()
    for i in range(len(note)):
        edited = bytearray(note)
        edited[i] ^= 0x01
        try:
            text = edited.decode("utf-8")
        except UnicodeDecodeError:
            continue  # not even text any more
        with pytest.raises(CheckpointError):
            verify_checkpoint(text, verifier)


def test_wrong_key_fails(signer):
    """A checkpoint does not verify under another key, even one with the same name."""
    note = signer.sign_checkpoint(ORIGIN, 3, ROOT)
    other = Signer.from_private_bytes(signer.name, bytes(32)).verifier()
    with pytest.raises(CheckpointError, match="known key"):
        verify_checkpoint(note, other)
    with pytest.raises(CheckpointError, match="known key"):
        verify_checkpoint(note, Signer.from_private_bytes("other", bytes(range(32))).verifier())


def test_unknown_cosignatures_are_ignored(signer, verifier):
    """Extra signature lines from unknown keys (witnesses) do not affect verification."""
    note = signer.sign_checkpoint(ORIGIN, 3, ROOT)
    text = note.split("\n\n")[0] + "\n"
    witness = Signer.from_private_bytes("witness.example", bytes(32))
    cosigned = note + witness.signature_line(text)
    assert verify_checkpoint(cosigned, verifier).size == 3
    assert verify_checkpoint(cosigned, [witness.verifier(), verifier]).size == 3


def test_known_key_with_bad_signature_rejects_the_note(signer, verifier):
    """One good and one bad signature by the known key: the whole note is rejected."""
    note = signer.sign_checkpoint(ORIGIN, 3, ROOT)
    other_text = format_checkpoint_text(ORIGIN, 4, ROOT)
    with pytest.raises(CheckpointError, match="invalid signature"):
        verify_checkpoint(note + signer.signature_line(other_text), verifier)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("o\n01\n{root}\n", "canonical decimal"),
        ("o\n-1\n{root}\n", "canonical decimal"),
        ("o\n1\n", "origin, size and root"),
        ("o\n1\n{root}\n\n", "origin, size and root"),
        ("\n1\n{root}\n", "origin, size and root"),
        ("o\n1\nAAAA\n", "32 bytes"),
        ("o\n1\n{root_noncanonical}\n", "canonical base64"),
    ],
)
def test_malformed_checkpoint_bodies_fail(signer, verifier, text, reason):
    """Signed but malformed checkpoint texts are rejected with a precise reason."""
    root = base64.b64encode(ROOT).decode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    # Flip an unused padding bit: same decoded bytes, different (non-canonical) text.
    noncanonical = root[:-2] + alphabet[alphabet.index(root[-2]) ^ 1] + "="
    assert base64.b64decode(noncanonical) == ROOT
    body = text.format(root=root, root_noncanonical=noncanonical)
    note = body + "\n" + signer.signature_line(body)
    with pytest.raises(CheckpointError, match=reason):
        verify_checkpoint(note, verifier)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda n: n.replace("\n\n", "\n"),  # no blank line
        lambda n: n[:-1],  # no final newline
        lambda n: n.replace("\u2014 ", "- "),  # ASCII dash
        lambda n: n.replace("\u2014 ", "\u2014  "),  # double space
        lambda n: n.replace("7\n", "7\r\n"),  # control character
        lambda n: n + "\u2014 x\n",  # malformed extra line
    ],
)
def test_malformed_notes_fail(signer, verifier, mangle):
    """Structural damage to the signed note is a CheckpointError."""
    note = signer.sign_checkpoint(ORIGIN, 7, ROOT)
    with pytest.raises(CheckpointError):
        verify_checkpoint(mangle(note), verifier)


@pytest.mark.parametrize(
    "vkey",
    [
        GO_VKEY.replace("c74f20a3", "c74f20a4"),  # wrong key id
        GO_VKEY.replace("PeterNeumann", "PeterNeuman"),  # name does not match id
        GO_VKEY.replace("+ARpc", "+AhRpc"),  # not canonical / wrong length
        GO_VKEY.replace("+ARpc", "+Apc"),  # truncated key
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_bad_verifier_keys_are_refused(vkey):
    """Verifier key strings with a wrong id, name, type or encoding are refused."""
    with pytest.raises(CheckpointError):
        Verifier.from_vkey(vkey)


def test_private_key_round_trip(signer):
    """The raw 32-byte private key and the skey string both reload the same signer."""
    raw = signer.private_bytes()
    assert len(raw) == 32
    assert Signer.from_private_bytes(signer.name, raw).vkey() == signer.vkey()
    assert Signer.from_skey(signer.skey()).vkey() == signer.vkey()
    assert Verifier.from_vkey(signer.vkey()).key_id == signer.key_id
    assert isinstance(Signer.generate("fresh.example"), Signer)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb"])
def test_bad_key_names_are_refused(name):
    """Key names must be non-empty with no spaces or plus signs (signed-note spec)."""
    with pytest.raises(CheckpointError):
        Signer.from_private_bytes(name, bytes(32))
