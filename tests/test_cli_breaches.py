"""End-to-end: `processor breaches ...` on a simulation store, on SQLite and PostgreSQL.

Time is driven by PROCESSOR_NOW (a simulation store honours it and never goes back), so the
clocks are judged against recorded times, never the wall clock (BR-1, BR-3, BR-4, BR-5).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cli_helpers import Cli, new_tenant, shared_store
from support import BACKENDS

T0 = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)  # ahead of the wall: unset, time stands still


def later(hours: float = 0) -> dict[str, str | None]:
    """PROCESSOR_NOW moved forward: the module's tests share one simulated time line."""
    global T0  # noqa: PLW0603 - one time line for the module's store
    T0 += timedelta(hours=hours)
    return {"PROCESSOR_NOW": T0.isoformat()}


@pytest.fixture(scope="module", params=BACKENDS)
def sim(request, tmp_path_factory):
    """A simulation store shared by this module's tests (one per backend).

    Not conftest's `shared`: these tests need simulation mode, on the module's own time line.
    """
    base = tmp_path_factory.mktemp("store")
    with shared_store(request.param, base, "--simulation", env=later()) as runner:
        yield runner


def test_cli_a_breach_from_opening_to_review__BR_1__BR_3__BR_4(sim: Cli, tmp_path):
    """Open, list --overdue (exit 1), notify, the controller's notices, timeline, close."""
    env = later(1)
    scc = new_tenant(sim)
    scc.add("ann@example.dk")
    opened = sim.ok(
        "breaches", "open", "--kind", "confidentiality", "--nature", "Backup bucket public",
        "--system", f"controller:{scc.ref}", "--how", "found by a scan", user="grete", env=env,
    )  # fmt: skip
    bid = opened["id"]
    assert opened["impact"]["controllers"][0]["subjects"] == 1
    error = sim.fails(1, "breaches", "list", "--overdue", user="grete", env=later(24.1))
    assert "BreachClockOverdue" in error
    notified = sim.ok("breaches", "notify", bid, "--controller", scc.ref, user="grete", env=later())
    assert notified["notices"][0]["on_time"] is False
    assert sim.run("breaches", "list", "--overdue", user="grete", env=later()).exit_code == 0
    mine = sim.ok("breaches", "list", user=scc.admin, env=later())
    assert [b["id"] for b in mine["breaches"]] == [bid]
    sim.ok(
        "breaches", "authority-notice", bid, "--controller", scc.ref, "--at", T0.isoformat(),
        "--authority", "Datatilsynet", "--reference", "2026-1", user=scc.admin, env=later(1),
    )  # fmt: skip
    sim.ok(
        "breaches", "subjects-notice", bid, "--controller", scc.ref, "--exception", "a",
        "--justification", "the bucket held sealed data only", user=scc.admin, env=later(),
    )  # fmt: skip
    svg = tmp_path / "timeline.svg"
    sim.text(
        "breaches", "timeline", bid, "--format", "svg", "--out", svg, user="grete", env=later()
    )
    picture = svg.read_text(encoding="utf-8")
    assert picture.startswith("<svg") and 'class="deadline"' in picture
    text = sim.text("breaches", "timeline", bid, user="grete", env=later())
    assert "controller notified" in text and "DUE" in text
    reference = opened["reference"]  # `BR-0001`, as `breaches list` shows it, names it too
    assert sim.ok("breaches", "show", reference.lower(), user="grete", env=later())["id"] == bid
    assert [b["id"] for b in sim.ok("breaches", "list", user=scc.admin, env=later())["breaches"]]
    assert sim.ok("breaches", "show", reference, user=scc.admin, env=later())["id"] == bid
    assert "unknown breach BR-9999" in sim.fails(2, "breaches", "show", "BR-9999", user="grete")
    sim.ok("breaches", "close", bid, "--review", "Bucket policy fixed", user="grete", env=later())
    assert sim.ok("breaches", "list", "--open", user="grete", env=later())["breaches"] == []


def test_cli_breach_commands_refuse_bad_input_with_one_line(sim: Cli):
    """Unknown ids and bad values exit 2, forbidden roles 1, never an internal error."""
    tenant = new_tenant(sim)
    marketing = tenant.user("marketing")
    env = later()
    sim.fails(2, "breaches", "show", "not-a-uuid", user="grete", env=env)
    sim.fails(2, "breaches", "open", "--kind", "confidentiality", "--nature", "x",
              "--system", "mainframe", user="grete", env=env)  # fmt: skip
    sim.fails(2, "breaches", "open", "--kind", "confidentiality", "--nature", "x",
              "--occurred", "2026-13-01..", user="grete", env=env)  # fmt: skip
    sim.fails(1, "breaches", "open", "--kind", "integrity", "--nature", "x",
              user=marketing, env=env)  # fmt: skip
    sim.fails(1, "breaches", "list", user=marketing, env=env)


def test_cli_rotate_keys_rewraps_and_records__BR_5(sim: Cli, tmp_path):
    """`breaches rotate-keys` re-wraps every subject key under a new KEK and master key, and the
    breach records both; the store opens with the new key afterwards.
    """
    tenant = new_tenant(sim)
    tenant.add("bea@example.dk")
    env = later(1)
    bid = sim.ok(
        "breaches", "open", "--kind", "confidentiality", "--nature", "Key store backup leaked",
        "--system", "keystore", user="grete", env=env,
    )["id"]  # fmt: skip
    before = sim.ok("keys", "status", user="grete", env=env)
    out = sim.ok(
        "breaches", "rotate-keys", bid, "--new-master-key-file", tmp_path / "new.key",
        user="grete", env=later(),
    )  # fmt: skip
    assert out["kek"]["generation"] == before["generation"] + 1
    assert out["master"]["state"] == "rotated"
    shown = sim.ok("breaches", "show", bid, user="grete", env=later())
    assert [k["what"] for k in shown["key_rotations"]] == ["key-encryption key", "master key"]
    assert [m["kind"] for m in shown["measures"]] == ["change-keys", "change-keys"]
    after = sim.ok("keys", "status", user="grete", env=later())
    assert set(after["keys_per_generation"]) == {str(before["generation"] + 1)}
