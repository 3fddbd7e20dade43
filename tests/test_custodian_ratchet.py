"""Crypto-shredding that WAL, dumps and backups cannot undo: the custodian's ratchet (RET-5, SUBJ-4).

The attack (issue 23, section 2): before an erasure, an administrator keeps the raw key-store rows,
a `pg_dump` of the key schema (or a copy of `keys.sqlite`) and a key-store backup. After the
erasure and `keys rotate-kek`, PostgreSQL's WAL still holds the old KEK rows too. Every such copy
of a KEK is wrapped under the custodian's wrapping key; the ratchet destroys that key. The tests
do what the attacker does, on SQLite and PostgreSQL, with the file and the SoftHSM2 custodian.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from cli_helpers import Cli, new_tenant
from custodian_support import CUSTODIANS, custodian_env, make_token, with_custodian
from support import BACKENDS, UNDERTAKING, drop_schemas, login, make_settings, sign_agreement

from processor.app import Processor
from processor.backup.service import backup_keys
from processor.kernel.errors import IntegrityFailureError
from processor.keys import ratchet as keyratchet
from processor.keys.custodian import FileCustodian
from processor.keys.keystore import (
    kek_name,
    key_encryption_keys,
    subject_key_name,
    subject_keys,
)
from processor.keys.wrapping import KeyWrapper
from processor.services import keys as keyservice
from processor.services.setup import initialise


@pytest.fixture(params=CUSTODIANS)
def kind(request: pytest.FixtureRequest) -> str:
    """The key custodian under test."""
    return str(request.param)


@pytest.fixture
def custodied(settings, kind, tmp_path_factory):
    """The backend's fresh settings, choosing the custodian under test."""
    token = make_token(tmp_path_factory.getbasetemp() / "softhsm") if kind == "pkcs11" else None
    return with_custodian(settings, kind, token)


@pytest.fixture
def shop(custodied, clock):
    """An initialised store with controller acme (admin alice), on the custodian under test."""
    proc = initialise(
        custodied,
        gdpa="grete",
        system_manager="sam",
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        clock=clock,
    )
    login(proc, "sam").controllers.register(
        "acme", "Acme A/S", "DK", "paying", "scc", admin="alice"
    )
    sign_agreement(proc, "acme")
    yield proc
    proc.close()


def _add(proc: Processor, email: str) -> str:
    return login(proc, "alice").contacts.add(
        "acme", "news", email, "email:form:signup", first_name="Anne"
    )["contact_id"]


def _rows(proc: Processor, table: sa.Table) -> list[dict[str, object]]:
    """Raw rows, as an administrator with SQL access copies them."""
    with proc.keys.engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def _copy_key_store(proc: Processor, out: Path) -> bytes:
    """A `pg_dump` of the key schema (PostgreSQL) or a copy of `keys.sqlite` (SQLite)."""
    settings = proc.settings
    if settings.backend == "sqlite":
        shutil.copyfile(settings.keystore_file(), out)
    else:
        from processor.backup.copying import pg_dump_schema

        pg_dump_schema(settings.keystore_location(), out)
    return out.read_bytes()


def _held(blob: bytes, wrapped: bytes) -> bool:
    """Whether `blob` holds `wrapped`, raw (files, WAL) or as hex (a plain-SQL dump's bytea)."""
    return wrapped in blob or wrapped.hex().encode() in blob


def _wal(proc: Processor, since: float) -> bytes:
    """Every pg_wal segment written since `since`, after a CHECKPOINT (needs root, as here)."""
    with proc.keys.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("CHECKPOINT"))
        data_dir = Path(conn.execute(sa.text("SHOW data_directory")).scalar_one())
    segments = [
        p for p in (data_dir / "pg_wal").iterdir() if p.is_file() and p.stat().st_mtime >= since
    ]
    return b"".join(p.read_bytes() for p in segments)


