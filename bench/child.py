"""Imports run in a child process of their own, so each one's peak RSS is its own.

`python -m bench.child SPEC_JSON` runs one import (the processor's, or plain eventsourcing's)
and prints one JSON line: the timing and the process's peak resident set size, read from
`VmHWM` in /proc/self/status. (`getrusage` is no use here: Linux carries `ru_maxrss` over
`fork` + `exec`, so a child would report the parent's size whenever the parent is larger.)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from processor.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def _rss_mb() -> float:
    """This process's peak resident set size so far, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    # Elsewhere, getrusage: an upper bound (it may include the parent's size at fork).
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def settings_to_json(settings: Settings) -> dict[str, Any]:
    """What a child needs to open the same store."""
    return {
        "data_dir": str(settings.data_dir),
        "database_url": settings.database_url,
        "keystore_url": settings.keystore_url,
    }


def _settings(spec: dict[str, Any]) -> Settings:
    return Settings(
        data_dir=Path(spec["data_dir"]),
        database_url=spec["database_url"],
        keystore_url=spec["keystore_url"],
    )


def processor_import(settings: Settings, csv_path: Path) -> dict[str, Any]:
    """The real path: `session.imports.import_csv` on the CSV file, as `contacts import` does."""
    from bench.scenarios import as_alice
    from processor.app import Processor

    with Processor.open(settings) as proc:
        rss_before = _rss_mb()
        start, cpu = time.perf_counter(), time.process_time()
        with csv_path.open("rb") as raw:
            result = as_alice(proc).imports.import_csv("acme", raw, "news", "double-opt-in")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "rows": result.rows,
        "added": result.added,
        "rejected": result.rejected,
        "rss_before_mb": rss_before,
    }


def _run(spec: dict[str, Any]) -> dict[str, Any]:
    csv_path = Path(spec["csv"])
    if spec["kind"] == "processor":
        out = processor_import(_settings(spec["settings"]), csv_path)
    elif spec["kind"] == "eventsourcing":
        from bench.baselines import eventsourcing_import

        out = dict(eventsourcing_import(spec["env"], csv_path))
    else:
        raise SystemExit(f"unknown import kind {spec['kind']!r}")
    out["peak_rss_mb"] = _rss_mb()
    return out


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one import in a fresh interpreter and return its report."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.child", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{spec['kind']} import failed:\n{done.stderr[-3000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


if __name__ == "__main__":
    print(json.dumps(_run(json.loads(sys.argv[1]))))
