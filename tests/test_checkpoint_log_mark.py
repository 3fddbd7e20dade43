"""A new process checks only the checkpoint-log lines after a MACed "verified up to" mark (issue 17).

Without the mark every CLI command verified the signature of every checkpoint ever appended to
the outside log. The mark (`ledger.verifiedmark`) vouches for a checked prefix under a key
derived from the ledger's signing key, so a DBA without keys cannot forge it: a forged, edited or
foreign mark, or an edited prefix, makes the next command check every line again and still find
the bad one (AUD-4).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pytest
from support import login

from ledger import CheckpointError, CheckpointLog, Signer, checkpointlog
from ledger.verifiedmark import VerifiedMark, mark_key
from processor.kernel.errors import IntegrityFailureError

if TYPE_CHECKING:
    from pathlib import Path

    from processor.app import Processor

ORIGIN = "example.org/log"
SIGNER = Signer.from_private_bytes(ORIGIN, bytes(range(32)))
VERIFIER = SIGNER.verifier()
KEY = mark_key(SIGNER.private_bytes())
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def signed_log(path: Path, count: int) -> CheckpointLog:
    """A log of `count` checkpoints of growing trees, with a mark key."""
    log = CheckpointLog(path, mark_key=lambda: KEY)
    for size in range(1, count + 1):
        root = hashlib.sha256(str(size).encode()).digest()
        log.append(SIGNER.sign_checkpoint(ORIGIN, size, root), f"2026-01-01T00:00:{size:02d}")
    return log


def forge_signature(path: Path, line: int) -> None:
    """Change one character inside the signature of checkpoint line `line` (1-based)."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    entry = json.loads(lines[line - 1])
    body, signature = entry["note"].rstrip("\n").rsplit(" ", 1)
    at = len(signature) // 2
    other = B64[(B64.index(signature[at]) + 1) % 64]
    entry["note"] = f"{body} {signature[:at]}{other}{signature[at + 1 :]}\n"
    lines[line - 1] = json.dumps(entry, sort_keys=True) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the signature checks the log makes (one item per call)."""
    calls: list[int] = []
    real = checkpointlog.verify_checkpoint

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(checkpointlog, "verify_checkpoint", counting)
    return calls


def test_a_new_process_verifies_only_the_lines_after_the_mark(tmp_path, verifications):
    """After one full check, the next reader checks the new line and the mark's newest only."""
    log = signed_log(tmp_path / "checkpoints.log", 30)
    first = log.newest(VERIFIER, ORIGIN)
    assert first is not None
    assert first.checkpoint.size == 30
    assert len(verifications) == 30
    assert log.mark_path.exists()

    verifications.clear()
    log.append(SIGNER.sign_checkpoint(ORIGIN, 31, bytes(32)), "2026-01-01T00:00:31")
    # A new CheckpointLog, as a new process makes: nothing cached in memory helps here.
    again = CheckpointLog(log.path, mark_key=lambda: KEY).newest(VERIFIER, ORIGIN)
    assert again is not None
    assert (again.line, again.checkpoint.size) == (31, 31)
    assert len(verifications) == 2  # the new line, and the mark's newest entry re-checked


def test_the_marked_answer_is_that_of_checking_every_line(tmp_path):
    """With or without a mark, `newest` names the same entry (the first of the largest tree)."""
    log = signed_log(tmp_path / "checkpoints.log", 5)
    log.append(SIGNER.sign_checkpoint(ORIGIN, 5, bytes(32)), "later, same size")
    log.newest(VERIFIER, ORIGIN)
    log.append(SIGNER.sign_checkpoint(ORIGIN, 3, bytes(32)), "a smaller one after")
    marked = CheckpointLog(log.path, mark_key=lambda: KEY).newest(VERIFIER, ORIGIN)
    plain = CheckpointLog(log.path).newest(VERIFIER, ORIGIN)
    assert marked == plain
    assert marked is not None
    assert (marked.line, marked.signed_at) == (5, "2026-01-01T00:00:05")


def test_an_edited_prefix_is_checked_again_and_its_bad_line_found(tmp_path):
    """A line edited under a valid mark changes the prefix's hash: every line is checked."""
    log = signed_log(tmp_path / "checkpoints.log", 10)
    log.newest(VERIFIER, ORIGIN)
    forge_signature(log.path, 4)
    with pytest.raises(CheckpointError, match="line 4"):
        CheckpointLog(log.path, mark_key=lambda: KEY).newest(VERIFIER, ORIGIN)