def _openings(
    proc: Processor,
    keks: list[dict[str, object]],
    subject: dict[str, object],
    *,
    live: bool = True,
) -> int:
    """How many ways the processor's remaining key material opens the saved subject key.

    Each saved KEK copy is tried with every wrapping generation the custodian still holds, and
    the saved subject key with each KEK so opened and (`live`) with every KEK the store holds.
    """
    custodian = proc.keys.custodian
    sid, gen, wrapped = (
        str(subject["subject_id"]),
        int(subject["kek_generation"]),
        subject["wrapped"],
    )
    wrappers: list[KeyWrapper] = []
    for kek in keks:
        for held in custodian.generations():
            try:
                raw = custodian.unwrap(held, kek_name(int(kek["generation"])), kek["wrapped"])
            except IntegrityFailureError:
                continue
            wrappers.append(KeyWrapper(raw))
    for row in _rows(proc, key_encryption_keys) if live else []:
        raw = custodian.unwrap(
            int(row["wrap_generation"]), kek_name(int(row["generation"])), row["wrapped"]
        )
        wrappers.append(KeyWrapper(raw))
    opened = 0
    for wrapper in wrappers:
        try:
            wrapper.unwrap(subject_key_name(sid, gen), wrapped)
        except IntegrityFailureError:
            continue
        opened += 1
    return opened


def test_kek_copies_in_wal_dumps_and_backups_open_nothing_after_the_ratchet__RET_5__SUBJ_4(
    shop, tmp_path
):
    """Rows, a dump and a backup saved before an erasure, and the WAL: zero copies open after it."""
    proc = shop
    since = time.time() - 1
    gone, alive = _add(proc, "anne@example.dk"), _add(proc, "bo@example.dk")
    saved_keks = _rows(proc, key_encryption_keys)
    saved = {str(r["subject_id"]): r for r in _rows(proc, subject_keys)}[gone]
    assert _openings(proc, saved_keks, saved, live=False) >= 1, "the saved copies work today"
    dump = _copy_key_store(proc, tmp_path / "keys-copy")
    backup_keys(login(proc, "grete").session, tmp_path / "key-backup")
    backup = b"".join(p.read_bytes() for p in (tmp_path / "key-backup").iterdir())
    for kek in saved_keks:
        assert _held(dump, kek["wrapped"]), "the copy holds the KEK: the attack is real"
        assert _held(backup, kek["wrapped"]), "the backup holds the KEK: the attack is real"

    login(proc, "alice").erasure.erase("acme", "Art. 17 request", contact=gone)
    assert proc.keys.is_shredded(gone)
    result = keyservice.rotate_kek(login(proc, "grete"))  # `keys rotate-kek`
    assert result["ratchet"] is not None
    assert result["ratchet"]["destroyed_wrapping_generations"] == [1]

    copies = list(saved_keks)  # from the raw rows, the dump/copy and the backup (same bytes)
    if proc.settings.backend == "postgres":
        wal = _wal(proc, since)
        assert wal, "no WAL was written during the test"
        # What pg_wal still holds: the old KEK rows (wrapped under generation 1) and the rows
        # the rotation and the ratchet wrote. Each KEK copy found there is tried as well.
        found = [
            k for k in [*saved_keks, *_rows(proc, key_encryption_keys)] if _held(wal, k["wrapped"])
        ]
        assert found, "pg_wal holds no KEK row at all: the scan is blind"
        copies += found
    assert _openings(proc, copies, saved) == 0, "a saved KEK copy still opens the remnant"
    assert proc.keys.custodian.generations() == (2,)
    shown = login(proc, "alice").contacts.show("acme", alive)
    assert "bo@example.dk" in str(shown), "the living still read after the ratchet"


def test_a_ratchet_killed_after_its_commit_leaves_a_working_store__RET_5(shop):
    """Crash between re-wrap and destroy: the store works; the next open destroys generation n."""
    proc = shop
    alive = _add(proc, "bo@example.dk")

    def killed() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        keyratchet.ratchet(proc.keys, proc.now(), after_commit=killed)
    assert proc.keys.custodian.generations() == (1, 2), "killed before destroying"
    settings, issued = proc.settings, dict(proc.issued)
    proc.close()
    with Processor.open(settings) as again:
        again.issued.update(issued)
        assert again.keys.custodian.generations() == (2,), "the open destroyed generation 1"
        assert "bo@example.dk" in str(login(again, "alice").contacts.show("acme", alive))


