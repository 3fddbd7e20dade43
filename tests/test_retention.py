"""What is due when (RET-1, RET-2, RET-4, RET-6), through the Python API, on both backends."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from support import login, sign_agreement

from processor.domain.ids import controller_id
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.readmodels import tables as t

EFFECTIVE = date(2026, 3, 12)  # ten days after the fixtures' START (2026-03-02 09:00)


def day(d: date, hour: int = 9) -> datetime:
    """A time on day `d` (UTC)."""
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def add_contacts(proc, controller: str, admin: str, n: int, prefix: str) -> list[str]:
    """Import `n` contacts in one batch; return their ids."""
    rows = "".join(f"{prefix}{i}@example.dk,{prefix.title()}{i}\n" for i in range(n))
    session = login(proc, admin)
    data = ("email,last_name\n" + rows).encode()
    session.imports.import_csv(controller, io.BytesIO(data), "news", "double-opt-in")
    return [session.contacts.id_by_email(controller, f"{prefix}{i}@example.dk") for i in range(n)]


def erased_ids(proc, controller: str) -> set[str]:
    """Ids of the controller's erased contacts (read model)."""
    c = t.contacts.c
    with proc.engines.readmodels.connect() as conn:
        rows = conn.execute(
            sa.select(c.contact_id).where((c.controller == controller) & c.erased.is_(True))
        )
        return {r[0] for r in rows}


def controller_events(proc, ref: str) -> list[str]:
    """Names of the controller's events, oldest first."""
    return [type(e).__name__ for e in proc.store.events.get(controller_id(ref))]


def sweep_at(proc, clock, when: datetime, **kwargs):
    """Move the clock to `when` and sweep as the GDPA."""
    clock.set(when)
    return login(proc, "grete").retention.sweep(**kwargs)


def test_without_instruction_data_is_deleted_120_days_after_termination__RET_1(acme, clock):
    """Due on the 120th day after the effective date, not a day earlier; other controllers untouched."""
    ours = add_contacts(acme, "acme", "alice", 3, "a")
    theirs = add_contacts(acme, "beta", "bob", 2, "b")
    result = login(acme, "alice").lifecycle.terminate("acme", EFFECTIVE.isoformat())
    assert result["deletion_after_days"] == 120
    assert result["data"]["rule"] == "RET-1"
    assert result["data"]["due_at"] == day(EFFECTIVE + timedelta(days=120), 0).isoformat()
    grete = login(acme, "grete")
    early = grete.retention.due(day(EFFECTIVE + timedelta(days=119), 23))
    assert early["due"] == [] and early["scheduled"][0]["controller"] == "acme"
    assert sweep_at(acme, clock, day(EFFECTIVE + timedelta(days=119), 23))["nothing_due"]
    assert erased_ids(acme, "acme") == set()
    due = grete.retention.due(day(EFFECTIVE + timedelta(days=120), 0))
    assert [(d["controller"], d["rule"], d["contacts"]) for d in due["due"]] == [
        ("acme", "RET-1", 3)
    ]
    swept = sweep_at(acme, clock, day(EFFECTIVE + timedelta(days=120)))
    assert swept["swept"] == ["acme"] and swept["contacts_erased"] == 3
    assert erased_ids(acme, "acme") == set(ours)
    assert erased_ids(acme, "beta") == set()
    assert all(key is not None for key in acme.keys.subject_keys(theirs).values())
    event = next(
        e
        for e in acme.store.events.get(controller_id("acme"))
        if type(e).__name__ == "TerminationRecorded"
    )
    assert "retention-" in event.policy_version and event.deletion_after_days == 120


