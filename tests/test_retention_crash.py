"""Crash test: `processor retention sweep` killed with SIGKILL at random points, then rerun.

A terminated controller with 2,000 contacts and a bystander controller share a simulation store.
Each trial copies the store, starts the real command line, kills it after a random delay (during
start-up, a batch, the key shredding, the ledger or the projection), reruns it to completion and
checks the event log itself: one `ContactErased` per due contact, no other subject touched, every
due key destroyed, one `PersonalDataDeleted`, and a ledger that verifies (RET-1, RET-5).
"""

from __future__ import annotations

import io
import os
import random
import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from cli_helpers import OUR_VARS, PROCESSOR, run_processor
from support import UNDERTAKING, login, sign_agreement

from processor.app import Processor
from processor.config import STORE_ID_FILE, Settings
from processor.kernel.clock import FixedClock
from processor.services.setup import initialise

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW = "2026-03-05T09:00:00+00:00"  # after the effective date of the `delete` instruction
DUE, BYSTANDERS, TRIALS_PER_GROUP = 2000, 40, 5


def _ids(proc: Processor, ref: str, admin: str, n: int) -> list[str]:
    session = login(proc, admin)
    data = "email,first_name\n" + "".join(f"{ref}{i}@example.dk,N{i}\n" for i in range(n))
    session.imports.import_csv(ref, io.BytesIO(data.encode()), "news", "double-opt-in")
    return [session.contacts.id_by_email(ref, f"{ref}{i}@example.dk") or "" for i in range(n)]


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The store before the sweep, its subjects, and how long one uninterrupted sweep takes."""
    base = tmp_path_factory.mktemp("crash")
    settings = Settings(data_dir=base / "template")
    proc = initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
        simulation=True,
        clock=FixedClock(T0),
    )
    try:
        sam = login(proc, "sam")
        sam.controllers.register("acme", "Acme", "DK", "paying", "scc", admin="alice")
        sign_agreement(proc, "acme")
        sam.controllers.register("beta", "Beta", "DK", "paying", "scc", admin="bob")
        sign_agreement(proc, "beta")
        subjects = {
            "acme": _ids(proc, "acme", "alice", DUE),
            "beta": _ids(proc, "beta", "bob", BYSTANDERS),
        }
        messages = {
            ref: [login(proc, admin).messages.record(ref, cid, "email", "Hi", "Body")["message_id"] for cid in subjects[ref][:3]]
            for ref, admin in (("acme", "alice"), ("beta", "bob"))
        }  # fmt: skip
        login(proc, "alice").lifecycle.terminate("acme", "2026-03-03", "delete")
        GRETE["credential"] = proc.issued["grete"]  # the GDPA who runs the sweeps (ACC-12)
    finally:
        proc.close()
    baseline = base / "baseline"
    _copy_store(settings.data_dir, baseline)
    started = time.monotonic()
    assert _sweep(baseline).returncode == 0
    duration = time.monotonic() - started
    _check(baseline, subjects, messages)
    return settings.data_dir, subjects, messages, duration


def _copy_store(source, target) -> None:
    """Copy a store: its data directory and its keys, which live apart from it (RET-5)."""
    shutil.copytree(source, target)
    # A copy is a store of its own: without the source's id it is known by its own path, so it
    # gets its own key folder (a copy keeping the id is refused).
    (target / STORE_ID_FILE).unlink(missing_ok=True)
    keys = Settings(data_dir=source).key_dir()
    shutil.copytree(keys, Settings(data_dir=target).key_dir())


GRETE: dict[str, str] = {}


def _env(data_dir) -> dict[str, str | None]:
    return {
        "PROCESSOR_DATA_DIR": str(data_dir),
        "PROCESSOR_NOW": NOW,
        "PROCESSOR_USER": "grete",
        "PROCESSOR_CREDENTIAL": GRETE["credential"],
    }


def _sweep(data_dir) -> subprocess.CompletedProcess[str]:
    return run_processor(["retention", "sweep"], _env(data_dir))


def _check(data_dir, subjects, messages) -> None:
    """Read the event log itself, not the read models."""
    with Processor.open(Settings(data_dir=data_dir)) as proc:
        per_subject: Counter[tuple[str, str]] = Counter()
        last = 0
        while notes := proc.store.recorder.select_notifications(
            start=last, limit=5000, inclusive_of_start=False
        ):
            for note in notes:
                kind = note.topic.rsplit(".", 1)[-1]
                if kind in {"ContactErased", "MessageContentShredded", "PersonalDataDeleted"}:
                    per_subject[kind, str(note.originator_id)] += 1
            last = notes[-1].id
        erased = {sid: n for (kind, sid), n in per_subject.items() if kind == "ContactErased"}
        assert set(erased) == set(subjects["acme"]), "a due subject was missed or another touched"
        assert set(erased.values()) == {1}, "a subject was erased twice"
        shredded = {
            sid: n for (kind, sid), n in per_subject.items() if kind == "MessageContentShredded"
        }
        assert shredded == dict.fromkeys(messages["acme"], 1)
        assert sum(n for (kind, _), n in per_subject.items() if kind == "PersonalDataDeleted") == 1
        assert set(proc.keys.subject_keys(subjects["acme"]).values()) == {None}
        assert None not in proc.keys.subject_keys(subjects["beta"]).values()
        assert proc.ledger.verify().ok


@pytest.mark.slow
@pytest.mark.parametrize("group", range(4))
def test_a_sweep_killed_anywhere_erases_each_due_subject_exactly_once__RET_1__RET_5(
    template, group, tmp_path
):
    """Four groups of five trials (20 in all), so xdist spreads them over the cores."""
    source, subjects, messages, duration = template
    rng = random.Random(6000 + group)  # noqa: S311 - kill points, not secrets
    full_env = {k: v for k, v in os.environ.items() if k not in OUR_VARS}
    for trial in range(TRIALS_PER_GROUP):
        data_dir = tmp_path / f"trial-{trial}"
        _copy_store(source, data_dir)
        env = {**full_env, **{k: v for k, v in _env(data_dir).items() if v is not None}}
        victim = subprocess.Popen(
            [str(PROCESSOR), "retention", "sweep"], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(rng.uniform(0.0, duration))
        victim.kill()  # SIGKILL: no cleanup, no finally blocks
        victim.wait()
        rerun = _sweep(data_dir)
        assert rerun.returncode == 0, rerun.stderr
        if trial == 0:
            assert _sweep(data_dir).stdout.startswith("nothing due")
        _check(data_dir, subjects, messages)
        shutil.rmtree(data_dir)
