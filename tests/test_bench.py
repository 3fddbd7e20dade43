"""The benchmark harness runs end to end at a tiny size and writes results of the issue's shape."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import POSTGRES_URL

ROOT = Path(__file__).resolve().parent.parent
HEADLINE = (
    "import_per_s",
    "import_vs_eventsourcing",
    "import_vs_raw",
    "single_vs_save",
    "erase_ratio_10000_vs_10",
    "rebuild_vs_read_decode",
    "verify_vs_read",
    "campaign_vs_eventsourcing",
    "export_vs_read_decode",
    "startup_find_vs_python",
    "startup_help_vs_python",
)


@pytest.mark.slow
def test_bench_quick_run_writes_results_and_chart(backend, tmp_path):
    """`python -m bench --quick` prints the table, writes results.json and the SVG chart."""
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL test: set PROCESSOR_TEST_POSTGRES_URL to run it")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--sizes",
            "200,400",
            "--reps",
            "3",
            "--erase-events",
            "120",
            "--backends",
            backend,
            "--out",
            str(out),
        ],
        cwd=ROOT,
        env={**os.environ, "PROCESSOR_TEST_POSTGRES_URL": POSTGRES_URL or ""},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "import vs plain eventsourcing" in done.stdout

    results = json.loads(out.read_text(encoding="utf-8"))
    assert {"date", "machine", backend} <= set(results)
    got = results[backend]
    for key in HEADLINE:
        assert isinstance(got[key], float | int), key
        assert got[key] > 0, key
    assert got["peak_rss_mb_1m"] is None  # only with --large
    assert [e["size"] for e in got["scaling"]] == [200, 400]
    for entry in got["scaling"]:
        assert entry["rebuild_events"] == entry["events"] >= entry["size"]
        assert entry["verify_records"] == entry["events"]
        assert entry["peak_rss_mb"] > 0
    assert got["erase"]["big_events"] == 120
    assert got["single"]["contacts_add"]["n"] == 3
    # Every target of issue 17 that applies to this backend is reported, met or missed
    # (the 1M-contact memory figure only with --large: not measured here).
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from bench.runner import TARGETS

    expected = {m for m, rule in TARGETS.items() if backend in rule or "*" in rule}
    assert set(got["targets"]) == expected
    for metric, verdict in got["targets"].items():
        assert verdict["met"] in ((None,) if metric == "peak_rss_mb_1m" else (True, False))
    assert "(not measured)" in done.stdout
    assert got["startup"]["python_ms"] > 0
    assert got["scaling"][-1]["sent"] == got["scaling"][-1]["export_contacts"] == 400

    # The HTTP figure (issue 28): both servers answered, every 201 is one stored event once,
    # and the ledger verifies after the run.
    http = got["http"]
    for who in ("ours", "baseline"):
        assert http[who]["rps"] > 0, who
        assert http[who]["p50_ms"] > 0 and http[who]["p99_ms"] >= http[who]["p50_ms"], who
        assert http[who]["errors"] == 0, who
    assert http["events_match"] is True
    assert http["ledger_verified"] is True
    assert http["stored_contact_added"] == http["created_201"] > 0
    assert http["workers"] == (2 if backend == "postgres" else 1)
    assert got["http_throughput_vs_baseline"] > 0
    assert got["http_p99_vs_baseline"] > 0
    assert "HTTP adds, 32 clients" in done.stdout

    svg = out.with_suffix(".svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "polyline" in svg
    assert "HTTP adds, 32 clients" in svg
