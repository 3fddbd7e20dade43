"""The HTTP figure (issue 28): `processor serve` against a plain FastAPI + eventsourcing app.

Both servers run under uvicorn with the settings of `processor serve` (one worker on SQLite, two
on PostgreSQL), on fresh stores of the same backend. 32 client threads, each with its own
keep-alive `httpx.Client`, post new contacts (unique e-mails) for a fixed time after a short
warm-up that is not counted. Baseline and ours take turns for `reps` rounds; the best throughput
of each is kept, with the p50/p99 of that round. Afterwards our store must hold exactly one
`ContactAdded` per 201 answer (nothing lost, nothing doubled) and its ledger must verify.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from bench.backends import Backend
from bench.baselines import PlainApp
from bench.httpbaseline import ENV_VAR
from bench.scenarios import CONTROLLER, LIST, USER, setup_store
from processor.app import Processor
from processor.config import Settings
from processor.credentials import keeper

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32
PATH = f"/v1/controllers/{CONTROLLER}/contacts"
START_TIMEOUT = 90.0
BASELINE_HEALTH = "/health"  # answers with the worker's pid; ours logs it with each request
GRACEFUL_SECONDS = 30  # `processor.api.serve.GRACEFUL_SECONDS`


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def store_args(settings: Settings) -> list[str]:
    """The global options naming the store."""
    args = ["--data-dir", str(settings.data_dir)]
    if settings.database_url:
        args += ["--database-url", settings.database_url]
        args += ["--keystore-url", str(settings.keystore_url)]
    return args


class Served:
    """A server in a subprocess (stderr to a log file), waited for until every worker answers."""

    def __init__(
        self,
        name: str,
        command: list[str],
        env: dict[str, str],
        log: Path,
        url: str,
        health: str,
        workers: int,
    ) -> None:
        self.name = name
        self.url = url
        self.log_path = log
        self._log: IO[bytes] = log.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._log
        )
        try:
            self._wait(health, workers)
        except BaseException:
            self.stop()
            raise

    def _pids(self, health: str) -> set[int]:
        """Pids that answered so far: from the body (baseline) or the request log (ours)."""
        answer = httpx.get(self.url + health, timeout=5, headers={"Connection": "close"})
        answer.raise_for_status()
        if health == BASELINE_HEALTH:
            return {int(answer.json()["pid"])}
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return {
            int(json.loads(line)["pid"])
            for line in text.splitlines()
            if line.startswith("{") and '"request"' in line
        }

    def _wait(self, health: str, workers: int) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        seen: set[int] = set()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {tail}")
            with contextlib.suppress(httpx.HTTPError):
                seen |= self._pids(health)
                if len(seen) >= workers:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: {len(seen)} of {workers} workers answered in time")

    def stop(self) -> int:
        """SIGTERM (requests in flight finish), then wait; the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(GRACEFUL_SECONDS + 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self._log.close()
        return code


def serve_ours(settings: Settings, workers: int, folder: Path) -> Served:
    """`processor serve` over `settings` (an initialised store)."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "processor"),
        *store_args(settings),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    return Served(
        "processor serve",
        command,
        {**os.environ},
        folder / "ours.log",
        f"http://127.0.0.1:{port}",
        "/v1/ledger/head",
        workers,
    )


def serve_baseline(es_env: dict[str, str], workers: int, folder: Path) -> Served:
    """The baseline under uvicorn, with the settings `processor serve` gives uvicorn."""
    PlainApp(env=es_env).close()  # the tables exist before two workers race to create them
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "bench.httpbaseline:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        str(GRACEFUL_SECONDS),
    ]
    env = {**os.environ, ENV_VAR: json.dumps(es_env)}
    return Served(
        "baseline",
        command,
        env,
        folder / "baseline.log",
        f"http://127.0.0.1:{port}",
        BASELINE_HEALTH,
        workers,
    )


@dataclass
class Round:
    """What one round of clients against one server saw."""

    latencies: list[float] = field(default_factory=list)  # counted requests, seconds
    statuses: Counter[int] = field(default_factory=Counter)  # every answer, warm-up included
    failures: int = 0  # requests that got no answer at all
    created: int = 0  # 201 answers, warm-up included
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(client: httpx.Client, tag: str, start: float, end: float, out: Round) -> None:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    failures = created = n = 0
    with client:
        while (began := time.perf_counter()) < end:
            n += 1
            try:
                answer = client.post(PATH, json=new_contact(f"{tag}-{n}"))
            except httpx.HTTPError:
                failures += 1
                continue
            done = time.perf_counter()
            statuses[answer.status_code] += 1
            created += answer.status_code == 201
            if start <= done <= end:
                latencies.append(done - began)
    with out.lock:
        out.latencies.extend(latencies)
        out.statuses.update(statuses)
        out.failures += failures
        out.created += created


def new_contact(name: str) -> dict[str, str]:
    """The body of one `contacts add` of a new person (`name` is unique in the run)."""
    return {"list": LIST, "email": f"{name}@example.com", "consent": "email:form"}


def prime(url: str, headers: dict[str, str], label: str, count: int = 5) -> int:
    """A few requests one after another (the first request of a worker loads what it defers).

    Their 201 answers count toward the stored events, not toward the figures.
    """
    with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
        return sum(
            client.post(PATH, json=new_contact(f"{label}-{n}")).status_code == 201
            for n in range(count)
        )


def drive(
    url: str, headers: dict[str, str], label: str, warmup: float, seconds: float
) -> dict[str, Any]:
    """`CLIENTS` threads posting new contacts; figures of the `seconds` after the warm-up.

    A request counts when its answer arrives inside the measured window: throughput is answers
    per second there, and the latencies are theirs (a request under way when the window opens
    counts whole, since under 32 clients one request can take longer than the warm-up).
    """
    out = Round()
    # Clients are built before the clock starts (each loads a TLS context: tens of ms).
    clients = [httpx.Client(base_url=url, headers=headers, timeout=120) for _ in range(CLIENTS)]
    start = time.perf_counter() + warmup
    end = start + seconds
    threads = [
        threading.Thread(target=_client, args=(client, f"{label}-c{i}", start, end, out))
        for i, client in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(out.latencies)
    count = len(ordered)
    errors = sum(n for status, n in out.statuses.items() if not 200 <= status < 300)
    return {
        "requests": count,
        "rps": count / seconds,
        # Nearest rank, the same way for both: p99 >= p50 however few answers there are.
        "p50_ms": ordered[int(0.5 * (count - 1))] * 1000 if count else None,
        "p99_ms": ordered[int(0.99 * (count - 1))] * 1000 if count else None,
        "errors": errors + out.failures,
        "statuses": {str(k): v for k, v in sorted(out.statuses.items())},
        "created": out.created,
    }


def added_events(settings: Settings, verify: bool = True) -> tuple[int, dict[str, Any]]:
    """`ContactAdded` events in the notification log, and what `ledger verify` reports."""
    with Processor.open(settings) as proc:
        counts: Counter[str] = Counter()
        start = 1
        while notes := proc.store.recorder.select_notifications(start=start, limit=1000):
            counts.update(n.topic.rsplit(".", 1)[-1] for n in notes)
            start = notes[-1].id + 1
        if not verify:
            return counts["ContactAdded"], {}
        report = proc.ledger.verify()
        return counts["ContactAdded"], {
            "ok": bool(report.ok),
            "records": report.records_checked,
            "checkpoints": report.checkpoints_checked,
            "reason": report.reason,
        }


def _best(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    best = max(rounds, key=lambda r: float(r["rps"]))
    return {
        "rps": round(best["rps"], 1),
        "p50_ms": round(best["p50_ms"], 2) if best["p50_ms"] is not None else None,
        "p99_ms": round(best["p99_ms"], 2) if best["p99_ms"] is not None else None,
        "errors": sum(int(r["errors"]) for r in rounds),
        "rounds": rounds,
    }


def _ratio(ours: float | None, base: float | None) -> float | None:
    return round(ours / base, 3) if ours and base else None


def measure_http(
    backend: Backend, seconds: float, reps: int, warmup: float, log: Any
) -> dict[str, Any]:
    """The HTTP figure on one backend: both servers, `reps` alternating rounds, the checks."""
    workers = 2 if backend.is_postgres else 1
    settings = backend.settings("http")
    setup_store(settings)
    auth = {"Authorization": f"Bearer {keeper.kept(settings, USER) or ''}"}
    folder = backend.root / "http-logs"
    folder.mkdir(parents=True, exist_ok=True)
    es_env = backend.eventsourcing_env("es_http")
    before, _ = added_events(settings, verify=False)
    ours_rounds: list[dict[str, Any]] = []
    base_rounds: list[dict[str, Any]] = []
    baseline = serve_baseline(es_env, workers, folder)
    try:
        log(f"{backend.name}: HTTP servers starting")
        ours = serve_ours(settings, workers, folder)
        primed = prime(ours.url, auth, "primer")
        prime(baseline.url, {}, "primer")
        try:
            for rep in range(1, reps + 1):
                log(f"{backend.name}: HTTP round {rep}/{reps}, baseline ({seconds:g} s)")
                base_rounds.append(drive(baseline.url, {}, f"b{rep}", warmup, seconds))
                log(f"{backend.name}: HTTP round {rep}/{reps}, processor serve")
                ours_rounds.append(drive(ours.url, auth, f"o{rep}", warmup, seconds))
        finally:
            ours_code = ours.stop()
    finally:
        baseline.stop()
    log(f"{backend.name}: HTTP checks (stored events, ledger verify)")
    stored, verification = added_events(settings)
    verified = bool(verification["ok"])
    answered = primed + sum(int(r["created"]) for r in ours_rounds)
    backend.drop("http")
    backend.drop("es_http")
    mine, theirs = _best(ours_rounds), _best(base_rounds)
    return {
        "clients": CLIENTS,
        "workers": workers,
        "seconds": seconds,
        "warmup_s": warmup,
        "reps": reps,
        "ours": mine,
        "baseline": theirs,
        "http_throughput_vs_baseline": _ratio(mine["rps"], theirs["rps"]),
        # Time ratio: lower is better for ours, as with the other latency figures.
        "http_p99_vs_baseline": _ratio(mine["p99_ms"], theirs["p99_ms"]),
        "created_201": answered,
        "stored_contact_added": stored - before,
        "events_match": stored - before == answered,
        "ledger_verified": verified,
        # The group commit's figure: records and the signed checkpoints covering them.
        "ledger_verify": verification,
        "server_exit_code": ours_code,
        "ok": stored - before == answered and verified and mine["errors"] == theirs["errors"] == 0,
    }
