"""No plaintext personal data rests anywhere the processor writes (RET-5, DESIGN)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from support import login

KNOWN = {
    "emails": [
        "karen.kristoffersen@example.dk",
        "jens-ole.fjeldsted@example.org",
        "freja.vinther@example.com",
    ],
    "names": ["Kristoffersen", "Fjeldsted", "Vinther", "Jens-Ole", "Skovbrynet"],
    "phones": ["+4529871234", "+4531415926"],
}


def _needles() -> list[bytes]:
    values = [v for group in KNOWN.values() for v in group]
    out = [v.encode() for v in values] + [v.lower().encode() for v in values]
    out += [v.encode("utf-16-le") for v in values]
    return out


def _scenario(proc) -> None:
    alice = login(proc, "alice")
    alice.contacts.add(
        "acme",
        "news",
        KNOWN["emails"][0],
        "email:form:ticked box at Skovbrynet fair",
        first_name="Karen",
        last_name="Kristoffersen",
        phone=KNOWN["phones"][0],
    )
    data = (
        "email,first_name,last_name,phone,address\n"
        f"{KNOWN['emails'][1]},Jens-Ole,Fjeldsted,{KNOWN['phones'][1]},Skovbrynet 4\n"
        f"{KNOWN['emails'][2]},Freja,Vinther,,\n"
    ).encode()
    alice.imports.import_csv("acme", io.BytesIO(data), "news", "double-opt-in")
    cid = alice.contacts.find("acme", KNOWN["emails"][2])["contact_id"]
    alice.contacts.update("acme", cid, {"last_name": "Vinther", "city": "Skovbrynet"})
    alice.contacts.set_state("restrict", "acme", cid, "Vinther asked to restrict")
    alice.exports.export("acme", io.StringIO(), everything=True)
    alice.erasure.erase("acme", "request", email=KNOWN["emails"][0])


def _scan_files(data_dir) -> list[str]:
    hits = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        content = path.read_bytes()
        hits += [f"{path.name}: {n!r}" for n in _needles() if n in content]
    return hits


def _scan_postgres(engine: sa.Engine, schemas: list[str]) -> list[str]:
    hits = []
    with engine.connect() as conn:
        for schema in schemas:
            tables = (
                conn.execute(
                    sa.text(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema=:s"
                    ),
                    {"s": schema},
                )
                .scalars()
                .all()
            )
            assert tables, f"no tables in {schema}"
            for table in tables:
                for row in conn.execute(sa.text(f'SELECT * FROM "{schema}"."{table}"')):
                    for value in row:
                        blob = (
                            value if isinstance(value, bytes | memoryview) else str(value).encode()
                        )
                        hits += [f"{schema}.{table}: {n!r}" for n in _needles() if n in bytes(blob)]
    return hits


def test_no_plaintext_in_any_file_of_the_data_directory__RET_5(acme, settings, backend):
    """Every byte the store wrote (WAL files included, store still open) is free of the known values."""
    _scenario(acme)
    data_dir = settings.data_dir
    # The key store and master key live apart from the data (RET-5): scan them too.
    open_hits = _scan_files(data_dir) + _scan_files(settings.key_dir())
    if backend == "sqlite":
        assert any(p.name.endswith("-wal") for p in data_dir.iterdir()), (
            "scan while WAL files exist"
        )
    acme.close()
    assert open_hits == []
    assert _scan_files(data_dir) + _scan_files(settings.key_dir()) == []


def test_no_plaintext_in_any_postgres_table__RET_5(acme, settings, backend):
    """A dump of every table of the events and key store schemas holds none of the known values."""
    if backend != "postgres":
        pytest.skip("a PostgreSQL table dump; SQLite's files are scanned by the file test")
    _scenario(acme)
    from support import pg_engine

    engine = pg_engine()
    schemas = [settings.events_location().schema, settings.keystore_location().schema]
    try:
        assert _scan_postgres(engine, schemas) == []
    finally:
        engine.dispose()


def test_the_scan_would_find_plaintext(tmp_path):
    """Guard: the scanner does find a planted value, so a clean scan means something."""
    (tmp_path / "planted.bin").write_bytes(b"xx" + KNOWN["names"][0].encode() + b"yy")
    assert _scan_files(tmp_path)
