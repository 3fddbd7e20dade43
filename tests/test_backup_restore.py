"""Backup and restore (RET-8), never resurrecting an erased subject (RET-5), ledger-checked (AUD-4).

Each test runs the command line against a store on SQLite and on PostgreSQL, backs it up, and
restores into a fresh, empty store (a new data directory, or new schemas) that uses the source's
master key.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

import pytest
from cli_helpers import Cli, new_tenant
from support import BACKENDS, drop_schemas, make_settings

from processor.app import Processor
from processor.config import Settings
from processor.integrity.keycheck import ALIVE_FOR_ERASED, check_keys
from processor.keys import MasterKey
from processor.keys.masterrotation import rotate_master


@pytest.fixture(params=BACKENDS)
def stores(request, tmp_path):
    """A source store with a controller and two contacts, and settings of an empty target."""
    source, schemas = make_settings(request.param, tmp_path / "source")
    target, more = make_settings(request.param, tmp_path / "target")
    target = dataclasses.replace(target, master_key_file=source.master_key_path())
    try:
        cli = Cli(source)
        cli.init()
        tenant = new_tenant(cli)
        anne = tenant.add("anne@example.dk", "--first-name", "Anne")
        bo = tenant.add("bo@example.dk", "--first-name", "Bo")
        yield cli, tenant, {"anne": anne, "bo": bo}, target
    finally:
        drop_schemas(*schemas, *more)


def _target_cli(source: Cli, target: Settings) -> Cli:
    cli = Cli(target)
    cli.credentials = dict(source.credentials)
    return cli


def test_backup_and_restore_round_trip__RET_8(stores, tmp_path):
    """A backup restored into an empty store verifies and reads the same; it refuses a live store."""
    cli, tenant, ids, target = stores
    out = cli.ok("backup", "--out", tmp_path / "b", user="grete")
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["kind"] == "events" and manifest["ledger"]["size"] == out["ledger_size"]
    assert manifest["method"] in {"sqlite-online-backup", "pg_dump"}
    cli.ok("backup", "--keys", "--out", tmp_path / "k", user="grete")
    assert not any("keys" in name for name in manifest["files"]), "keys beside the events"
    restored = _target_cli(cli, target)
    report = restored.ok(
        "restore", "--from", tmp_path / "b", "--keys-from", tmp_path / "k", user="grete"
    )
    assert report["keys_destroyed_again"] == 0 and report["kek_rotation"]["generation"] >= 2
    assert restored.ok("ledger", "verify", user="grete")["ok"]
    found = restored.ok(
        "contacts", "find", tenant.ref, "--email", "bo@example.dk", user=tenant.admin
    )
    assert ids["bo"] in json.dumps(found)
    again = restored.fails(1, "restore", "--from", tmp_path / "b", "--keys-from", tmp_path / "k")
    assert "live store" in again


def test_restoring_an_older_key_backup_keeps_the_erased_subject_erased__RET_5__RET_8(
    stores, tmp_path
):
    """Keys backed up, subject erased, old key backup restored: the subject stays unreadable."""
    cli, tenant, ids, target = stores
    cli.ok("backup", "--keys", "--out", tmp_path / "old-keys", user="grete")
    cli.ok("erase", tenant.ref, "--contact", ids["anne"], "--reason", "Art. 17", user=tenant.admin)
    cli.ok("backup", "--out", tmp_path / "events", user="grete")
    restored = _target_cli(cli, target)
    result = restored.run(
        "restore", "--from", tmp_path / "events", "--keys-from", tmp_path / "old-keys",
        user="grete",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "destroyed again 1 keys" in result.stdout
    with Processor.open(target) as proc:
        keys = proc.keys.subject_keys([ids["anne"], ids["bo"]])
        assert keys[ids["anne"]] is None, "the erased subject's key came back"
        assert keys[ids["bo"]] is not None
        assert not [f for f in check_keys(proc.store, proc.keys) if f.problem == ALIVE_FOR_ERASED]
    assert restored.fails(
        2, "erase", tenant.ref, "--email", "anne@example.dk", "--reason", "x", user=tenant.admin
    )
    shown = restored.ok("export", tenant.ref, "--contact", ids["anne"], user=tenant.admin)
    assert "Anne" not in json.dumps(shown) and "anne@example.dk" not in json.dumps(shown)


def test_keys_are_never_backed_up_into_an_events_backup__RET_5(stores, tmp_path):
    """`backup --keys` into (or under) an events backup folder is refused, and vice versa."""
    cli, _tenant, _ids, _target = stores
    cli.ok("backup", "--out", tmp_path / "b", user="grete")
    assert "never backed up into the same folder" in cli.fails(
        1, "backup", "--keys", "--out", tmp_path / "b" / "keys", user="grete"
    )
    cli.fails(1, "backup", "--keys", "--out", tmp_path / "b", user="grete")
    cli.ok("backup", "--keys", "--out", tmp_path / "k", user="grete")
    cli.fails(1, "backup", "--out", tmp_path / "k" / "events", user="grete")
    cli.fails(1, "backup", "--out", tmp_path / "x", user="alice-nobody")


def test_a_restore_refuses_a_backup_whose_records_were_altered__AUD_4(stores, tmp_path):
    """An edited record in the backup (manifest hash fixed up too) fails the ledger check: exit 3."""
    cli, _tenant, _ids, target = stores
    cli.ok("backup", "--out", tmp_path / "b", user="grete")
    cli.ok("backup", "--keys", "--out", tmp_path / "k", user="grete")
    if cli.settings.backend == "sqlite":
        altered = tmp_path / "b" / "events.sqlite"
        with sqlite3.connect(altered) as conn:  # one byte of one sealed record flipped
            rowid, state = conn.execute(
                "SELECT rowid, state FROM stored_events ORDER BY rowid LIMIT 1 OFFSET 3"
            ).fetchone()
            state = state[:-1] + bytes([state[-1] ^ 1])
            conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, rowid))
    else:
        altered = tmp_path / "b" / "events.sql"
        lines = altered.read_text().splitlines(keepends=True)
        start = next(
            i
            for i, line in enumerate(lines)
            if line.startswith("COPY ") and "processor_events " in line
        )
        row = lines[start + 4]
        at = row.index("\\\\x") + 12  # a hex digit inside the record's state (bytea)
        lines[start + 4] = row[:at] + ("0" if row[at] != "0" else "1") + row[at + 1 :]
        altered.write_text("".join(lines))
    from processor.backup.manifest import sha256_file

    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    manifest["files"][altered.name] = sha256_file(altered)
    (tmp_path / "b" / "manifest.json").write_text(json.dumps(manifest))
    restored = _target_cli(cli, target)
    refused = restored.fails(
        3, "restore", "--from", tmp_path / "b", "--keys-from", tmp_path / "k", user="grete"
    )
    # The flipped byte is caught by the ledger check or, first, by the record's own MAC.
    assert "ledger does not verify" in refused or "record MAC" in refused
    restored.fails(2, "ledger", "verify", user="grete")  # not served: the restore did not finish


def test_rotate_master_is_resumable_and_retires_old_key_backups__RET_5__RET_8(stores, tmp_path):
    """A rotation that died after re-wrapping finishes on rerun; the old key then opens nothing."""
    cli, tenant, ids, _target = stores
    settings = cli.settings
    old_hex = settings.master_key_path().read_text().strip()
    new_file = tmp_path / "new.key"
    new_file.write_text(MasterKey.generate_hex() + "\n")
    new_file.chmod(0o600)
    with Processor.open(settings) as proc:  # a run killed right after its commit (step 3)
        rotate_master(
            proc.keys.engine, MasterKey.from_hex(old_hex),
            MasterKey.from_hex(new_file.read_text()), proc.now(),
        )  # fmt: skip
    assert "not installed yet" in cli.fails(3, "ledger", "head", user="grete")
    done = cli.ok("keys", "rotate-master", "--new-master-key-file", new_file)
    assert done["state"] == "resumed"
    assert settings.master_key_path().read_text().strip() == new_file.read_text().strip()
    assert cli.ok("ledger", "verify", user="grete")["ok"]
    found = cli.ok("contacts", "find", tenant.ref, "--email", "anne@example.dk", user=tenant.admin)
    assert ids["anne"] in json.dumps(found)
    again = cli.ok(
        "keys", "rotate-master", "--new-master-key-file", tmp_path / "fresh.key", user="sam"
    )
    assert again["state"] == "rotated" and again["keks_rewrapped"] >= 1
    old = Path(tmp_path / "old.key")
    old.write_text(old_hex + "\n")
    old.chmod(0o600)
    cli.fails(3, "ledger", "head", user="grete", env={"PROCESSOR_MASTER_KEY_FILE": str(old)})


def test_an_unfinished_restore_is_never_served_and_can_be_rerun__RET_8(stores, tmp_path):
    """A restore refused after loading (not a GDPA) leaves a store nothing opens; a rerun ends it."""
    cli, tenant, _ids, target = stores
    cli.ok("backup", "--out", tmp_path / "b", user="grete")
    cli.ok("backup", "--keys", "--out", tmp_path / "k", user="grete")
    restored = _target_cli(cli, target)
    args = ("restore", "--from", tmp_path / "b", "--keys-from", tmp_path / "k")
    restored.fails(1, *args, user=tenant.admin)
    assert "did not finish" in restored.fails(2, "ledger", "head", user="grete")
    assert restored.ok(*args, user="grete")["resumed"] is True
    assert restored.ok("ledger", "verify", user="grete")["ok"]
