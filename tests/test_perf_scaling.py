"""Issue 17, scaling: concurrent writers on one PostgreSQL lose nothing and the ledger verifies.

`python -m bench.scaling` is what docs/performance.md ("Scaling") quotes. Run small here: two
writer processes on two controllers, then on one, for two seconds each. The script itself fails
(exit 1) when the contacts counted in the events differ from what the writers say they added,
or when `ledger verify` of the whole log does not pass; this test checks both again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.postgres
def test_perf_scaling_writers_lose_nothing_and_the_ledger_verifies() -> None:
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL test: set PROCESSOR_TEST_POSTGRES_URL to run it")
    done = subprocess.run(
        [sys.executable, "-m", "bench.scaling", "--seconds", "2", "--writers", "2"],
        cwd=ROOT,
        env={**os.environ, "PROCESSOR_TEST_POSTGRES_URL": POSTGRES_URL},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["ledger_verify_ok"] is True
    runs = out["runs"]
    assert [(r["writers"], r["controllers"]) for r in runs] == [(2, "different"), (2, "same")]
    for run in runs:
        assert run["errors"] == []
        assert run["contacts"] == run["tallied_by_writers"]
    assert sum(r["contacts"] for r in runs) > 0  # on a loaded machine one run may add none
    assert out["records_checked"] >= sum(r["contacts"] for r in runs)
