"""The bulk writers store exactly what the SQLAlchemy path stores (issue 17).

The projector's `bulk_insert` (prepared `executemany` of tuples on SQLite, `COPY` on
PostgreSQL) and the ledger's `raw_insert` (leaves and tree nodes) replace
`conn.execute(table.insert(), rows)`. The figures they buy are only honest if the rows are the
same: these tests fill every read-model table through a real import (new contacts, a re-import,
rows matched to existing contacts, a single `contacts add`, a campaign), then re-insert every
table's rows once through SQLAlchemy and once through the bulk writer, and compare the values
as the database driver returns them (no SQLAlchemy type processing in between), on both
backends.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from support import login

from ledger.sqlstore import ledger_nodes, raw_insert
from processor.app import Processor
from processor.kernel.errors import AccessDeniedError
from processor.keys.keystore import subject_keys
from processor.link.tables import leaves
from processor.readmodels import tables as t
from processor.readmodels.rebuild import rebuild
from processor.storage.engines import bulk_insert

CSV_A = (
    "email,first_name,last_name,phone,custom.shoe_size\n"
    "ada@example.com,Ada,Lovelace,+45 11 22 33 44,38\n"
    "bo@example.com,Bo,Ek,,\n"
    "cy@example.com,Cy,,+4599887766,44\n"
)
CSV_B = (  # a re-import: two known people (one already on `news`) and one new
    "email,first_name\nada@example.com,Ada\nBO@example.com,Bo\ndee@example.com,Dee\n"
)


MANY = 40  # above the bulk writers' threshold (BULK_MIN_ROWS), so an import takes the bulk path
CSV_MANY = "email,first_name\n" + "".join(f"p{i}@many.example,P{i}\n" for i in range(MANY))


@pytest.fixture
def every_batch_in_bulk(monkeypatch):
    """Send even a single row through the bulk writers, so small tables are compared too."""
    import ledger.sqlstore
    import processor.storage.engines

    monkeypatch.setattr(processor.storage.engines, "BULK_MIN_ROWS", 1)
    monkeypatch.setattr(ledger.sqlstore, "_COPY_MIN_ROWS", 1)


def _fill(proc: Processor) -> None:
    alice = login(proc, "alice")
    alice.imports.import_csv("acme", io.BytesIO(CSV_MANY.encode()), "many", "form")
    alice.imports.import_csv("acme", io.BytesIO(CSV_A.encode()), "news", "form")
    alice.imports.import_csv("acme", io.BytesIO(CSV_B.encode()), "news", "form")
    alice.imports.import_csv("acme", io.BytesIO(CSV_B.encode()), "offers", "form")
    alice.contacts.add("acme", "news", "eve@example.com", "email:form", first_name="Eve")
    alice.messages.send("acme", "news", "email", "Hi", "Body")
    alice.controllers.instruct("acme", "general", "Send weekly.", {"day": "monday"})  # JSON
    with pytest.raises(AccessDeniedError):  # a refusal: a denial row
        login(proc, "ben").contacts.add("acme", "news", "zed@example.com", "email:form")
    proc.end_command()


def _stored(conn: sa.Connection, table: sa.Table) -> list[tuple[Any, ...]]:
    """The table's rows as the driver returns them, in primary-key order."""
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    name = f'"{schema}"."{table.name}"' if schema else f'"{table.name}"'
    cols = ", ".join(f'"{c.name}"' for c in table.columns)
    order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns) or cols
    rows = conn.exec_driver_sql(f"SELECT {cols} FROM {name} ORDER BY {order}").fetchall()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]


def _same_both_ways(conn: sa.Connection, table: sa.Table) -> int:
    """Rows re-inserted by SQLAlchemy and by `bulk_insert` are stored the same; their number."""
    rows = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
    conn.execute(table.delete())
    conn.execute(table.insert(), rows) if rows else None
    reference = _stored(conn, table)
    conn.execute(table.delete())
    bulk_insert(conn, table, rows)
    assert _stored(conn, table) == reference, table.name
    return len(rows)


@pytest.mark.usefixtures("every_batch_in_bulk")
def test_bulk_insert_stores_what_sqlalchemy_stores(acme: Processor):
    """Every read-model table: the bulk path's stored values equal SQLAlchemy's, byte for byte."""
    _fill(acme)
    counted: dict[str, int] = {}
    with acme.engines.readmodels.connect() as conn, conn.begin() as tx:
        for table in t.PROJECTED_TABLES:
            counted[table.name] = _same_both_ways(conn, table)
        tx.rollback()
    for name in (
        "rm_contacts",
        "rm_memberships",
        "rm_consents",
        "rm_messages",
        "rm_users",
        "rm_instructions",
        "rm_denials",
    ):
        assert counted[name] > 0, f"{name} was not exercised"
    assert counted["rm_contacts"] == 5 + MANY


@pytest.mark.usefixtures("every_batch_in_bulk")
def test_ledger_rows_stored_by_raw_insert_are_sqlalchemys(acme: Processor):
    """Ledger leaves and tree nodes written by `raw_insert` equal SQLAlchemy's; verify passes."""
    _fill(acme)
    with acme.engines.ledger.connect() as conn, conn.begin() as tx:
        for table, columns in (
            (leaves, ("leaf_index", "position")),
            (ledger_nodes, ("level", "idx", "hash")),
        ):
            rows = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
            assert rows
            conn.execute(table.delete())
            conn.execute(table.insert(), rows)
            reference = _stored(conn, table)
            conn.execute(table.delete())
            raw_insert(conn, table, columns, [tuple(r[c] for c in columns) for r in rows])
            assert _stored(conn, table) == reference, table.name
        tx.rollback()
    assert acme.ledger.verify().ok


