"""One live contact per controller and e-mail, under concurrency, and what erasure leaves (SUBJ-4, RET-5).

Issue 12 item 1: three concurrent imports of one file gave three copies of every contact, and
four concurrent `contacts add` of one e-mail gave two, so `erase --email` missed copies. Issue
18 item 7: case folding made `straße@` and `strasse@` one person. The mechanism is the
per-controller write lock in `processor.services.writelock`; the repair is `doctor --repair-duplicates`.
"""

from __future__ import annotations

import threading
import unicodedata
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from cli_helpers import Cli, new_tenant, run_processor, write_rows
from support import drop_schemas, login, make_settings, pg_engine

from processor import desk
from processor.app import Processor
from processor.integrity.doctor import run_doctor
from processor.integrity.duplicates import repair_duplicates
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.keys.blindindex import blind_index, normalise_email
from processor.services.profile import ConsentInput
from processor.storage.engines import sqlite_files

if TYPE_CHECKING:
    from collections.abc import Iterator

    from processor.config import Settings
    from processor.kernel.clock import FixedClock

CONSENT = "email:double-opt-in:signup form"
FULL_WIDTH_ANNE = (
    "\uff41\uff4e\uff4e\uff45@\uff42ücher\uff0ede"  # "anne@bücher.de" in full-width forms
)
NFD_EMILE = unicodedata.normalize("NFD", "émile@example.org")


# -- e-mail identity (issue 18 item 7) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("anne@bücher.de", "anne@xn--bcher-kva.de"),
        ("Anne@BÜCHER.de", "anne@XN--BCHER-KVA.DE"),
        ("émile@example.org", NFD_EMILE),
        (FULL_WIDTH_ANNE, "anne@bücher.de"),
        ("  Anne.Smith@Example.COM ", "anne.smith@example.com"),
    ],
)
def test_spellings_of_one_mailbox_are_one_person__SUBJ_4(one: str, other: str) -> None:
    """Case, NFC/NFD, full-width forms and IDN in Unicode or punycode name one mailbox."""
    assert normalise_email(one) == normalise_email(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("straße@example.de", "strasse@example.de"),
        ("anne@straße.de", "anne@strasse.de"),
        ("ﬁona@example.org", "fiona@example.org"),
    ],
)
def test_different_mailboxes_stay_apart__SUBJ_4(one: str, other: str) -> None:
    """No ß→ss (str.lower, never casefold; IDNA 2008 domains) and no ligature folding."""
    assert normalise_email(one) != normalise_email(other)


@pytest.mark.parametrize("bad", ["anne@@example.org", "@example.org", "anne@", "anne@-bü-.de"])
def test_invalid_addresses_are_refused_without_echo(bad: str) -> None:
    """An invalid address is refused, and the message does not repeat it."""
    with pytest.raises(InvalidInputError) as caught:
        normalise_email(bad)
    assert "anne" not in str(caught.value)


def test_unicode_forms_find_one_contact_and_sharp_s_is_not_ss__SUBJ_4(
    acme: Processor,
) -> None:
    """Adding punycode after Unicode subscribes the same contact; straße and strasse are two."""
    alice = login(acme, "alice")
    first = alice.contacts.add("acme", "news", "anne@bücher.de", CONSENT)
    again = alice.contacts.add("acme", "offers", "ANNE@xn--bcher-kva.de", CONSENT)
    assert again == {"contact_id": first["contact_id"], "created": False}
    assert alice.contacts.find("acme", FULL_WIDTH_ANNE)["contact_id"] == first["contact_id"]
    nfc = alice.contacts.add("acme", "news", "émile@example.org", CONSENT)
    assert alice.contacts.add("acme", "news", NFD_EMILE, CONSENT)["created"] is False
    assert alice.contacts.find("acme", NFD_EMILE)["contact_id"] == nfc["contact_id"]
    sharp = alice.contacts.add("acme", "news", "straße@example.de", CONSENT)
    double = alice.contacts.add("acme", "news", "strasse@example.de", CONSENT)
    assert sharp["created"] and double["created"]
    assert sharp["contact_id"] != double["contact_id"]


# -- concurrency (issue 12 item 1) ---------------------------------------------------------------


