"""`processor status` knows of every whole-ledger verification, not only `ledger verify` (AUD-4)."""

from __future__ import annotations

import json

import pytest
from cli_helpers import Cli, keep_listed_agreements, new_tenant

from processor.config import Settings
from processor.verifications import last_verification


def _last_verified(runner: Cli) -> dict:
    """`status --json` as the GDPA (exit 1 only flags what needs attention)."""
    result = runner.run("status", user="grete", as_json=True)
    assert result.exit_code in {0, 1}, result.stderr
    return json.loads(result.stdout)["ledger"]["last_verified"]


def test_demo_records_its_ledger_verification__AUD_4(tmp_path):
    """Right after `processor demo`, `status` shows the demo's verification, not "never"."""
    data_dir = tmp_path / "demo"
    runner = Cli(Settings(data_dir=data_dir))
    out = runner.ok("--data-dir", data_dir, "demo", "--contacts", "10")
    verified = _last_verified(runner)
    assert verified is not None
    assert verified["ok"] is True
    assert verified["records_checked"] == out["ledger"]["events"]
    assert "never" not in runner.run("status", user="grete").stdout


@pytest.fixture
def store(settings):
    """A fresh, initialised store on the backend under test."""
    runner = Cli(settings)
    runner.init()
    return runner


def test_audit_report_records_its_ledger_verification__AUD_1__AUD_4(store, settings):
    """The audit report verifies the ledger; `status` then shows it, and no event was written."""
    new_tenant(store).add("verified.once@example.dk")
    keep_listed_agreements(store)
    assert _last_verified(store) is None
    events = store.ok("status", user="grete")["counts"]["events"]
    model = json.loads(store.text("audit", "report", "--format", "json", user="grete"))
    verified = _last_verified(store)
    assert verified is not None
    assert verified["ok"] is model["ledger"]["verification"]["ok"] is True
    assert verified["records_checked"] == model["ledger"]["verification"]["records_checked"]
    assert last_verification(settings) is not None
    assert store.ok("status", user="grete")["counts"]["events"] == events
