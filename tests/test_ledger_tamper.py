"""Tamper evidence of the ledger over the real event store (AUD-4), on SQLite and PostgreSQL.

Every test builds a store of a few dozen events, then plays an attacker with write access to
the database: it edits the stored event rows or the signed checkpoints by direct SQL, through a
connection of its own. `proc.ledger.verify()` and `processor ledger verify` must then fail
(exit 3, one `error:` line) and name the first bad notification position. Receipts are checked
offline, in a fresh process with nothing but the public key.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import uuid
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from cli_helpers import PROCESSOR, check_contract, cli_env, describe
from click.testing import CliRunner
from processor_cli.cmd_witness import load_witness, make_server
from processor_cli.main import cli
from support import login

from ledger import Verifier, verify_receipt
from ledger.sqlstore import ledger_nodes
from processor.kernel.errors import AccessDeniedError, IntegrityFailureError
from processor.link.tables import checkpoints, cosignatures, leaves

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

    from processor.app import Processor

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
REASON = "Art. 17 request by the data subject"


# -- building a store --------------------------------------------------------------------------


def populate(proc: Processor, count: int = 20, *, first: int = 0) -> list[str]:
    """Add `count` contacts to acme's list `news`; return their ids."""
    alice = login(proc, "alice")
    return [
        alice.contacts.add("acme", "news", f"p{i}@example.dk", "email:form")["contact_id"]
        for i in range(first, first + count)
    ]


def build(proc: Processor, tmp_path: Path) -> dict[str, Any]:
    """A store of 20 contacts, one refused erasure and one erasure (receipt in a file)."""
    ids = populate(proc)
    with pytest.raises(AccessDeniedError):
        login(proc, "mia").erasure.erase("acme", REASON, contact=ids[7])
    receipt_path = tmp_path / "receipt.json"
    receipt = login(proc, "alice").erasure.erase(
        "acme", REASON, contact=ids[7], receipt_path=receipt_path
    )
    return {"ids": ids, "receipt": receipt, "receipt_path": receipt_path}


def write_key(proc: Processor, tmp_path: Path) -> Path:
    """The ledger's public key in a file, as a controller would keep it."""
    path = tmp_path / "ledger.pub"
    path.write_text(proc.ledger.vkey() + "\n", encoding="utf-8")
    return path


# -- the attacker's view of the databases ------------------------------------------------------


class EventTable:
    """Direct SQL on the event store's table, through connections of its own."""

    def __init__(self, proc: Processor) -> None:
        settings = proc.settings
        self.postgres = settings.backend == "postgres"
        if self.postgres:
            loc = settings.events_location()
            self.engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.NullPool)
            self.table = f'"{loc.schema}"."processor_events"'
            self.id = "notification_id"
        else:
            url = f"sqlite:///{settings.data_dir / 'events.sqlite'}"
            self.engine = sa.create_engine(url, poolclass=sa.NullPool)
            with self.engine.connect() as conn:
                names = conn.execute(
                    sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")
                ).scalars()
                tables = list(names)
            assert "stored_events" in tables, tables
            self.table = "stored_events"
            self.id = "rowid"

    def close(self) -> None:
        """Release the connections."""
        self.engine.dispose()

    def rows(self) -> list[sa.Row[Any]]:
        """Every event row (id = notification id), in notification order."""
        query = (
            f"SELECT {self.id} AS id, originator_id, originator_version, topic, state "
            f"FROM {self.table} ORDER BY {self.id}"
        )
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(query)))

    def ids(self) -> list[int]:
        """Every notification id, ascending."""
        return [int(row.id) for row in self.rows()]

    def row(self, position: int) -> sa.Row[Any]:
        """The row at one notification id."""
        (found,) = [row for row in self.rows() if row.id == position]
        return found

    def execute(self, *statements: tuple[str, dict[str, Any]]) -> None:
        """Run statements in one transaction; each must touch exactly one row."""
        with self.engine.begin() as conn:
            for sql, params in statements:
                assert conn.execute(sa.text(sql), params).rowcount == 1, sql

    def update(self, position: int, **values: Any) -> tuple[str, dict[str, Any]]:
        """An UPDATE of one row's columns, for `execute`."""
        sets = ", ".join(f"{name} = :{name}" for name in values)
        sql = f"UPDATE {self.table} SET {sets} WHERE {self.id} = :position"
        return sql, {**values, "position": position}

    def delete(self, *positions: int) -> None:
        """Delete the rows at these notification ids, in one transaction."""
        self.execute(
            *[(f"DELETE FROM {self.table} WHERE {self.id} = :p", {"p": p}) for p in positions]
        )

    def append_copy(self, position: int, originator_id: uuid.UUID) -> int:
        """Insert a copy of the row at `position` under another aggregate; return its new id."""
        row = self.row(position)
        oid: Any = originator_id if self.postgres else originator_id.hex
        values = {"oid": oid, "v": row.originator_version, "topic": row.topic, "state": row.state}
        sql = (
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "
            "VALUES (:oid, :v, :topic, :state)"
        )
        self.execute((sql, values))
        return max(self.ids())


