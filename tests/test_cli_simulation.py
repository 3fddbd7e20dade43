"""End-to-end: PROCESSOR_NOW and simulation stores (`init --simulation`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cli_helpers import Cli, new_tenant

T0 = "2026-03-02T09:00:00+00:00"
T1 = "2026-03-03T10:00:00+00:00"
T2 = "2026-03-04T11:30:00+00:00"
T3 = "2026-03-05T12:45:00+00:00"
FUTURE = "2099-01-01T00:00:00+00:00"


def at(when):
    """The environment that sets PROCESSOR_NOW."""
    return {"PROCESSOR_NOW": when}


@pytest.fixture
def normal(settings):
    """A fresh normal (not simulation) store with a controller."""
    runner = Cli(settings)
    runner.init()
    return runner


@pytest.fixture
def sim(settings):
    """A fresh simulation store, initialised at T0."""
    runner = Cli(settings)
    assert runner.init("--simulation", env=at(T0))["simulation"] is True
    return runner


def test_processor_now_is_refused_on_a_normal_store(normal):
    """PROCESSOR_NOW on a store that is not a simulation is refused (exit 1), reads and writes alike."""
    tenant = new_tenant(normal)
    error = normal.fails(1, "controllers", "show", tenant.ref, user=tenant.admin, env=at(T1))
    assert "simulation" in error
    normal.fails(1, "contacts", "add", tenant.ref, "--list", "news", "--email", "a@example.dk",
                 "--consent", "email:x", user=tenant.admin, env=at(T1))  # fmt: skip
    assert tenant.active() == 0
    shown = normal.ok("controllers", "show", tenant.ref, user=tenant.admin)
    registered = datetime.fromisoformat(shown["registered_at"])
    assert abs((datetime.now(tz=UTC) - registered).total_seconds()) < 600


def test_processor_now_is_honoured_by_a_simulation_store(sim):
    """A simulation store stamps events with PROCESSOR_NOW and never lets time go backwards."""
    sim.ok("controllers", "register", "sim-co", "--name", "Sim", "--country", "DK", "--account", "paying",
           "--agreement", "scc", "--admin", "sim-admin", user="sam", env=at(T1))  # fmt: skip
    shown = sim.ok("controllers", "show", "sim-co", user="sim-admin", env=at(T1))
    assert shown["registered_at"] == T1
    assert [e.timestamp.isoformat() for e in sim.controller_events("sim-co")] == [T1]
    stamps = [e.timestamp.isoformat() for e in sim.user_events("sam")]
    assert stamps[:2] == [T0, T0]  # UserAdded, CredentialIssued
    assert stamps == sorted(stamps) and set(stamps) <= {T0, T1}  # later ones: PROCESSOR_NOW
    error = sim.fails(1, "controllers", "show", "sim-co", user="sim-admin", env=at(T0))
    assert "never goes backwards" in error
    sim.sign("sim-co", "scc", env=at(T1))
    out = sim.ok("contacts", "add", "sim-co", "--list", "news", "--email", "a@example.dk",
                 "--consent", "email:x", user="sim-admin", env=at(T2))  # fmt: skip
    assert [e.timestamp.isoformat() for e in sim.events(out["contact_id"])] == [T2]
    sim.ok("contacts", "restrict", "sim-co", out["contact_id"], user="sim-admin", env=at(FUTURE))
    later = sim.ok("contacts", "add", "sim-co", "--list", "news", "--email", "b@example.dk",
                   "--consent", "email:x", user="sim-admin")  # fmt: skip
    shown = sim.ok("contacts", "show", "sim-co", later["contact_id"], user="sim-admin")
    assert shown["added_at"] == FUTURE, (
        "a simulation ahead of the wall clock stays at its last time"
    )
    sim.fails(1, "contacts", "show", "sim-co", later["contact_id"], user="sim-admin", env=at(T3))
    sim.fails(2, "controllers", "show", "sim-co", user="sim-admin", env=at("next tuesday"))


def test_simulation_reports_say_simulation(sim, tmp_path):
    """Head, verify, exports, receipts and `receipts verify` of a simulation store say SIMULATION."""
    tenant = new_tenant(sim)
    cid = tenant.add("c@example.dk")
    assert sim.ok("ledger", "head", user="grete")["simulation"] is True
    assert sim.ok("ledger", "verify", user="grete")["simulation"] is True
    assert sim.ok("export", tenant.ref, "--contact", cid, user=tenant.admin)["simulation"] is True
    receipt = tmp_path / "receipt.json"
    out = sim.ok(
        "erase",
        tenant.ref,
        "--contact",
        cid,
        "--reason",
        "asked",
        "--receipt",
        receipt,
        user=tenant.admin,
    )
    assert out["metadata"]["simulation"] is True
    key = sim.public_key(tmp_path / "ledger.pub")
    assert sim.text("receipts", "verify", receipt, "--public-key", key).startswith(
        "SIMULATION receipt verified"
    )
    assert sim.ok("receipts", "verify", receipt, "--public-key", key)["simulation"] is True


def test_erased_at_is_the_time_of_the_erasure__RET_5(sim, tmp_path):
    """The erasure receipt and `contacts show` give the time the erasure happened."""
    sim.ok("controllers", "register", "era-co", "--name", "Era", "--country", "DK", "--account", "paying",
           "--agreement", "scc", "--admin", "era-admin", user="sam", env=at(T1))  # fmt: skip
    sim.sign("era-co", "scc", env=at(T1))
    cid = sim.ok("contacts", "add", "era-co", "--list", "news", "--email", "d@example.dk",
                 "--consent", "email:x", user="era-admin", env=at(T2))["contact_id"]  # fmt: skip
    receipt = tmp_path / "receipt.json"
    out = sim.ok("erase", "era-co", "--contact", cid, "--reason", "asked", "--receipt", receipt,
                 user="era-admin", env=at(T3))  # fmt: skip
    assert out["metadata"]["details"]["erased_at"] == T3
    assert sim.ok("contacts", "show", "era-co", cid, user="era-admin")["erased_at"] == T3


def test_instruction_given_at_is_the_time_given__INSTR_1(sim):
    """`controllers show` lists each instruction with the time it was given."""
    sim.ok("controllers", "register", "ins-co", "--name", "Ins", "--country", "DK", "--account", "paying",
           "--agreement", "scc", "--admin", "ins-admin", user="sam", env=at(T1))  # fmt: skip
    sim.sign("ins-co", "scc", env=at(T1))
    given = sim.ok("controllers", "instruct", "ins-co", "--kind", "general", "--text", "x",
                   user="ins-admin", env=at(T2))  # fmt: skip
    assert given["given_at"] == T2
    shown = sim.ok("controllers", "show", "ins-co", user="ins-admin")
    assert [i["given_at"] for i in shown["instructions"]] == [T2]


def test_list_and_consent_times_are_the_times_of_the_change__SUBJ_2(sim):
    """`contacts show` gives each list join, consent and unsubscription its own time."""
    sim.ok("controllers", "register", "lst-co", "--name", "Lst", "--country", "DK", "--account", "paying",
           "--agreement", "scc", "--admin", "lst-admin", user="sam", env=at(T1))  # fmt: skip
    sim.sign("lst-co", "scc", env=at(T1))
    add = ["contacts", "add", "lst-co", "--email", "e@example.dk", "--consent", "email:x"]
    cid = sim.ok(*add, "--list", "news", user="lst-admin", env=at(T1))["contact_id"]
    sim.ok(*add, "--list", "vip", user="lst-admin", env=at(T2))
    sim.ok("contacts", "unsubscribe", "lst-co", cid, "--list", "news", user="lst-admin", env=at(T3))
    shown = sim.ok("contacts", "show", "lst-co", cid, user="lst-admin")
    assert [c["recorded_at"] for c in shown["consents"]] == [T1, T2]
    assert shown["lists"]["vip"]["since"] == T2
    assert shown["lists"]["news"]["unsubscribed_at"] == T3


def test_times_with_an_offset_are_the_same_instant_everywhere(sim):
    """A PROCESSOR_NOW with a UTC offset is stored as that instant in events and read models."""
    sim.ok("controllers", "register", "tz-co", "--name", "Tz", "--country", "DK", "--account", "paying",
           "--agreement", "scc", "--admin", "tz-admin", user="sam", env=at("2026-03-03T11:00:00+01:00"))  # fmt: skip
    sim.sign("tz-co", "scc")
    instant = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    shown = sim.ok("controllers", "show", "tz-co", user="tz-admin")
    assert datetime.fromisoformat(shown["registered_at"]) == instant
    users = {
        u["name"]: u for u in sim.ok("users", "list", "--controller", "tz-co", user="sam")["users"]
    }
    assert datetime.fromisoformat(users["tz-admin"]["created_at"]) == instant