def _run_together(work: list[Any]) -> list[Any]:
    """Start every callable at once (a barrier), wait for all; returns results or exceptions."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return results


def _live(proc: Processor, controller: str) -> int:
    return login(proc, "alice").contacts.active_count(controller)


def test_four_concurrent_adds_of_one_email_leave_one_live_contact__SUBJ_4(
    acme: Processor, settings: Settings
) -> None:
    """Four stores adding one e-mail at once: one contact, the others subscribe it; erase finds all."""
    alice = login(acme, "alice")

    def add(i: int) -> Any:
        spelling = ("Anne.Quixote@Example.org", "anne.quixote@EXAMPLE.ORG")[i % 2]
        with Processor.open(settings, acme.clock) as own:
            session = desk.login(own, "alice", acme.issued["alice"])
            return session.contacts.add("acme", f"list-{i}", spelling, CONSENT)

    results = _run_together([lambda i=i: add(i) for i in range(4)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len({r["contact_id"] for r in results}) == 1
    assert sum(r["created"] for r in results) == 1
    acme.catch_up()
    assert _live(acme, "acme") == 1
    assert acme.ledger.verify().ok
    view = alice.contacts.find("acme", "anne.quixote@example.org")
    assert sorted(view["lists"]) == [f"list-{i}" for i in range(4)]
    alice.erasure.erase("acme", "asked", email="anne.quixote@example.org")
    with pytest.raises(NotFoundError):
        alice.contacts.find("acme", "anne.quixote@example.org")
    assert _live(acme, "acme") == 0


@pytest.fixture
def cli_store(backend: str, tmp_path: Path) -> Iterator[Cli]:
    """An initialised store driven through the command line (and subprocesses of it)."""
    settings, schemas = make_settings(backend, tmp_path)
    try:
        runner = Cli(settings)
        runner.init()
        yield runner
    finally:
        drop_schemas(*schemas)


def _concurrent_imports(cli: Cli, tmp_path: Path, rows: int, writers: int) -> None:
    tenant = new_tenant(cli)
    path = write_rows(
        tmp_path / "people.csv",
        "email,first_name",
        [f"person{i}@example.org,P{i}" for i in range(rows)],
    )
    env = cli.env_for(tenant.admin)
    argv = ["--as", tenant.admin, "--json", "contacts", "import", tenant.ref, str(path)]
    argv += ["--list", "news", "--consent-method", "double-opt-in"]
    done = _run_together([lambda: run_processor(argv, env) for _ in range(writers)])
    for proc in done:
        assert not isinstance(proc, Exception), proc
        assert proc.returncode == 0, proc.stderr[-400:]
    assert tenant.active() == rows
    assert cli.ok("ledger", "verify", user="grete")["ok"] is True
    victim = "person7@example.org"
    cli.ok("erase", tenant.ref, "--email", victim, "--reason", "asked", user=tenant.admin)
    assert cli.fails(2, "contacts", "find", tenant.ref, victim, user=tenant.admin)
    assert tenant.active() == rows - 1


def test_three_concurrent_imports_of_one_file_add_each_person_once__SUBJ_4(
    cli_store: Cli, tmp_path: Path
) -> None:
    """Three `contacts import` processes of one 1,000-row file: 1,000 contacts, ledger verifies."""
    _concurrent_imports(cli_store, tmp_path, rows=1000, writers=3)


@pytest.mark.slow
def test_three_concurrent_imports_of_8000_rows_add_each_person_once__SUBJ_4(
    cli_store: Cli, tmp_path: Path
) -> None:
    """The issue's own size: three imports of one 8,000-row file give 8,000 contacts."""
    _concurrent_imports(cli_store, tmp_path, rows=8000, writers=3)


# -- what erasure leaves (RET-5) -----------------------------------------------------------------


def _raw_store_text(proc: Processor, settings: Settings) -> bytes:
    """Every byte the store keeps: SQLite files with sidecars, or every PostgreSQL row as text."""
    if settings.backend == "sqlite":
        out = b""
        for path in sqlite_files(settings):
            for suffix in ("", "-wal", "-journal"):
                part = path.with_name(path.name + suffix)
                if part.exists():
                    out += part.read_bytes()
        return out
    schemas = [settings.events_location().schema, settings.keystore_location().schema]
    engine = pg_engine()
    chunks = []
    with engine.connect() as conn:
        for schema in schemas:
            tables = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": schema}
            ).scalars()
            for table in list(tables):
                rows = conn.execute(sa.text(f'SELECT t::text FROM "{schema}"."{table}" t'))
                chunks.extend(str(r[0]).encode() for r in rows)
    engine.dispose()
    return b"\n".join(chunks)