@pytest.fixture
def events(acme):
    table = EventTable(acme)
    yield table
    table.close()


def contact_positions(proc: Processor, contact_id: str) -> list[int]:
    """The notification positions of one contact's events, as the ledger sees them."""
    return [r.position for r in proc.ledger.iter_records() if r.originator_id == contact_id]


def denial_position(proc: Processor) -> int:
    """The position of the (only) recorded refusal: an event the read models take as is."""
    (position,) = [
        r.position for r in proc.ledger.iter_records() if r.topic.endswith(".AccessDenied")
    ]
    return position


def checkpoint_notes(proc: Processor) -> list[tuple[int, str]]:
    """Every stored checkpoint (size, note), by size."""
    with proc.engines.ledger.connect() as conn:
        query = sa.select(checkpoints.c.size, checkpoints.c.note).order_by(checkpoints.c.size)
        return [(int(size), str(note)) for size, note in conn.execute(query)]


def replace_note(proc: Processor, size: int, note: str) -> None:
    with proc.engines.ledger.begin() as conn:
        query = checkpoints.update().where(checkpoints.c.size == size).values(note=note)
        assert conn.execute(query).rowcount == 1


def other_b64(char: str) -> str:
    """Another base64 character (so the text stays canonical base64 away from its end)."""
    return B64[(B64.index(char) + 1) % len(B64)]


def edit_char(text: str, index: int, new: str) -> str:
    assert len(new) == 1
    assert text[index] != new
    return text[:index] + new + text[index + 1 :]


# -- the command line --------------------------------------------------------------------------


def cli_run(proc: Processor, *args: object) -> Result:
    """`processor --as grete ARGS` on the store, in-process, with grete's own credential."""
    argv = ["--as", "grete", *[str(a) for a in args]]
    env = cli_env(proc.settings)
    env["PROCESSOR_CREDENTIAL"] = proc.issued["grete"]
    result = CliRunner(env=env).invoke(cli, argv)
    check_contract(result, argv)
    return result


def cli_verify(proc: Processor, *extra: object) -> Result:
    """`processor --as grete ledger verify [EXTRA]` on the store, in-process."""
    return cli_run(proc, "ledger", "verify", *extra)


def assert_cli_fails_at(proc: Processor, position: int, index: int) -> str:
    """`ledger verify` exits 3 with one line naming the position and leaf; return the line."""
    result = cli_verify(proc)
    assert result.exit_code == 3, describe(result)
    line = result.stderr.strip()
    prefix = f"error: ledger verification failed at position {position} (leaf {index}): "
    assert line.startswith(prefix), line
    return line