@pytest.mark.parametrize("keyed", ["another key", "edited mark"])
def test_a_forged_mark_is_ignored_and_the_bad_line_found(tmp_path, keyed):
    """A mark vouching for an edited log, made without the key, is ignored (every line checked)."""
    log = signed_log(tmp_path / "checkpoints.log", 10)
    log.newest(VERIFIER, ORIGIN)
    forge_signature(log.path, 4)
    data = log.path.read_bytes()
    digest = hashlib.sha256(data).digest()
    if keyed == "another key":
        # The attacker writes a well-formed mark for the edited file under a key of their own.
        VerifiedMark(log.mark_path, b"k" * 32, ORIGIN, VERIFIER.vkey()).save(
            len(data), digest, None
        )
    else:
        # The attacker edits the valid mark's length and hash to cover the edited file.
        mark = json.loads(log.mark_path.read_bytes())
        mark["length"], mark["sha256"] = len(data), digest.hex()
        log.mark_path.write_text(json.dumps(mark), encoding="utf-8")
    with pytest.raises(CheckpointError, match="line 4"):
        CheckpointLog(log.path, mark_key=lambda: KEY).newest(VERIFIER, ORIGIN)


def test_a_mark_of_another_origin_or_key_vouches_for_nothing(tmp_path, verifications):
    """A mark written for another origin (a store initialised again at the same place) is ignored."""
    log = signed_log(tmp_path / "checkpoints.log", 6)
    VerifiedMark(log.mark_path, KEY, "other.org/log", VERIFIER.vkey()).save(
        log.path.stat().st_size, hashlib.sha256(log.path.read_bytes()).digest(), None
    )
    newest = log.newest(VERIFIER, ORIGIN)
    assert newest is not None
    assert newest.checkpoint.size == 6
    assert len(verifications) == 6


# -- in the processor: the mark is keyed by the ledger's signing key (both backends) --------------


def add_contacts(proc: Processor, count: int, first: int = 0) -> None:
    """`count` commands, each signing one checkpoint into the outside log."""
    alice = login(proc, "alice")
    for i in range(first, first + count):
        alice.contacts.add("acme", "news", f"m{i}@example.dk", "email:form")


def test_commands_keep_a_mark_a_key_holder_wrote__AUD_4(acme):
    """AUD-4: each command leaves a valid mark covering the log as it checked it."""
    add_contacts(acme, 3)
    log = acme.ledger.checkpoint_log()
    vkey = acme.ledger.vkey()
    vouched = VerifiedMark(log.mark_path, mark_key(acme.ledger.signer().private_bytes()),
                           acme.ledger.origin, vkey).load()  # fmt: skip
    assert vouched is not None
    # Checked before the command's own checkpoint was appended: all but the last line.
    data = log.path.read_bytes()
    assert 0 < vouched.length < len(data)
    assert hashlib.sha256(data[: vouched.length]).digest() == vouched.digest


def test_a_forged_mark_does_not_hide_a_forged_checkpoint_from_the_next_command__AUD_4(acme):
    """AUD-4: a DBA edits a logged checkpoint and forges the mark; the next command still refuses."""
    add_contacts(acme, 4)
    log = acme.ledger.checkpoint_log()
    forge_signature(log.path, 3)
    data = log.path.read_bytes()
    mark = json.loads(log.mark_path.read_bytes())
    mark["length"], mark["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    log.mark_path.write_text(json.dumps(mark), encoding="utf-8")
    with pytest.raises(IntegrityFailureError, match=r"line 3"):
        add_contacts(acme, 1, first=100)


def test_the_mark_is_keyed_by_the_signing_key_not_the_log_key(acme):
    """A mark made with the public verifier key (what an outsider has) is not accepted."""
    add_contacts(acme, 2)
    log = acme.ledger.checkpoint_log()
    public = acme.ledger.vkey().encode("utf-8")
    outsider = VerifiedMark(log.mark_path, mark_key(public), acme.ledger.origin,
                            acme.ledger.vkey())  # fmt: skip
    data = log.path.read_bytes()
    outsider.save(len(data), hashlib.sha256(data).digest(), None)
    assert outsider.load() is not None  # well-formed under the outsider's own key ...
    holder = VerifiedMark(log.mark_path, mark_key(acme.ledger.signer().private_bytes()),
                          acme.ledger.origin, acme.ledger.vkey())  # fmt: skip
    assert holder.load() is None  # ... but vouches for nothing to the processor