def test_after_erasure_nothing_in_the_store_confirms_the_email__RET_5(
    acme: Processor, settings: Settings
) -> None:
    """No plaintext, normalised form or recomputable blind index of an erased e-mail remains.

    The write lock stores nothing; the read model's index is nulled by the erasure, so
    recomputing HMAC(controller key, normalised e-mail) finds nothing anywhere in the store.
    """
    alice = login(acme, "alice")
    email = "Zoë.Unique@Bücher.de"
    alice.contacts.add("acme", "news", email, CONSENT)
    normalised = normalise_email(email)
    index = blind_index(acme.projector.index_key("acme"), "email", normalised)
    assert index.encode() in _raw_store_text(acme, settings)  # the search can see it
    alice.erasure.erase("acme", "asked", email=email)
    acme.close()
    reopened = Processor.open(settings, acme.clock)
    try:
        raw = _raw_store_text(reopened, settings)
        for needle in (email, normalised, "zoë.unique", index, index.upper()):
            assert needle.encode() not in raw, f"{needle!r} survives the erasure"
        with pytest.raises(NotFoundError):
            desk.login(reopened, "alice", acme.issued["alice"]).contacts.find("acme", email)
    finally:
        reopened.close()


# -- doctor finds and repairs duplicates (issue 12 item 1, repair) -------------------------------


def _plant_copy(proc: Processor, email: str, list_name: str) -> str:
    """Write a second ContactAdded for an e-mail straight to the store, bypassing the lock."""
    alice = login(proc, "alice")
    profile = {"email": email}
    with proc.using_clock():
        copy = alice.contacts.new_contact(
            "acme", profile, list_name, ConsentInput.parse(CONSENT), "planted"
        )
        proc.commit(copy)
    return str(copy.id)


def test_doctor_finds_and_repairs_planted_duplicates__SUBJ_4(
    acme: Processor, clock: FixedClock
) -> None:
    """Planted copies are found; the repair needs --confirm, keeps the oldest and erases the rest."""
    alice = login(acme, "alice")
    keep = alice.contacts.add("acme", "news", "dup@example.org", CONSENT)["contact_id"]
    clock.advance(timedelta(minutes=1))
    first = _plant_copy(acme, "DUP@example.org", "offers")
    clock.advance(timedelta(minutes=1))
    second = _plant_copy(acme, "dup@example.org", "news")
    alice.contacts.set_state("object", "acme", second, "stop")
    report = run_doctor(login(acme, "grete").session)
    assert report["counts"]["duplicates"] == 1
    finding = next(f for f in report["findings"] if f["check"] == "duplicates")
    assert finding["live"] == [keep, first, second] and finding["key"] == "acme"
    assert "dup@" not in str(report)

    plan = repair_duplicates(alice.session, "acme", confirm=False)
    assert plan["groups"] == [{"keep": keep, "erase": [first, second]}]
    assert not plan["repaired"] and _live(acme, "acme") == 3

    done = repair_duplicates(alice.session, "acme", confirm=True)
    assert [r["erased"] for r in done["repaired"]] == [first, second]
    assert _live(acme, "acme") == 1
    kept = alice.contacts.find("acme", "dup@example.org")
    assert kept["contact_id"] == keep
    assert kept["objected"] is True  # the copy's objection protects the person
    assert sorted(kept["lists"]) == ["news", "offers"]
    reasons = [alice.contacts.show("acme", cid)["erased"] for cid in (first, second)]
    assert reasons == [True, True]
    erased = list(acme.store.events.get(uuid.UUID(first)))[-1]
    assert type(erased).__qualname__ == "Contact.ContactErased"
    assert run_doctor(login(acme, "grete").session)["ok"] is True


def test_doctor_repair_on_the_command_line_needs_confirmation__SUBJ_4(
    cli_store: Cli,
) -> None:
    """`doctor --repair-duplicates` lists the plan and exits 1; with --confirm it repairs."""
    tenant = new_tenant(cli_store)
    keep = tenant.add("twice@example.org")
    with cli_store.open() as proc:
        admin = desk.login(proc, tenant.admin, cli_store.credentials[tenant.admin])
        with proc.using_clock():
            copy = admin.contacts.new_contact(
                tenant.ref, {"email": "twice@example.org"}, "news", ConsentInput.parse(CONSENT), "x"
            )
            proc.commit(copy)
    assert cli_store.fails(3, "doctor", user="grete").startswith("error: doctor found 1")
    argv = ("doctor", "--repair-duplicates", "--controller", tenant.ref)
    assert "--confirm" in cli_store.fails(1, *argv, user=tenant.admin)
    assert tenant.active() == 2
    done = cli_store.ok(*argv, "--confirm", user=tenant.admin)
    assert done["repaired"] == [{"kept": keep, "erased": str(copy.id), "merged": []}]
    assert tenant.active() == 1
    assert cli_store.ok("doctor", user="grete")["ok"] is True
    assert cli_store.fails(2, "doctor", "--confirm", user=tenant.admin)
