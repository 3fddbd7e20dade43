"""End-to-end: `processor demo` builds a simulation scenario whose receipt verifies offline."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from cli_helpers import Cli

from processor.config import Settings


def demo_cli(data_dir):
    """A command line whose store is `data_dir` (SQLite; the demo is embedded-only)."""
    return Cli(Settings(data_dir=data_dir))


def test_demo_builds_a_verifiable_simulation(tmp_path):
    """`demo --contacts 50` tells its story, and its receipt and ledger verify afterwards."""
    data_dir = tmp_path / "demo"
    runner = demo_cli(data_dir)
    text = runner.text("--data-dir", data_dir, "demo", "--contacts", "50")
    lines = text.splitlines()
    assert lines[0] == f"SIMULATION store in {data_dir}"
    assert any("imported 50 contacts" in line for line in lines)
    assert any("SUBJ-7" in line for line in lines)
    (verify,) = [line for line in lines if line.strip().startswith("processor receipts verify")]
    command = shlex.split(verify.strip())
    assert command[:3] == ["processor", "receipts", "verify"]
    verified = runner.text(*command[1:])
    assert verified.startswith("SIMULATION receipt verified: erasure at leaf ")
    report = runner.ok("ledger", "verify", user="grete")
    assert report["ok"] is True
    assert report["simulation"] is True
    shown = runner.ok("controllers", "show", "fjord-books", user="bo")
    assert shown["contacts"]["active"] == 199
    assert shown["account"] == "freemium"


def test_demo_refuses_a_non_empty_directory(tmp_path):
    """`demo` refuses a non-empty data directory (exit 1) and fewer than 10 contacts (exit 2)."""
    data_dir = tmp_path / "used"
    data_dir.mkdir()
    (data_dir / "something.txt").write_text("x", encoding="utf-8")
    runner = demo_cli(data_dir)
    assert "not empty" in runner.fails(1, "demo", "--contacts", "10")
    runner.fails(2, "demo", "--contacts", "5")
    assert sorted(p.name for p in data_dir.iterdir()) == ["something.txt"]


def test_demo_uses_processor_data_dir_when_it_is_free__issue_18_item_1(tmp_path):
    """`export PROCESSOR_DATA_DIR=./store; make demo` builds the demo in ./store when ./store is
    absent; when it holds a store, the one-line refusal names a free directory, given the way the
    store was chosen (the variable, or --data-dir).
    """
    store = tmp_path / "store"
    runner = demo_cli(store)  # the store comes by PROCESSOR_DATA_DIR
    assert runner.ok("demo", "--contacts", "10")["data_dir"] == str(store)
    assert (store / "demo-files" / "summary.json").exists()
    error = runner.fails(1, "demo", "--contacts", "10")
    assert f"{store} is not empty" in error
    free = re.search(r"PROCESSOR_DATA_DIR=(\S+), a free directory", error)
    assert free, error
    assert not Path(free.group(1)).exists()
    other = tmp_path / "other"
    error = demo_cli(other).fails(1, "--data-dir", store, "demo", "--contacts", "10")
    assert re.search(r"run it with --data-dir \S+, a free directory", error), error
    assert not other.exists()


def test_demo_json_summary(tmp_path):
    """`--json demo` prints one JSON document with the story, the import counts and the ledger."""
    data_dir = tmp_path / "demo-json"
    out = demo_cli(data_dir).ok("demo", "--contacts", "20")
    assert out["simulation"] is True
    assert out["controllers"] == ["nordic-shoes", "fjord-books"]
    assert out["imported"]["added"] == 20
    assert out["imported"]["rejected"] == 2
    assert out["ledger"]["ok"] is True
    assert json.loads((data_dir / "demo-files" / "summary.json").read_text(encoding="utf-8"))[
        "simulation"
    ]


@pytest.mark.slow
def test_demo_full_size(tmp_path):
    """The default demo (3,000 contacts) completes and its ledger verifies."""
    data_dir = tmp_path / "full"
    out = demo_cli(data_dir).ok("demo")
    assert out["imported"]["added"] == 3000
    assert out["ledger"]["ok"] is True
    receipt, key = out["receipt"], out["public_key"]
    assert (
        demo_cli(data_dir).ok("receipts", "verify", receipt, "--public-key", key)["simulation"]
        is True
    )