@pytest.mark.usefixtures("every_batch_in_bulk")
def test_subject_keys_stored_by_bulk_insert_are_sqlalchemys(acme: Processor):
    """Subject keys (wrapped, one per contact and message) inserted in bulk equal SQLAlchemy's,
    and every contact still opens with its own key.
    """
    _fill(acme)
    with acme.engines.keys.connect() as conn, conn.begin() as tx:
        assert _same_both_ways(conn, subject_keys) >= 5
        tx.rollback()
    with acme.engines.readmodels.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.select(t.contacts.c.contact_id))]
    keys = acme.keys.subject_keys(ids)
    assert len(set(keys.values())) == len(ids) == 5 + MANY


def test_bulk_projection_equals_a_rebuild(acme: Processor):
    """Read models projected batch by batch while importing equal a replay from the log (with
    the writers' real threshold: the 40-row import goes in bulk, single commands do not).
    """
    _fill(acme)

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        with acme.engines.readmodels.connect() as conn:
            return {table.name: _stored(conn, table) for table in t.PROJECTED_TABLES}

    live = snapshot()
    rebuild(acme.projector)
    assert snapshot() == live


def test_export_batch_loading_equals_the_repository(acme: Processor):
    """`EventStore.get_many` (an export's one query per batch) rebuilds each contact exactly as
    the repository does, for contacts with several events and for an erased one.
    """
    _fill(acme)
    alice = login(acme, "alice")
    with acme.engines.readmodels.connect() as conn:
        ids = sorted(r[0] for r in conn.execute(sa.select(t.contacts.c.contact_id)))
    alice.contacts.set_state("restrict", "acme", ids[0], "asked by phone")
    alice.erasure.erase("acme", "asked to be forgotten", ids[1])
    acme.end_command()
    uuids = [uuid.UUID(i) for i in reversed(ids)]
    many = acme.store.get_many(uuids)
    one_by_one = [acme.store.repository.get(u) for u in uuids]
    assert [vars(a) for a in many] == [vars(a) for a in one_by_one]
    assert [a.version for a in many] == [a.version for a in one_by_one]
    assert max(a.version for a in many) >= 2  # some have several events
    out = io.StringIO()
    exported = alice.exports.export("acme", out, everything=True)
    assert exported["contacts"] == 4 + MANY  # the erased one is not exported


def test_sqlite_synchronous_is_a_documented_setting(monkeypatch, tmp_path):
    """PROCESSOR_SQLITE_SYNCHRONOUS picks NORMAL (default) or FULL; anything else is refused."""
    from processor.config import Settings
    from processor.kernel.errors import ConfigurationError
    from processor.storage.engines import Engines

    settings = Settings(data_dir=tmp_path / "data")

    def mode() -> int:
        engines = Engines(settings, create=True)
        try:
            with engines.readmodels.connect() as conn:
                return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())
        finally:
            engines.dispose()

    assert mode() == 1  # NORMAL
    monkeypatch.setenv("PROCESSOR_SQLITE_SYNCHRONOUS", "full")
    assert mode() == 2  # FULL
    monkeypatch.setenv("PROCESSOR_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ConfigurationError, match="NORMAL or FULL"):
        mode()


def test_bulk_node_writes_stay_append_only(acme: Processor):
    """AUD-4 on the bulk path: a batch of nodes (COPY on PostgreSQL) holding one that exists is
    refused as the one-row INSERT is, and nothing of the batch is stored.
    """
    from ledger.errors import IntegrityError
    from ledger.sqlstore import SqlNodeStore

    store = SqlNodeStore(acme.engines.ledger, create_tables=False)
    size = store.size()
    batch = {(0, size + i): bytes(32) for i in range(40)}
    batch[(0, 0)] = bytes(32)  # already stored
    with pytest.raises(IntegrityError, match="append-only"):
        store.put_nodes(batch)
    assert store.size() == size
    assert acme.ledger.verify().ok


def test_checkpoint_log_checks_only_new_lines_but_still_sees_edits__AUD_4(tmp_path):
    """A process verifies each checkpoint-log line once (not every line on every command), and
    still refuses the log when a line it verified earlier is edited afterwards.
    """
    from ledger import CheckpointError, CheckpointLog, Signer
    from ledger.note import Verifier

    class CountingVerifier(Verifier):
        calls = 0

        def verify(self, text: str, signature: bytes) -> bool:
            CountingVerifier.calls += 1
            return super().verify(text, signature)

    signer = Signer.generate("example.org/log")
    plain = signer.verifier()
    verifier = CountingVerifier(plain.name, plain.public_key)
    log = CheckpointLog(tmp_path / "checkpoints.log")
    for size in range(1, 51):
        log.append(signer.sign_checkpoint(signer.name, size, bytes(32)), f"t{size}")
    assert log.newest(verifier, signer.name).checkpoint.size == 50
    first = CountingVerifier.calls
    assert first >= 50
    log.append(signer.sign_checkpoint(signer.name, 51, bytes(32)), "t51")
    newest = log.newest(verifier, signer.name)
    assert (newest.checkpoint.size, newest.line) == (51, 51)
    assert CountingVerifier.calls - first == 1  # only the new line
    text = log.path.read_text(encoding="utf-8").replace("\\n7\\n", "\\n70\\n", 1)
    log.path.write_text(text, encoding="utf-8")
    with pytest.raises(CheckpointError, match="line 7"):
        log.newest(verifier, signer.name)