def test_a_ratchet_killed_before_its_commit_leaves_a_working_store__RET_5(shop, monkeypatch):
    """Crash mid re-wrap: nothing committed, generation n+1 is unused; the next ratchet ends it."""
    proc = shop
    alive = _add(proc, "bo@example.dk")
    real = proc.keys.custodian.wrap
    calls = {"n": 0}

    def dies_midway(generation: int, name: str, key: bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(generation, name, key)

    with monkeypatch.context() as patch:
        patch.setattr(proc.keys.custodian, "wrap", dies_midway)
        with pytest.raises(KeyboardInterrupt):
            keyratchet.ratchet(proc.keys, proc.now())
    assert proc.keys.custodian.generations() == (1, 2)
    assert keyratchet.ratchet_status(proc.keys).generation == 1, "nothing was committed"
    assert "bo@example.dk" in str(login(proc, "alice").contacts.show("acme", alive))
    result = keyratchet.ratchet(proc.keys, proc.now())
    assert result.generation == 3 and result.destroyed_generations == (1, 2)
    assert proc.keys.custodian.generations() == (3,)
    assert "bo@example.dk" in str(login(proc, "alice").contacts.show("acme", alive))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["file"], indirect=True)
def test_the_file_custodian_overwrites_and_removes_the_old_key_file__RET_5(shop, tmp_path):
    """Destroying a generation overwrites the file's bytes in place before it is unlinked."""
    custodian = shop.keys.custodian
    assert isinstance(custodian, FileCustodian)
    first = custodian.path(1)
    before = first.read_bytes()
    os.link(first, tmp_path / "same-inode")  # sees the blocks the custodian overwrites
    keyratchet.ratchet(shop.keys, shop.now())
    assert not first.exists()
    assert (tmp_path / "same-inode").read_bytes() != before, "the old key was not overwritten"
    assert custodian.path(2).stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("kind", ["pkcs11"], indirect=True)
def test_the_pkcs11_wrapping_key_is_sensitive_and_never_leaves_the_token__RET_5(shop):
    """The token's AES key is sensitive and not extractable: its value cannot be read."""
    from pkcs11 import Attribute
    from pkcs11.exceptions import AttributeSensitive

    key = shop.keys.custodian.key_object(1)
    assert key[Attribute.SENSITIVE] is True
    assert key[Attribute.EXTRACTABLE] is False
    with pytest.raises(AttributeSensitive):
        key[Attribute.VALUE]


# -- the command line ----------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def cli_backend(request: pytest.FixtureRequest) -> str:
    """The backend of a command-line test."""
    return str(request.param)


@pytest.fixture
def cli_store(cli_backend, tmp_path):
    """A fresh store made by `processor init`, with a controller, on the file custodian."""
    settings, schemas = make_settings(cli_backend, tmp_path / "store")
    try:
        cli = Cli(settings)
        cli.init()
        yield cli, new_tenant(cli)
    finally:
        drop_schemas(*schemas)


def test_keys_status_shows_the_custodian_and_the_ratchet__RET_5(cli_store):
    """`keys status` names the custodian, the wrapping generation and when the ratchet is due."""
    cli, tenant = cli_store
    text = cli.text("keys", "status", user="grete")
    assert "key custodian: file" in text and "wrapping generation 1" in text
    contact = tenant.add("anne@example.dk")
    cli.ok("erase", tenant.ref, "--contact", contact, "--reason", "Art. 17", user=tenant.admin)
    done = cli.text("keys", "rotate-kek", user="grete")
    assert "ratcheted to wrapping generation 2" in done and "generations: 1" in done
    status = cli.ok("keys", "status", user="grete")["custodian"]
    assert status["wrapping_generation"] == 2 and status["last_ratchet_at"]
    assert cli.ok("keys", "ratchet", user="grete")["wrapping_generation"] == 3


def test_restoring_a_key_backup_from_before_the_ratchet_is_refused__RET_5(cli_store, tmp_path):
    """A key backup wrapped under a destroyed generation cannot be restored: one line says why."""
    cli, tenant = cli_store
    contact = tenant.add("anne@example.dk")
    cli.ok("backup", "--keys", "--out", tmp_path / "old-keys", user="grete")
    cli.ok("erase", tenant.ref, "--contact", contact, "--reason", "Art. 17", user=tenant.admin)
    cli.ok("keys", "rotate-kek", user="grete")
    cli.ok("backup", "--out", tmp_path / "events", user="grete")
    settings = cli.settings
    _lose_the_store(settings)  # the disaster a restore is for; the custodian's keys remain
    error = cli.fails(
        1, "restore", "--from", tmp_path / "events", "--keys-from", tmp_path / "old-keys",
        user="grete",
    )  # fmt: skip
    assert "wrapping-key generation 1" in error and "ratchet destroyed" in error


