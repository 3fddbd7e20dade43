"""Crash trials: import, erase, sweep, reveal and engage killed with SIGKILL anywhere (RET-5, AUD-4).

One small simulation store per backend is built once. Each trial copies it, starts the real
command line (`.venv/bin/processor`) in a subprocess, kills it with SIGKILL after a random delay
within the measured length of an uninterrupted run, and then judges the store:

* everything stored before the kill is still there, unchanged, after recovery and a rerun
  (nothing committed is lost; the events before the trial are a prefix of it too);
* the store opens, the catch-up every command does first completes, and the ledger verifies;
* no contact is half written: every contact the events created has its key or a tombstone, its
  read-model row exists exactly when its events do, and it is flagged erased exactly when a
  `ContactErased` exists; no key of an erased subject survives (`integrity.keycheck`);
* rerunning the command does the work exactly once (one live contact per imported e-mail, one
  `ContactErased` per subject, one `SubProcessorEngaged`, one reveal logged per reveal shown).

The kill comes after `duration * sqrt(u)` seconds (u uniform in [0, 1)): always inside an
uninterrupted run, more often late in it, where the writes are, than early in the start-up.
`PROCESSOR_CRASH_TRIALS` sets the trials per command and backend (default 50, as CI runs them);
they are split into groups of ten so pytest-xdist spreads them over the cores.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_helpers import OUR_VARS, PROCESSOR
from support import (
    BACKENDS,
    UNDERTAKING,
    drop_schemas,
    keep_subprocessor_agreement,
    login,
    make_settings,
    sign_agreement,
    support_view,
)

from processor.app import Processor
from processor.backup import copying
from processor.config import STORE_ID_FILE, Settings
from processor.integrity.keycheck import check_keys, event_facts
from processor.kernel.clock import FixedClock
from processor.readmodels import tables
from processor.services.setup import initialise
from processor.storage.eventstore import EventStore, eventstore_env
from subprocessors import SubProcessorDetails

TRIALS = int(os.environ.get("PROCESSOR_CRASH_TRIALS", "50"))
GROUP = 10
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOON = "2026-03-02T10:00:00+00:00"  # inside the support grant
SWEEP_AT = "2026-03-05T09:00:00+00:00"  # after beta's `delete` instruction took effect
ENGAGE_AT = "2026-04-02T09:00:00+00:00"  # after the 30-day sub-processor notice
ACME, BETA, IMPORTED = 60, 60, 150  # contacts: erase/reveal targets, swept, imported
SUBPROCESSOR = "Delta Mail ApS"
COMMANDS = ("import", "erase", "sweep", "reveal", "engage")


@dataclass
class Template:
    """The store every trial starts from, and what the commands need."""

    settings: Settings
    base: Path
    credentials: dict[str, str]
    victim: str = ""  # the acme contact the erase trials erase
    grant: str = ""
    pseudonym: str = ""
    beta: list[str] = field(default_factory=list)
    csv: Path | None = None
    dumps: dict[str, tuple[Path, str]] = field(default_factory=dict)  # PostgreSQL: schema dumps
    durations: dict[str, float] = field(default_factory=dict)
    records: list[tuple[int, str, int, str, str]] = field(default_factory=list)
    schemas: list[str] = field(default_factory=list)


def _import(proc: Processor, ref: str, admin: str, n: int, prefix: str) -> list[str]:
    session = login(proc, admin)
    data = "email,first_name\n" + "".join(f"{prefix}{i}@example.dk,N{i}\n" for i in range(n))
    session.imports.import_csv(ref, io.BytesIO(data.encode()), "news", "double-opt-in")
    return [session.contacts.id_by_email(ref, f"{prefix}{i}@example.dk") or "" for i in range(n)]


def _build(settings: Settings, base: Path) -> Template:
    proc = initialise(
        settings, gdpa="grete", system_manager="sam", simulation=True, clock=FixedClock(T0),
        gdpa_undertaking=UNDERTAKING, manager_undertaking=UNDERTAKING,
    )  # fmt: skip
    try:
        sam = login(proc, "sam")
        sam.controllers.register("acme", "Acme", "DK", "paying", "scc", admin="alice")
        sign_agreement(proc, "acme")
        sam.controllers.register("beta", "Beta", "DK", "paying", "scc", admin="bob")
        sign_agreement(proc, "beta")
        sam.users.add("sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06")
        acme = _import(proc, "acme", "alice", ACME, "a")
        beta = _import(proc, "beta", "bob", BETA, "b")
        login(proc, "bob").lifecycle.terminate("beta", "2026-03-03", "delete")
        sven = login(proc, "sven")
        view = support_view(proc, "sven", "acme", "alice")
        pseudonym = view["contacts"][0]["pseudonym"]
        grant = sven.access.request("acme", "ticket 7: bounces", hours=8)["grant"]
        login(proc, "alice").access.decide(grant, approve=True)
        login(proc, "grete").subprocessors.propose(
            SubProcessorDetails(
                name=SUBPROCESSOR, address="Østergade 1, 5000 Odense C", country="DK",
                activities=("email",), basis="eea", registration="CVR 11223344",
                agreement_ref="SPA-2026-1", agreement_date=date(2026, 2, 1),
                beneficiary_clause=True,
            )
        )  # fmt: skip
        keep_subprocessor_agreement(proc, SUBPROCESSOR)  # engagement needs its text (SUB-5)
        credentials = {name: proc.issued[name] for name in ("grete", "alice", "sven")}
    finally:
        proc.close()
    csv = base / "import.csv"
    csv.write_text(
        "email,first_name\n" + "".join(f"new{i}@example.dk,M{i}\n" for i in range(IMPORTED))
    )
    victim = next(c for c in acme if c)
    return Template(
        settings, base, credentials, victim=victim, grant=grant, pseudonym=pseudonym,
        beta=beta, csv=csv,
    )  # fmt: skip


# -- copies of the template ----------------------------------------------------------------------


def _copy(template: Template, target: Path) -> tuple[Settings, list[str]]:
    """A private copy of the template store: data (files or schemas), keys and checkpoint log."""
    source = template.settings
    settings, schemas = make_settings(source.backend, target)
    if source.backend == "sqlite":
        shutil.copytree(source.data_dir, settings.data_dir)
        # A copy is a store of its own: without the template's id it is known by its own path,
        # so it gets its own key folder below (a copy keeping the id is refused).
        (settings.data_dir / STORE_ID_FILE).unlink(missing_ok=True)
    else:
        for kind, loc in (
            ("events", settings.events_location()),
            ("keys", settings.keystore_location()),
        ):
            dump, dumped_schema = template.dumps[kind]
            copying.pg_restore_schema(loc, dump, dumped_schema)
    shutil.copytree(source.key_dir(), settings.key_dir())
    return settings, schemas


def _command(template: Template, command: str) -> tuple[list[str], dict[str, str]]:
    """The argv and environment (user, credential, simulated time) of one command."""
    user, now, argv = {
        "import": ("alice", SOON, ["contacts", "import", "acme", str(template.csv), "--list",
                                   "news", "--consent-method", "double-opt-in"]),
        "erase": ("alice", SOON, ["erase", "acme", "--contact", template.victim, "--reason",
                                  "Art. 17 request"]),
        "sweep": ("grete", SWEEP_AT, ["retention", "sweep"]),
        "reveal": ("sven", SOON, ["access", "reveal", template.grant, template.pseudonym]),
        "engage": ("grete", ENGAGE_AT, ["subprocessors", "engage", SUBPROCESSOR]),
    }[command]  # fmt: skip
    return argv, {
        "PROCESSOR_USER": user, "PROCESSOR_CREDENTIAL": template.credentials[user],
        "PROCESSOR_NOW": now,
    }  # fmt: skip


def _env(settings: Settings, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OUR_VARS}
    env["PROCESSOR_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["PROCESSOR_DATABASE_URL"] = settings.database_url
        env["PROCESSOR_KEYSTORE_URL"] = settings.keystore_url or ""
    return {**env, **extra}


def _run(
    settings: Settings, argv: list[str], extra: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROCESSOR), *argv], env=_env(settings, extra), capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip


# -- judging a store -----------------------------------------------------------------------------


def _records(settings: Settings) -> list[tuple[int, str, int, str, str]]:
    """Every stored record as stored (no key needed): position, aggregate, version, topic, hash."""
    store = EventStore(env=eventstore_env(settings))
    try:
        found: list[tuple[int, str, int, str, str]] = []
        while notes := store.recorder.select_notifications(
            start=found[-1][0] if found else 0, limit=2000, inclusive_of_start=False
        ):
            found += [
                (n.id, str(n.originator_id), n.originator_version, n.topic,
                 hashlib.sha256(bytes(n.state)).hexdigest())
                for n in notes
            ]  # fmt: skip
        return found
    finally:
        store.close()


def _kinds(records: list[tuple[int, str, int, str, str]]) -> Counter[tuple[str, str]]:
    """(event name, aggregate id) -> how many."""
    return Counter((topic.rsplit(".", 1)[-1], agg) for _, agg, _, topic, _ in records)


def _recover_and_check(settings: Settings, now: str) -> dict[str, Any]:
    """Open, catch up as every command does, verify, and check keys and read models."""
    clock = FixedClock(datetime.fromisoformat(now))
    with Processor.open(settings, clock) as proc:
        with proc.using_clock():
            proc.catch_up()
        report = proc.ledger.verify()
        assert report.ok, f"ledger: {report.reason}"
        facts = event_facts(proc.store)
        findings = check_keys(proc.store, proc.keys, facts)
        assert not findings, f"keys out of step with events: {findings[:3]}"
        with proc.engines.readmodels.connect() as conn:
            rows = {r.contact_id: r.erased for r in conn.execute(sa.select(tables.contacts))}
            live = Counter(
                r.email_index
                for r in conn.execute(
                    sa.select(tables.contacts.c.email_index).where(
                        tables.contacts.c.controller == "acme", ~tables.contacts.c.erased
                    )
                )
            )
        assert set(rows) == set(facts.contacts), "a contact's read-model row without its events"
        assert {c for c, erased in rows.items() if erased} == facts.erased
        return {"live_acme": live, "erased": facts.erased}


def _judge(template: Template, command: str, settings: Settings, rng: random.Random) -> str:
    """One trial on a fresh copy; returns where the kill landed (before/after the first commit)."""
    argv, extra = _command(template, command)
    before = template.records
    victim = subprocess.Popen(
        [str(PROCESSOR), *argv], env=_env(settings, extra),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # Within the uninterrupted run's length, skewed late: start-up is most of a short command,
    # and the writes (commit, key destruction, ledger, projection) come at its end.
    time.sleep(template.durations[command] * math.sqrt(rng.random()))
    victim.kill()  # SIGKILL: no cleanup, no finally blocks, no atexit
    victim.wait()
    at_kill = _records(settings)
    assert at_kill[: len(before)] == before, "a record stored before the trial changed or vanished"
    _recover_and_check(settings, extra["PROCESSOR_NOW"])
    rerun = _run(settings, argv, extra)
    after = _records(settings)
    assert after[: len(at_kill)] == at_kill, "a record stored before the kill was lost"
    state = _recover_and_check(settings, extra["PROCESSOR_NOW"])
    _exactly_once(template, command, rerun, at_kill, after, state)
    return "committed" if len(at_kill) > len(before) else "nothing stored"


def _exactly_once(
    template: Template,
    command: str,
    rerun: subprocess.CompletedProcess[str],
    at_kill: list[tuple[int, str, int, str, str]],
    after: list[tuple[int, str, int, str, str]],
    state: dict[str, Any],
) -> None:
    kinds = _kinds(after)
    said = f"rerun exit {rerun.returncode}: {rerun.stderr.strip()}"
    if command == "import":
        assert rerun.returncode == 0, said
        assert sum(state["live_acme"].values()) == ACME + IMPORTED, "contacts lost or duplicated"
        assert set(state["live_acme"].values()) == {1}, "an e-mail has two live contacts"
    elif command == "erase":
        assert rerun.returncode in (0, 1), said
        assert kinds["ContactErased", template.victim] == 1
        assert state["erased"] == {template.victim}
    elif command == "sweep":
        assert rerun.returncode == 0, said
        erased = {
            agg for (kind, agg), n in kinds.items() if kind == "ContactErased" for _ in range(n)
        }
        assert erased == set(template.beta)
        assert all(kinds["ContactErased", c] == 1 for c in template.beta), "erased twice"
        assert sum(n for (k, _), n in kinds.items() if k == "PersonalDataDeleted") == 1
    elif command == "reveal":
        assert rerun.returncode == 0, said
        shown = sum(n for (k, _), n in _kinds(at_kill).items() if k == "PersonalDataRevealed")
        total = sum(n for (k, _), n in kinds.items() if k == "PersonalDataRevealed")
        assert shown <= 1 and total == shown + 1, "a reveal without its event, or logged twice"
    else:
        assert rerun.returncode in (0, 1), said
        assert sum(n for (k, _), n in kinds.items() if k == "SubProcessorEngaged") == 1


# -- fixtures and the trials -----------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def template(request, tmp_path_factory):
    """The template store on one backend, with each command's uninterrupted duration."""
    base = tmp_path_factory.mktemp(f"crash-{request.param}")
    settings, schemas = make_settings(request.param, base, folder="template")
    try:
        made = _build(settings, base)
        made.schemas = schemas
        if settings.backend == "postgres":
            for kind, loc in (
                ("events", settings.events_location()),
                ("keys", settings.keystore_location()),
            ):
                dump = base / f"{kind}.sql"
                copying.pg_dump_schema(loc, dump)
                made.dumps[kind] = (dump, loc.schema)
        made.records = _records(settings)
        for command in COMMANDS:
            copy, more = _copy(made, base / f"timing-{command}")
            try:
                argv, extra = _command(made, command)
                started = time.monotonic()
                done = _run(copy, argv, extra)
                made.durations[command] = time.monotonic() - started
                assert done.returncode == 0, f"{command}: {done.stderr}"
            finally:
                drop_schemas(*more)
        yield made
    finally:
        drop_schemas(*schemas)


@pytest.mark.slow
@pytest.mark.parametrize("group", range(math.ceil(TRIALS / GROUP)))
@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_killed_anywhere_loses_nothing_and_completes_once__RET_5__AUD_4(
    template, command, group, tmp_path
):
    """Killed with SIGKILL at a random point and rerun: nothing lost, half written or doubled."""
    rng = random.Random(f"{command}-{group}-{template.settings.backend}")  # noqa: S311
    outcomes: Counter[str] = Counter()
    for trial in range(group * GROUP, min(TRIALS, (group + 1) * GROUP)):
        settings, schemas = _copy(template, tmp_path / f"trial-{trial}")
        try:
            outcomes[_judge(template, command, settings, rng)] += 1
        finally:
            drop_schemas(*schemas)
            shutil.rmtree(tmp_path / f"trial-{trial}", ignore_errors=True)
            shutil.rmtree(settings.key_dir(), ignore_errors=True)
    where = f"{command} on {template.settings.backend}, group {group}"
    print(f"{where}: {dict(outcomes)}")  # noqa: T201 - shown with -s: where the kills landed