def test_delete_instruction_makes_data_due_when_the_collaboration_ends__RET_2(acme, clock):
    """`--instruction delete`: due on the effective date itself."""
    ids = add_contacts(acme, "acme", "alice", 2, "d")
    login(acme, "sam").lifecycle.terminate("acme", EFFECTIVE.isoformat(), "delete")
    assert sweep_at(acme, clock, day(EFFECTIVE, 0) - timedelta(seconds=1))["nothing_due"]
    assert sweep_at(acme, clock, day(EFFECTIVE, 0))["contacts_erased"] == 2
    assert erased_ids(acme, "acme") == set(ids)


def test_return_instruction_waits_for_a_complete_standard_return__RET_2(acme, clock, tmp_path):
    """`return`: held until `export --all --out DIR` wrote JSONL + CSV + manifest; then deleted."""
    ids = add_contacts(acme, "acme", "alice", 3, "r")
    alice = login(acme, "alice")
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat(), "return", return_to="Nordmail ApS")
    clock.set(day(EFFECTIVE + timedelta(days=200)))
    held = login(acme, "grete").retention.due()
    assert held["due"] == [] and held["held"][0]["rule"] == "RET-2"
    assert "awaiting a complete return to the recipient on record" in held["held"][0]["why"]
    assert held["held"][0]["return_to"] == "Nordmail ApS"  # sealed, opened for the GDPA
    assert sweep_at(acme, clock, clock.now())["nothing_due"]
    out = tmp_path / "acme-return"
    manifest = alice.returns.write("acme", out)
    assert manifest["return_to"] == "Nordmail ApS"
    assert manifest["counts"] == {"contacts": 3, "consents": 3, "memberships": 3, "messages": 0}
    stored = json.loads((out / "manifest.json").read_text(encoding="utf-8"))

    for name, info in stored["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == info["sha256"]
    assert len((out / "contacts.jsonl").read_text(encoding="utf-8").splitlines()) == 3
    header = (out / "contacts.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("contact_id,email,") and header.endswith("restricted,objected")
    assert "r1@example.dk" in (out / "contacts.csv").read_text(encoding="utf-8")
    assert "DataReturned" in controller_events(acme, "acme")
    with pytest.raises(InvalidInputError):
        alice.returns.write("acme", out)  # a directory holds one complete return
    assert sweep_at(acme, clock, clock.now())["contacts_erased"] == 3
    assert erased_ids(acme, "acme") == set(ids)


def test_demo_trial_ends_after_30_days_and_data_goes_90_days_later__RET_4(acme, clock):
    """The sweep records DemoTrialEnded once; adds stop at the trial's end; deletion at 30 + 90 days."""
    login(acme, "sam").controllers.register("trial", "Trial ApS", "DK", "demo", "scc", admin="tina")
    sign_agreement(acme, "trial")
    start = clock.now()
    ids = add_contacts(acme, "trial", "tina", 2, "t")
    tina = login(acme, "tina")
    clock.set(start + timedelta(days=30) - timedelta(minutes=1))
    tina.contacts.add("trial", "news", "late@example.dk", "email:form")
    ids.append(tina.contacts.id_by_email("trial", "late@example.dk"))
    clock.set(start + timedelta(days=30))
    with pytest.raises(RefusedError, match="demo trial ended"):
        tina.contacts.add("trial", "news", "later@example.dk", "email:form")
    first = sweep_at(acme, clock, start + timedelta(days=31))
    assert first["demo_trials_ended"] == ["trial"] and first["contacts_erased"] == 0
    assert sweep_at(acme, clock, start + timedelta(days=32))["nothing_due"]
    assert controller_events(acme, "trial").count("DemoTrialEnded") == 1
    assert sweep_at(acme, clock, start + timedelta(days=120) - timedelta(seconds=1))["nothing_due"]
    final = sweep_at(acme, clock, start + timedelta(days=120))
    assert final["swept"] == ["trial"] and final["due"][0]["rule"] == "RET-4"
    assert erased_ids(acme, "trial") == set(ids)


def test_legal_retention_overrides_deletion_until_it_ends__RET_6(acme, clock):
    """`retain` needs a legal ground and a period, is shown as held, and ends on its date."""
    ids = add_contacts(acme, "acme", "alice", 2, "l")
    alice = login(acme, "alice")
    for bad in ({}, {"legal_ground": "Bookkeeping Act §10"}, {"retain_until": "2031-01-01"}):
        with pytest.raises(InvalidInputError):
            alice.lifecycle.terminate("acme", EFFECTIVE.isoformat(), "retain", **bad)
    with pytest.raises(InvalidInputError):
        alice.lifecycle.terminate("acme", EFFECTIVE.isoformat(), legal_ground="x")
    until = EFFECTIVE + timedelta(days=400)
    alice.lifecycle.terminate(
        "acme", EFFECTIVE.isoformat(), "retain",
        legal_ground="Danish Bookkeeping Act §10", retain_until=until.isoformat(),
    )  # fmt: skip
    clock.set(day(EFFECTIVE + timedelta(days=200)))
    held = login(acme, "grete").retention.due()["held"]
    assert held[0]["rule"] == "RET-6" and "until" in held[0]["why"]
    assert held[0]["legal_ground"] == "Danish Bookkeeping Act §10"  # sealed, opened for the GDPA
    assert sweep_at(acme, clock, day(until, 0) - timedelta(seconds=1))["nothing_due"]
    assert sweep_at(acme, clock, day(until, 0))["contacts_erased"] == 2
    assert erased_ids(acme, "acme") == set(ids)


def test_withdrawn_termination_is_never_swept__RET_1(acme, clock):
    """A withdrawn termination leaves nothing due; a second termination needs a withdrawal first."""
    add_contacts(acme, "acme", "alice", 2, "w")
    alice = login(acme, "alice")
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat())
    with pytest.raises(RefusedError, match="already terminated"):
        alice.lifecycle.terminate("acme", EFFECTIVE.isoformat())
    alice.lifecycle.withdraw("acme", "the customer stays")
    with pytest.raises(RefusedError, match="not terminated"):
        alice.lifecycle.withdraw("acme", "again")
    assert sweep_at(acme, clock, day(EFFECTIVE + timedelta(days=500)))["nothing_due"]
    assert erased_ids(acme, "acme") == set()
    alice.contacts.add("acme", "news", "back@example.dk", "email:form")
    alice.lifecycle.terminate("acme", (EFFECTIVE + timedelta(days=500)).isoformat(), "delete")
    sweep_at(acme, clock, day(EFFECTIVE + timedelta(days=501)))
    with pytest.raises(RefusedError, match="already deleted"):
        alice.lifecycle.withdraw("acme", "too late")
    assert controller_events(acme, "acme").count("TerminationWithdrawn") == 1


def test_terminated_account_still_exports_and_erases_but_takes_no_new_data__RET_1(acme, clock):
    """From the effective date: add, import and update refused; export and erasure allowed."""
    ids = add_contacts(acme, "acme", "alice", 2, "x")
    alice = login(acme, "alice")
    alice.lifecycle.terminate("acme", EFFECTIVE.isoformat())
    alice.contacts.add("acme", "news", "before@example.dk", "email:form")  # not yet effective
    clock.set(day(EFFECTIVE))
    refusals = [
        lambda: alice.contacts.add("acme", "news", "after@example.dk", "email:form"),
        lambda: alice.imports.import_csv("acme", io.BytesIO(b"email\nz@example.dk\n"), "news", "x"),
        lambda: alice.contacts.update("acme", ids[0], {"city": "Aarhus"}),
    ]
    for attempt in refusals:
        with pytest.raises(RefusedError) as info:
            attempt()
        assert info.value.rule == "AccountMustBeOpen"
    assert alice.exports.export("acme", io.StringIO(), everything=True)["contacts"] == 3
    alice.erasure.erase("acme", "request", contact=ids[1])
    alice.contacts.unsubscribe("acme", ids[0], "news")