def _lose_the_store(settings) -> None:
    if settings.backend == "sqlite":
        shutil.rmtree(settings.data_dir)
        settings.keystore_file().unlink()
        return
    drop_schemas(settings.events_location().schema, settings.keystore_location().schema)


def test_a_fixed_master_key_cannot_ratchet_and_says_how_to_move__RET_5(cli_store, tmp_path):
    """With the operator's own key file: `keys ratchet` refuses in one line; status warns."""
    cli, _tenant = cli_store
    key_file = tmp_path / "operator.key"
    shutil.copyfile(cli.settings.master_key_path(), key_file)
    key_file.chmod(0o600)
    fixed = Cli(dataclasses.replace(cli.settings, master_key_file=key_file))
    fixed.credentials = dict(cli.credentials)
    error = fixed.fails(1, "keys", "ratchet", user="grete")
    assert "cannot ratchet" in error and "master.key" in error
    assert "ratchet: not possible" in fixed.text("keys", "status", user="grete")
    result = fixed.run("status", user="grete")
    assert result.exit_code == 1 and "cannot ratchet" in result.stdout + result.stderr


@pytest.mark.parametrize("cli_backend", ["sqlite"], indirect=True)
def test_opening_with_the_wrong_custodian_is_a_one_line_error__RET_5(
    cli_backend, tmp_path, tmp_path_factory
):
    """A store made on a token, opened as a file store (and back): exit 2, one line naming both."""
    token = make_token(tmp_path_factory.getbasetemp() / "softhsm")
    settings, _ = make_settings(cli_backend, tmp_path / "store")
    cli = Cli(with_custodian(settings, "pkcs11", token))
    cli.init()
    assert "pkcs11" in cli.text("keys", "status", user="grete")
    unset = dict.fromkeys(custodian_env("pkcs11", token))
    error = cli.fails(2, "users", "list", user="sam", env=unset)
    assert "pkcs11" in error and "PROCESSOR_CUSTODIAN=pkcs11" in error

    plain, _ = make_settings(cli_backend, tmp_path / "plain")
    file_cli = Cli(plain)
    file_cli.init()
    error = file_cli.fails(2, "users", "list", user="sam", env=custodian_env("pkcs11", token))
    assert "file" in error and "PROCESSOR_CUSTODIAN=file" in error


def test_a_key_store_from_before_the_custodian_opens_as_generation_one__RET_5(settings):
    """A key store without wrapping generations is upgraded in place: everything is generation 1."""
    proc = initialise(
        settings,
        gdpa="grete",
        system_manager="sam",
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
    )
    engine = proc.keys.engine
    proc.close()
    with engine.begin() as conn:
        for table in ("key_encryption_keys", "system_keys", "key_store_check"):
            conn.execute(sa.text(f"ALTER TABLE {_name(conn, table)} DROP COLUMN wrap_generation"))
        conn.execute(sa.text(f"DROP TABLE {_name(conn, 'key_custodian')}"))
    with Processor.open(settings) as again:
        assert keyratchet.ratchet_status(again.keys).generation == 1
        assert keyratchet.ratchet(again.keys, again.now()).destroyed_generations == (1,)
    engine.dispose()


def _name(conn: sa.Connection, table: str) -> str:
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    return f'"{schema}"."{table}"' if schema else f'"{table}"'


def test_the_daily_rotate_if_due_ratchets_after_an_erasure_and_not_before__RET_5(cli_store):
    """The README's cron line `keys rotate-kek --if-due` does nothing on a quiet day and ratchets
    (destroying the old wrapping key) the first time it runs after an erasure.
    """
    cli, tenant = cli_store
    contact = tenant.add("anne@example.dk")
    cli.ok("keys", "rotate-kek", user="grete")  # a fresh rotation: nothing is due now
    quiet = cli.ok("keys", "rotate-kek", "--if-due", user="grete")
    assert quiet == {"rotated": False}
    assert cli.ok("keys", "status", user="grete")["custodian"]["wrapping_generation"] == 2
    cli.ok("erase", tenant.ref, "--contact", contact, "--reason", "Art. 17", user=tenant.admin)
    after = cli.ok("keys", "rotate-kek", "--if-due", user="grete")
    assert after["ratchet"]["wrapping_generation"] == 3
    assert cli.ok("keys", "status", user="grete")["custodian"]["wrapping_generation"] == 3
