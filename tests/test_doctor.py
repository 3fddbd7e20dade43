"""`processor doctor` finds what SQL access changed outside the ledger (AUD-4, RET-5, ACC-8).

Each attack of issue 11 that touches a store the ledger does not cover is done here the way a
database administrator would (a plain UPDATE, DELETE or INSERT); the doctor must name it.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from cli_helpers import Cli, new_tenant
from support import login

from processor.integrity.doctor import run_doctor
from processor.integrity.keycheck import ALIVE_FOR_ERASED, DESTROYED_WITHOUT_EVENT, check_keys
from processor.integrity.rebuild import ROW_MISSING, VALUE_DIFFERS
from processor.kernel.errors import AccessDeniedError
from processor.keys.keystore import subject_keys
from processor.readmodels import tables as t

_meta = sa.MetaData()  # Tables, so that PostgreSQL's schema translation applies
_subject_keys = sa.Table("subject_keys", _meta, sa.Column("subject_id", sa.String))
_shredded = sa.Table(
    "shredded_subjects", _meta, sa.Column("subject_id", sa.String), sa.Column("shredded_at")
)


def _contact(proc, email: str) -> str:
    return str(login(proc, "alice").contacts.add("acme", "news", email, "email:form")["contact_id"])


def _shred_by_sql(proc, subject: str) -> None:
    """Delete a subject's key and insert its tombstone, as someone with SQL access could."""
    with proc.keys.engine.begin() as conn:
        conn.execute(_subject_keys.delete().where(_subject_keys.c.subject_id == subject))
        conn.execute(_shredded.insert().values(subject_id=subject, shredded_at=proc.now()))


def _refuse(proc, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AccessDeniedError):
            login(proc, "ben").erasure.erase("acme", "no", email="x@example.dk")


def test_clean_store_passes_the_doctor__AUD_4(acme):
    """A store nobody edited behind the application has no finding."""
    _contact(acme, "clean@example.dk")
    _refuse(acme, 2)
    report = run_doctor(login(acme, "grete").session)
    assert report["ok"], report["findings"]
    assert report["counts"] == {
        "ledger": 0,
        "readmodels": 0,
        "keystore": 0,
        "snapshots": 0,
        "duplicates": 0,
    }


def test_doctor_names_every_tampered_read_model_row_and_key__AUD_4__RET_5__ACC_8(acme):
    """Erased flag set, refusals deleted and a key shredded by SQL: each one is reported."""
    flagged = _contact(acme, "flagged@example.dk")
    shredded = _contact(acme, "shredded@example.dk")
    _refuse(acme, 3)
    with acme.engines.readmodels.begin() as conn:
        conn.execute(
            t.contacts.update().where(t.contacts.c.contact_id == flagged).values(erased=True)
        )
        denials = [r[0] for r in conn.execute(sa.select(t.denials.c.position))]
        conn.execute(t.denials.delete())
    _shred_by_sql(acme, shredded)
    acme.end_command()
    assert login(acme, "alice").contacts.show("acme", shredded)  # reads as erased, silently

    report = run_doctor(login(acme, "grete").session)
    found = {
        (f["check"], f["problem"], f["where"], f["key"], f["column"]) for f in report["findings"]
    }
    assert ("readmodels", VALUE_DIFFERS, "rm_contacts", flagged, "erased") in found
    for position in denials:
        assert ("readmodels", ROW_MISSING, "rm_denials", str(position), "*") in found
    assert any(
        f["check"] == "keystore"
        and f["problem"] == DESTROYED_WITHOUT_EVENT
        and f["key"].startswith(shredded)
        for f in report["findings"]
    )
    assert not report["ok"] and report["counts"]["keystore"] == 1


def test_key_alive_for_an_erased_subject_is_reported__RET_5(acme):
    """A key put back after its erasure (restored from a backup of the key store) is reported."""
    cid = _contact(acme, "back@example.dk")
    with acme.keys.engine.connect() as conn:
        saved = (
            conn.execute(sa.select(subject_keys).where(subject_keys.c.subject_id == cid))
            .one()
            ._asdict()
        )
    login(acme, "alice").erasure.erase("acme", "request", contact=cid)
    assert check_keys(acme.store, acme.keys) == []
    with acme.keys.engine.begin() as conn:
        conn.execute(subject_keys.insert().values(**saved))
    problems = [(f.problem, f.key.split(" ")[0]) for f in check_keys(acme.store, acme.keys)]
    assert problems == [(ALIVE_FOR_ERASED, cid)]


@pytest.fixture(scope="module")
def runner(shared: Cli) -> Cli:
    """One store per backend for the command-line tests: conftest's `shared`, by this name."""
    return shared


def test_doctor_command_exits_0_when_clean_and_3_naming_each_difference__AUD_4(runner: Cli):
    """`doctor --json` exits 0 on a clean store; after tampering it exits 3 and lists each."""
    tenant = new_tenant(runner)
    kept = tenant.add("kept@example.dk")
    shredded = tenant.add("gone@example.dk")
    clean = runner.ok("doctor", user="grete")
    assert clean["ok"] and clean["findings"] == []
    assert "doctor: clean" in runner.text("doctor", user="sam")
    runner.fails(1, "doctor", user=tenant.admin)  # a controller's administrator may not

    proc = runner.open()
    try:
        with proc.engines.readmodels.begin() as conn:
            conn.execute(
                t.contacts.update().where(t.contacts.c.contact_id == kept).values(erased=True)
            )
            conn.execute(t.denials.delete())
        _shred_by_sql(proc, shredded)
    finally:
        proc.close()
    result = runner.run("doctor", user="grete", as_json=True)
    assert result.exit_code == 3
    import json

    report = json.loads(result.stdout)
    where = {(f["check"], f["where"], f["key"].split(" ")[0]) for f in report["findings"]}
    assert ("readmodels", "rm_contacts", kept) in where
    assert any(w[:2] == ("readmodels", "rm_denials") for w in where)
    assert ("keystore", "subject_keys/shredded_subjects", shredded) in where
    text = runner.run("doctor", user="grete")
    assert text.exit_code == 3
    assert "rm_contacts" in text.stdout and "key destroyed without its event" in text.stdout