def offline_env() -> dict[str, str]:
    """The environment of this process without any PROCESSOR_* variable."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PROCESSOR_")}


def verify_in_fresh_process(
    receipt: Path, key: Path, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`processor receipts verify` in a subprocess with no store configured anywhere."""
    return subprocess.run(
        [str(PROCESSOR), "receipts", "verify", str(receipt), "--public-key", str(key)],
        env=offline_env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def cli_receipts_verify(*args: object) -> Result:
    """`processor receipts verify ...` in-process, with no store in the environment."""
    argv = ["receipts", "verify", *[str(a) for a in args]]
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PROCESSOR_")}
    result = CliRunner(env=env).invoke(cli, argv)
    check_contract(result, argv)
    return result


# -- 1. a clean store --------------------------------------------------------------------------


def test_clean_store_verifies(acme, events, tmp_path):
    """AUD-4: an untouched store verifies, through the API and `ledger verify` (exit 0)."""
    build(acme, tmp_path)
    count = len(events.rows())
    report = acme.ledger.verify()
    assert report.ok, report
    assert report.records_checked == count == acme.ledger.size()
    assert report.checkpoints_checked == len(checkpoint_notes(acme))
    assert report.verified_size == count
    assert report.root == bytes.fromhex(acme.ledger.head()["root"])
    result = cli_verify(acme)
    assert result.exit_code == 0, describe(result)
    assert f"ledger verified: {count} events, {report.checkpoints_checked} signed" in (
        result.stdout
    )


# -- 2. an edited event ------------------------------------------------------------------------


def test_flipped_state_byte_is_found_at_its_position(acme, events, tmp_path):
    """AUD-4: one flipped byte in one stored event's state is reported at exactly its position."""
    store = build(acme, tmp_path)
    (position,) = contact_positions(acme, store["ids"][12])
    index = acme.ledger.leaf_index(position)
    state = bytes(events.row(position).state)
    at = next(i for i in range(len(state) // 2, len(state)) if chr(state[i]).isalpha())
    tampered = state[:at] + bytes([state[at] ^ 0x01]) + state[at + 1 :]
    events.execute(events.update(position, state=tampered))

    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_position == position
    assert report.first_bad_index == index
    assert f"position {position}" in report.reason
    assert_cli_fails_at(acme, position, index)


# -- 3. a deleted event ------------------------------------------------------------------------


def test_deleted_event_is_found_at_its_place(acme, events, tmp_path):
    """AUD-4: a deleted event row is reported at its leaf, i.e. at the next stored position."""
    store = build(acme, tmp_path)
    (position,) = contact_positions(acme, store["ids"][5])
    index = acme.ledger.leaf_index(position)
    following = min(p for p in events.ids() if p > position)
    events.delete(position)

    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_index == index
    assert report.first_bad_position == following
    assert_cli_fails_at(acme, following, index)


# -- 4. two swapped events ---------------------------------------------------------------------


def test_swapped_events_are_found_at_the_lower_position(acme, events, tmp_path):
    """AUD-4: two events whose stored contents were swapped fail at the lower position."""
    store = build(acme, tmp_path)
    (low,) = contact_positions(acme, store["ids"][3])
    (high,) = contact_positions(acme, store["ids"][15])
    index = acme.ledger.leaf_index(low)
    a, b = events.row(low), events.row(high)
    fields = ("originator_id", "originator_version", "topic", "state")
    values_a = {name: getattr(a, name) for name in fields}
    values_b = {name: getattr(b, name) for name in fields}
    # Through a free version first: (originator_id, originator_version) is the primary key.
    events.execute(
        events.update(low, originator_version=a.originator_version + 1_000_000),
        events.update(high, **values_a),
        events.update(low, **values_b),
    )
    assert events.row(low).state == b.state
    assert events.row(high).state == a.state

    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_position == low
    assert report.first_bad_index == index
    assert_cli_fails_at(acme, low, index)


def test_swapped_states_only_are_found_at_the_lower_position(acme, events, tmp_path):
    """AUD-4: swapping only the sealed state bytes of two events fails at the lower position."""
    store = build(acme, tmp_path)
    (low,) = contact_positions(acme, store["ids"][2])
    (high,) = contact_positions(acme, store["ids"][18])
    a, b = events.row(low), events.row(high)
    events.execute(events.update(low, state=b.state), events.update(high, state=a.state))

    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_position == low
    assert_cli_fails_at(acme, low, acme.ledger.leaf_index(low))


# -- 5. a truncated tail -----------------------------------------------------------------------


def test_truncated_tail_fails_against_the_signed_size(acme, events, tmp_path):
    """AUD-4: deleting the last events fails: a signed checkpoint commits to more records."""
    build(acme, tmp_path)
    size = acme.ledger.head()["size"]
    removed = events.ids()[-3:]
    events.delete(*removed)
    # The first signed checkpoint past the remaining records is the one that fails.
    claim = min(s for s, _ in checkpoint_notes(acme) if s > size - 3)

    report = acme.ledger.verify()
    assert not report.ok
    assert report.records_checked == size - 3
    assert report.first_bad_index == size - 3
    assert report.verified_size == size - 3
    assert f"commits to {claim} records but the log has only {size - 3}" in report.reason
    assert "removed from the tail" in report.reason
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    assert result.stderr.startswith("error: ledger verification failed")
    assert f"(leaf {size - 3}): " in result.stderr
    assert "removed from the tail" in result.stderr


def test_truncated_tail_names_the_first_removed_position(acme, events, tmp_path):
    """AUD-4: a truncated tail is reported at the notification position of the first lost event."""
    build(acme, tmp_path)
    size = acme.ledger.head()["size"]
    removed = events.ids()[-3:]
    assert acme.ledger.leaf_index(removed[0]) == size - 3
    events.delete(*removed)

    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_position == removed[0]
    assert_cli_fails_at(acme, removed[0], size - 3)


# -- 6. an edited checkpoint -------------------------------------------------------------------


def test_edited_checkpoint_signature_fails(acme, tmp_path):
    """AUD-4: one changed character inside a checkpoint's signature fails verification."""
    build(acme, tmp_path)
    notes = checkpoint_notes(acme)
    ordinal = len(notes) // 2
    size, note = notes[ordinal]
    body, signature = note.rstrip("\n").rsplit(" ", 1)
    at = len(signature) // 2  # inside the Ed25519 signature, far from the padding
    forged = f"{body} {edit_char(signature, at, other_b64(signature[at]))}\n"
    replace_note(acme, size, forged)

    report = acme.ledger.verify()
    assert not report.ok
    assert report.bad_checkpoint == ordinal
    assert report.reason.startswith(f"checkpoint #{ordinal}: ")
    assert "signature" in report.reason
    assert report.checkpoints_checked == ordinal
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    assert result.stderr.startswith("error: ledger verification failed")
    assert f"checkpoint #{ordinal}: " in result.stderr


def test_checkpoint_with_another_root_fails(acme, tmp_path):
    """AUD-4: a checkpoint whose root line is replaced by another checkpoint's root fails."""
    build(acme, tmp_path)
    notes = checkpoint_notes(acme)
    ordinal = len(notes) // 2
    size, note = notes[ordinal]
    lines = note.split("\n")
    other_root = notes[ordinal + 1][1].split("\n")[2]
    assert lines[1] == str(size)
    assert other_root != lines[2]
    replace_note(acme, size, "\n".join([lines[0], lines[1], other_root, *lines[3:]]))

    report = acme.ledger.verify()
    assert not report.ok
    assert report.bad_checkpoint == ordinal
    assert report.reason.startswith(f"checkpoint #{ordinal}: ")
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    assert f"checkpoint #{ordinal}: " in result.stderr


# -- 7. an inserted event ----------------------------------------------------------------------


def test_inserted_event_is_found_at_its_position(acme, events, tmp_path):
    """AUD-4: an event row appended by SQL (a copy of another) is found at its new position."""
    build(acme, tmp_path)
    size = acme.ledger.head()["size"]
    position = events.append_copy(denial_position(acme), uuid.uuid4())

    report = acme.ledger.verify()
    assert not report.ok
    assert report.first_bad_position == position
    assert report.first_bad_index == size
    assert acme.ledger.head()["size"] == size


def test_cli_verify_does_not_sign_an_inserted_event(acme, events, tmp_path):
    """AUD-4: `ledger verify` exits 3 on an appended forged row and signs nothing new."""
    build(acme, tmp_path)
    size = acme.ledger.head()["size"]
    position = events.append_copy(denial_position(acme), uuid.uuid4())

    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    prefix = f"error: ledger verification failed at position {position} (leaf {size}): "
    assert result.stderr.startswith(prefix), result.stderr
    assert acme.ledger.head()["size"] == size, "the verifier signed the forged row"


# -- 8. receipts, offline ----------------------------------------------------------------------


def _one_byte_edits(text: str, receipt: dict[str, Any]) -> dict[str, str]:
    """Single-byte edits of the receipt JSON text, one per field kind."""
    edits: dict[str, str] = {}
    proof_hash = receipt["inclusion_proof"][0]
    at = text.index(f'"{proof_hash}"') + 1 + 10
    edits["inclusion proof hex digit"] = edit_char(text, at, "0" if text[at] != "0" else "1")
    match = re.search(r'"leaf_index": (\d+)', text)
    assert match is not None
    at = match.end(1) - 1
    edits["leaf_index digit"] = edit_char(text, at, str((int(text[at]) + 1) % 10))
    state = receipt["record"]["state_b64"]
    at = text.index(state) + len(state) // 2
    edits["record state character"] = edit_char(text, at, other_b64(text[at]))
    at = text.index('"erased_by": "') + len('"erased_by": "')
    edits["metadata erased_by character"] = edit_char(text, at, "X" if text[at] != "X" else "Y")
    for name, edited in edits.items():
        assert len(edited.encode()) == len(text.encode()), name
        assert json.loads(edited) != receipt, name
    return edits


def test_erasure_receipt_verifies_offline_and_any_edit_fails(acme, tmp_path):
    """AUD-4: an erasure receipt verifies in a fresh process with only the key; edits exit 3."""
    store = build(acme, tmp_path)
    key = write_key(acme, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    receipt_path = store["receipt_path"]
    receipt = json.loads(receipt_path.read_text(encoding="utf-8"))
    assert receipt == store["receipt"]
    assert receipt["kind"] == "erasure"
    assert REASON not in receipt_path.read_text(encoding="utf-8")

    done = verify_in_fresh_process(receipt_path, key, empty)
    assert done.returncode == 0, done.stderr
    assert f"receipt verified: erasure at leaf {receipt['leaf_index']}" in done.stdout
    assert list(empty.iterdir()) == [], "the offline check created files"

    text = receipt_path.read_text(encoding="utf-8")
    edits = _one_byte_edits(text, receipt)
    for name, edited in edits.items():
        path = tmp_path / "edited.json"
        path.write_text(edited, encoding="utf-8")
        result = cli_receipts_verify(path, "--public-key", key)
        assert result.exit_code == 3, f"{name}: {describe(result)}"
        assert result.stderr.startswith("error: receipt does not verify: "), name

    # The same in a fresh process, for the edit that no Merkle proof covers (only the signature).
    path = tmp_path / "edited.json"
    path.write_text(edits["metadata erased_by character"], encoding="utf-8")
    done = verify_in_fresh_process(path, key, empty)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: receipt does not verify: "), lines[0]
    assert "signature" in lines[0]


# -- 9. consistency ----------------------------------------------------------------------------


def test_receipt_consistency_with_a_later_head(acme, tmp_path):
    """AUD-4: a receipt plus a consistency proof to a later head verifies; an edited proof fails."""
    store = build(acme, tmp_path)
    key = write_key(acme, tmp_path)
    h1 = acme.ledger.head()["size"]
    receipt = store["receipt"]
    assert int(receipt["checkpoint"].split("\n")[1]) == h1
    populate(acme, 5, first=100)
    h2 = acme.ledger.head()["size"]
    assert h2 > h1

    extension = acme.ledger.consistency(h1)
    assert extension["from_size"] == h1
    assert extension["to_size"] == h2
    assert extension["proof"]
    consistency = tmp_path / "c.json"
    consistency.write_text(json.dumps(extension, indent=2), encoding="utf-8")
    result = cli_receipts_verify(
        store["receipt_path"], "--public-key", key, "--consistency", consistency
    )
    assert result.exit_code == 0, describe(result)

    first = extension["proof"][0]
    text = consistency.read_text(encoding="utf-8")
    at = text.index(f'"{first}"') + 1 + 20
    consistency.write_text(edit_char(text, at, "0" if text[at] != "0" else "1"), encoding="utf-8")
    result = cli_receipts_verify(
        store["receipt_path"], "--public-key", key, "--consistency", consistency
    )
    assert result.exit_code == 3, describe(result)
    assert result.stderr.startswith("error: receipt does not verify: ")


# -- 10. erasure keeps every proof valid -------------------------------------------------------


def test_erasure_keeps_every_proof_valid(acme, tmp_path):
    """AUD-4: erasing a subject leaves the ledger, earlier receipts and proofs all valid."""
    store = build(acme, tmp_path)
    key = write_key(acme, tmp_path)
    verifier = Verifier.from_vkey(acme.ledger.vkey())
    subject = store["ids"][11]
    (added,) = contact_positions(acme, subject)
    before = acme.ledger.receipt(added, kind="contact-added", details={"contact_id": subject})
    before_path = tmp_path / "before.json"
    before_path.write_text(json.dumps(before), encoding="utf-8")
    h1 = acme.ledger.head()["size"]

    login(acme, "alice").erasure.erase("acme", REASON, contact=subject)
    assert login(acme, "alice").contacts.show("acme", subject)["erased"] is True

    # The stored (sealed) bytes the ledger hashed are unchanged: only the key is gone.
    assert acme.ledger.record(added) == verify_receipt(before, verifier).record
    report = acme.ledger.verify()
    assert report.ok, report
    result = cli_verify(acme)
    assert result.exit_code == 0, describe(result)
    for path in (before_path, store["receipt_path"]):
        result = cli_receipts_verify(path, "--public-key", key)
        assert result.exit_code == 0, describe(result)
    verify_receipt(before, verifier, acme.ledger.consistency(h1))
    proof = acme.ledger.prove(added)
    assert proof["tree_size"] == acme.ledger.head()["size"] > h1


# -- 11. rollbacks: checkpoints that outlive the store (issue 11, finding 2) ----------------------


def cut_ledger(proc: Processor, size: int) -> None:
    """The attacker's second half: remove every ledger row past tree size `size`, consistently.

    Leaves, the perfect-subtree nodes that cover any leaf past `size`, checkpoints and witness
    cosignatures all go, so what is left of the ledger agrees with itself.
    """
    with proc.engines.ledger.begin() as conn:
        conn.execute(leaves.delete().where(leaves.c.leaf_index >= size))
        doomed = [
            (level, idx)
            for level, idx in conn.execute(sa.select(ledger_nodes.c.level, ledger_nodes.c.idx))
            if (idx + 1) << level > size
        ]
        for level, idx in doomed:
            conn.execute(
                ledger_nodes.delete().where(
                    (ledger_nodes.c.level == level) & (ledger_nodes.c.idx == idx)
                )
            )
        conn.execute(checkpoints.delete().where(checkpoints.c.size > size))
        conn.execute(cosignatures.delete().where(cosignatures.c.size > size))


def roll_back_tail(proc: Processor, events: EventTable, count: int) -> int:
    """Delete at least the newest `count` records with all their ledger rows; return the size.

    The cut is made at a signed checkpoint, as a careful attacker would, so that the store and
    its ledger rows agree with themselves afterwards.
    """
    size = acme_size(proc)
    cut = max(s for s, _ in checkpoint_notes(proc) if s <= size - count)
    events.delete(*events.ids()[cut:])
    cut_ledger(proc, cut)
    return cut


def acme_size(proc: Processor) -> int:
    return int(proc.ledger.head()["size"])


def elsewhere(proc: Processor, tmp_path: Path) -> dict[str, str | None]:
    """A checkpoint log the attacker controls: the real one cut back to the store's newest.

    An empty or missing log is itself an integrity failure now (`ledgercustody`), so an
    attacker who holds the log too cuts it where they cut the store: the store judged on its own.
    """
    newest = max((size for size, _ in checkpoint_notes(proc)), default=0)
    real = proc.ledger.checkpoint_log().path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in real if int(json.loads(line)["note"].split("\n")[1]) <= newest]
    path = tmp_path / "attacker-owned.log"
    path.write_text("".join(kept), encoding="utf-8")
    return {"PROCESSOR_CHECKPOINT_LOG": str(path)}


def cli_verify_env(proc: Processor, env: dict[str, str | None], *extra: object) -> Result:
    argv = ["--as", "grete", "ledger", "verify", *[str(a) for a in extra]]
    full = {**cli_env(proc.settings), "PROCESSOR_CREDENTIAL": proc.issued["grete"], **env}
    result = CliRunner(env=full).invoke(cli, argv)
    check_contract(result, argv)
    return result


def test_deleted_newest_records_with_ledger_rows_fail_against_the_checkpoint_log__AUD_4(
    acme, events, tmp_path
):
    """AUD-4: deleting the newest records and their leaves, nodes and checkpoints is caught."""
    build(acme, tmp_path)
    signed = acme_size(acme)
    left = roll_back_tail(acme, events, 3)

    # On its own the store agrees with itself: this is what the outside log is for.
    alone = cli_verify_env(acme, elsewhere(acme, tmp_path))
    assert alone.exit_code == 0, describe(alone)

    report = acme.ledger.verify()
    assert not report.ok
    assert f"store has {left} records but checkpoint of size {signed} was signed at" in (
        report.reason
    )
    assert "checkpoint log" in report.reason
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    assert f"store has {left} records but checkpoint of size {signed}" in result.stderr

    # The next writing command refuses to sign the shortened history.
    with pytest.raises(IntegrityFailureError, match="refusing to sign"):
        populate(acme, 1, first=500)
    assert acme_size(acme) == left, "a checkpoint was signed over the rolled-back store"


def test_deleted_middle_record_is_not_healed_by_the_next_command__AUD_4(acme, events, tmp_path):
    """AUD-4: a middle record deleted with the later ledger rows makes the next command refuse."""
    build(acme, tmp_path)
    signed = acme_size(acme)
    boundary = max(s for s, _ in checkpoint_notes(acme) if s < signed - 5)
    position = events.ids()[boundary]  # the first record after that checkpoint
    events.delete(position)
    cut_ledger(acme, boundary)

    with pytest.raises(IntegrityFailureError, match="refusing to sign") as refused:
        populate(acme, 2, first=600)
    message = str(refused.value)
    assert f"checkpoint of size {signed} signed at" in message or (
        f"checkpoint of size {signed} was signed at" in message
    )
    # Caught before the new records are saved (the writer catches up first: records removed) or
    # after (the first records differ: history rewritten); either way nothing is signed.
    assert "history was rewritten" in message or "records were removed" in message
    assert acme_size(acme) == boundary, "the rewritten log was signed"
    report = acme.ledger.verify()
    assert not report.ok
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)


def test_deleted_newest_checkpoint_row_is_detected__AUD_4(acme, tmp_path):
    """AUD-4: deleting only the newest checkpoint row fails verification, even store alone."""
    build(acme, tmp_path)
    signed = acme_size(acme)
    with acme.engines.ledger.begin() as conn:
        assert conn.execute(checkpoints.delete().where(checkpoints.c.size == signed)).rowcount
    previous = checkpoint_notes(acme)[-1][0]

    alone = cli_verify_env(acme, elsewhere(acme, tmp_path))
    assert alone.exit_code == 3, describe(alone)
    assert f"has {signed} records but its newest signed checkpoint covers {previous}" in (
        alone.stderr
    )
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    with pytest.raises(IntegrityFailureError, match="refusing to sign"):
        populate(acme, 1, first=700)


def test_rollback_below_a_checkpoint_held_elsewhere_fails_with_since__AUD_4(acme, events, tmp_path):
    """AUD-4: `ledger verify --since FILE` catches a rollback the database cannot show."""
    build(acme, tmp_path)
    held = tmp_path / "held-by-controller.checkpoint"
    held.write_text(acme.ledger.head()["checkpoint"], encoding="utf-8")
    signed = acme_size(acme)
    ok = cli_verify_env(acme, elsewhere(acme, tmp_path), "--since", held)
    assert ok.exit_code == 0, describe(ok)

    left = roll_back_tail(acme, events, 2)
    # The attacker also owns the checkpoint log: only the controller's copy is left.
    alone = cli_verify_env(acme, elsewhere(acme, tmp_path))
    assert alone.exit_code == 0, describe(alone)
    result = cli_verify_env(acme, elsewhere(acme, tmp_path), "--since", held)
    assert result.exit_code == 3, describe(result)
    assert f"store has {left} records but checkpoint of size {signed}" in result.stderr
    assert "--since" in result.stderr


# -- 12. a witness (C2SP tlog-witness) -----------------------------------------------------------


@pytest.fixture
def witness_url(acme, tmp_path):
    """A witness on 127.0.0.1 (a free port) trusting this store's log key; yields (url, key)."""
    key = write_key(acme, tmp_path)
    witness = load_witness(tmp_path / "witness", [key], "witness.example/w1")
    server = make_server(witness, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    vkey = tmp_path / "witness.pub"
    vkey.write_text(witness.signer.vkey() + "\n", encoding="utf-8")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", vkey
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_witness_cosigns_and_verify_requires_it__AUD_4(acme, tmp_path, witness_url):
    """AUD-4: `ledger witness` stores a cosignature; `verify --witness` requires it."""
    url, wkey = witness_url
    store = build(acme, tmp_path)
    missing = cli_verify(acme, "--witness", wkey)
    assert missing.exit_code == 3, describe(missing)
    assert "no cosignature by witness" in missing.stderr

    done = cli_run(acme, "--json", "ledger", "witness", "--url", url, "--witness-key", wkey)
    assert done.exit_code == 0, describe(done)
    ok = cli_verify(acme, "--witness", wkey)
    assert ok.exit_code == 0, describe(ok)
    assert "cosigned by witness.example/w1" in ok.stdout

    # More writes, then the witness again: it is given a consistency proof from its last size.
    populate(acme, 3, first=800)
    assert cli_verify(acme, "--witness", wkey).exit_code == 3
    assert cli_run(acme, "ledger", "witness", "--url", url).exit_code == 0
    assert cli_verify(acme, "--witness", wkey).exit_code == 0

    # A receipt relies on its checkpoint, or on a later one it is proven consistent with.
    key = write_key(acme, tmp_path)
    bare = cli_receipts_verify(store["receipt_path"], "--public-key", key, "--witness-key", wkey)
    assert bare.exit_code == 3, describe(bare)
    extension = tmp_path / "c.json"
    receipt_size = int(store["receipt"]["checkpoint"].split("\n")[1])
    extension.write_text(json.dumps(acme.ledger.consistency(receipt_size)), encoding="utf-8")
    cosigned = cli_receipts_verify(
        store["receipt_path"], "--public-key", key, "--consistency", extension,
        "--witness-key", wkey,
    )  # fmt: skip
    assert cosigned.exit_code == 0, describe(cosigned)


def test_rollback_is_refused_by_the_witness__AUD_4(acme, events, tmp_path, witness_url):
    """AUD-4: after a rollback (checkpoint log lost too) the witness will not cosign: exit 3."""
    url, _ = witness_url
    build(acme, tmp_path)
    signed = acme_size(acme)
    assert cli_run(acme, "ledger", "witness", "--url", url).exit_code == 0
    left = roll_back_tail(acme, events, 3)
    env = elsewhere(acme, tmp_path)
    assert cli_verify_env(acme, env).exit_code == 0  # the store alone cannot tell

    argv = ["--as", "grete", "ledger", "witness", "--url", url]
    full = {**cli_env(acme.settings), "PROCESSOR_CREDENTIAL": acme.issued["grete"], **env}
    result = CliRunner(env=full).invoke(cli, argv)
    check_contract(result, argv)
    assert result.exit_code == 3, describe(result)
    assert f"store has {left} records but witness" in result.stderr
    assert f"cosigned a checkpoint of size {signed}" in result.stderr


# -- 13. malformed stored records (finding 7) -----------------------------------------------------


def test_malformed_records_exit_3_with_their_position__AUD_4(acme, events, tmp_path):
    """AUD-4: a record with a wrong-typed column makes `ledger verify` exit 3, never 4."""
    store = build(acme, tmp_path)
    (position,) = contact_positions(acme, store["ids"][4])
    if events.postgres:
        table = events.table
        with events.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f"ALTER TABLE {table} ALTER COLUMN state TYPE text "
                    "USING encode(state, 'base64')"
                )
            )
    else:
        events.execute(
            (f"UPDATE {events.table} SET originator_version = 'seven' WHERE rowid = :p",
             {"p": position}),
            (f"UPDATE {events.table} SET state = CAST(hex(state) AS TEXT) WHERE rowid = :p",
             {"p": position + 1}),
        )  # fmt: skip
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    assert "position" in result.stderr
    if not events.postgres:
        assert f"position {position}" in result.stderr


def test_forged_appended_row_is_not_projected_before_verify__AUD_4(acme, events, tmp_path):
    """AUD-4: a row appended by SQL is reported by `ledger verify` and is not projected first."""
    build(acme, tmp_path)
    forged = events.append_copy(denial_position(acme), uuid.uuid4())
    before = acme.projector.position()
    result = cli_verify(acme)
    assert result.exit_code == 3, describe(result)
    assert f"position {forged}" in result.stderr
    assert acme.projector.position() == before < forged
