"""Writers against one PostgreSQL: `contacts add` per second with 1, 2 and 4 processes.

`python -m bench.scaling [--seconds 8] [--writers 1 2 4]` makes one store on the test server
(PostgreSQL), registers four controllers, each with its own administrator, then for each
number of writers N runs N processes that each log in once and call `contacts.add` through the
Python API in a loop for a fixed time, either every process on its own controller
("different") or all on the same one ("same"). Afterwards it counts the contacts in the events
(not the workers' own tallies), checks that every writer's count adds up and that no writer
failed, and runs `ledger verify` over the whole log, which must pass. It prints one JSON
document; the figures go in docs/performance.md ("Scaling").

Why processes and not threads: the CLI and the API run one process per command or request,
and the client side (sealing, hashing, signing) is CPU work that holds the GIL.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.backends import Backend, postgres_url
from bench.scenarios import UNDERTAKING, sign_agreement
from processor import desk
from processor.app import Processor
from processor.config import Settings
from processor.credentials import keeper
from processor.services.setup import initialise

CONTROLLERS = [f"shard{i}" for i in range(4)]
LIST = "news"


def _admin(controller: str) -> str:
    return f"admin-{controller}"


def setup(settings: Settings) -> None:
    """A store with four paying controllers, each with an administrator whose credential is kept."""
    with initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
    ) as proc:
        sam = desk.login(proc, "sam", proc.issued["sam"])
        for ref in CONTROLLERS:
            sam.controllers.register(ref, f"{ref} A/S", "DK", "paying", "scc", admin=_admin(ref))
            sign_agreement(sam, proc, ref)
        for ref in CONTROLLERS:
            user = _admin(ref)
            desk.login(proc, user, proc.issued[user]).users.rotate_credential(user)
            keeper.keep(settings, user, proc.issued[user])


def writer(
    settings: Settings, controller: str, start_at: float, seconds: float, queue: Any
) -> None:
    """Add contacts to `controller` from `start_at` for `seconds`; report (count, latencies)."""
    tag = uuid.uuid4().hex[:8]
    latencies: list[float] = []
    n = 0
    cpu = 0.0
    error = None
    try:
        with Processor.open(settings) as proc:
            user = _admin(controller)
            session = desk.login(proc, user, keeper.kept(settings, user) or "")
            time.sleep(max(0.0, start_at - time.time()))
            end = start_at + seconds
            cpu = time.process_time()
            while time.time() < end:
                began = time.perf_counter()
                session.contacts.add(controller, LIST, f"w{tag}-{n}@scale.example", "email:form")
                proc.end_command()
                latencies.append(time.perf_counter() - began)
                n += 1
            cpu = time.process_time() - cpu
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        error = f"{type(exc).__name__}: {exc}"
    queue.put((n, latencies, error, cpu))


def postgres_cpu_s() -> float | None:
    """CPU seconds used so far by the local PostgreSQL server (None when it is not local).

    Live server processes count their own time; backends that have exited count in their
    parent's (the postmaster's) reaped-children time. Other clients of the same server count
    too: on a shared machine this is an upper bound for the benchmark's share.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, _, rest = text.partition(") ")
        if not name.endswith("(postgres"):
            continue
        fields = rest.split()
        # utime, stime, cutime, cstime are fields 14-17 of stat(5); `rest` starts at field 3.
        total += sum(int(f) for f in fields[11:15])
        found = True
    return total / tick if found else None


def contacts_in_events(proc: Processor) -> int:
    """How many `ContactAdded` events the log holds (read from the events, not the tallies)."""
    count = 0
    start = 1
    while True:
        page = proc.store.recorder.select_notifications(start=start, limit=1000)
        if not page:
            return count
        count += sum(1 for n in page if n.topic.endswith("Contact.ContactAdded"))
        start = page[-1].id + 1


def run(settings: Settings, writers: int, same: bool, seconds: float) -> dict[str, Any]:
    """One configuration: `writers` processes on one controller (`same`) or one each."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 3.0  # every process opened its store and logged in by then
    procs = [
        ctx.Process(
            target=writer,
            args=(settings, CONTROLLERS[0 if same else i], start_at, seconds, queue),
        )
        for i in range(writers)
    ]
    with Processor.open(settings) as proc:
        before = contacts_in_events(proc)
    server_before = postgres_cpu_s()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    server_after = postgres_cpu_s()
    with Processor.open(settings) as proc:
        after = contacts_in_events(proc)
    tallied = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    cpu = sum(r[3] for r in results)
    return {
        "writers": writers,
        "controllers": "same" if same else "different",
        "seconds": seconds,
        "contacts": after - before,
        "tallied_by_writers": tallied,
        "commands_per_s": (after - before) / seconds,
        "median_ms": 1000 * latencies[len(latencies) // 2] if latencies else None,
        "p90_ms": 1000 * latencies[(len(latencies) * 9) // 10] if latencies else None,
        # Client CPU (sealing, hashing, signing, SQLAlchemy) per command, all writers together.
        "client_cpu_ms_per_command": 1000 * cpu / tallied if tallied else None,
        "server_cpu_ms_per_command": (
            1000 * (server_after - server_before) / tallied
            if tallied and server_before is not None and server_after is not None
            else None
        ),
        "errors": [r[2] for r in results if r[2]],
    }


def main(argv: list[str] | None = None) -> int:
    """Run every configuration on one fresh PostgreSQL store and print the figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.scaling")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args(argv)
    backend = Backend("postgres", Path(tempfile.mkdtemp(prefix="bench-scaling-")), postgres_url())
    try:
        settings = backend.settings("scaling")
        setup(settings)
        rows = []
        for writers in args.writers:
            for same in (False, True):
                if writers == 1 and same:
                    continue  # one writer on one controller: the same as "different"
                row = run(settings, writers, same, args.seconds)
                print(json.dumps(row), file=sys.stderr)
                rows.append(row)
        with Processor.open(settings) as proc:
            report = proc.ledger.verify()
        out = {
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
            "runs": rows,
            "ledger_verify_ok": report.ok,
            "records_checked": report.records_checked,
        }
        print(json.dumps(out, indent=2))
        if not report.ok or any(
            r["errors"] or r["contacts"] != r["tallied_by_writers"] for r in rows
        ):
            return 1
        return 0
    finally:
        backend.cleanup()


if __name__ == "__main__":
    sys.exit(main())
