"""A bounded load test of a real `processor serve` process (slow; CI runs it).

About 32 concurrent clients for 20 seconds from loopback, a mix of adds, finds, unsubscribes
and single-subject exports, against SQLite (one worker) and PostgreSQL (two workers). It prints
requests/s and p99 latency (docs/http-api.md keeps the figures), then checks that nothing was
lost or duplicated by counting the stored events, and that the ledger verifies.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from served import Server, new_store

from processor.app import Processor
from processor.readmodels import tables as t

CLIENTS = int(os.environ.get("PROCESSOR_LOAD_CLIENTS", "32"))
SECONDS = float(os.environ.get("PROCESSOR_LOAD_SECONDS", "20"))
PG_WORKERS = int(os.environ.get("PROCESSOR_LOAD_PG_WORKERS", "2"))


def _client(url: str, auth: dict[str, str], n: int, until: float, out: list) -> Counter:
    """One client's loop; appends (operation, status, seconds) and counts what it changed."""
    rng = random.Random(n)  # noqa: S311 - a reproducible mix, not a secret
    mine: list[tuple[str, str]] = []  # (contact id, e-mail) this client added and may still use
    done: Counter = Counter()
    with httpx.Client(base_url=url, headers=auth, timeout=120) as c:
        while time.monotonic() < until:
            roll = rng.random()
            started = time.perf_counter()
            if roll < 0.4 or not mine:
                op, email = "add", f"c{n}-{len(mine) + done['unsubscribed']}@example.com"
                r = c.post("/v1/controllers/acme/contacts",
                           json={"list": "news", "email": email, "consent": "email:form"})  # fmt: skip
                if r.status_code == 201:
                    mine.append((r.json()["contact_id"], email))
                    done["created"] += r.json()["created"]
            elif roll < 0.7:
                op = "find"
                r = c.get("/v1/controllers/acme/contacts", params={"email": rng.choice(mine)[1]})
            elif roll < 0.9:
                op = "unsubscribe"
                cid, _ = mine.pop(rng.randrange(len(mine)))
                r = c.post(
                    f"/v1/controllers/acme/contacts/{cid}/unsubscribe", json={"list": "news"}
                )
                done["unsubscribed"] += r.status_code == 200
            else:
                op = "export"
                r = c.get("/v1/controllers/acme/export", params={"contact": rng.choice(mine)[0]})
                done["exported"] += r.status_code == 200
            out.append((op, r.status_code, time.perf_counter() - started))
    return done


def _topics(proc: Processor) -> Counter:
    counts: Counter = Counter()
    start = 1
    while True:
        notes = proc.store.recorder.select_notifications(start=start, limit=1000)
        if not notes:
            return counts
        counts.update(n.topic.rsplit(".", 1)[-1] for n in notes)
        start = notes[-1].id + 1


@pytest.mark.slow
def test_load_32_clients_for_20_seconds(backend, settings, tmp_path):
    """Throughput and p99 under load; afterwards every event is there once, the ledger verifies."""
    credentials = new_store(settings)
    auth = {"Authorization": f"Bearer {credentials['alice']}"}
    workers = PG_WORKERS if backend == "postgres" else 1
    results: list = []
    lock = threading.Lock()
    with Server(settings, workers=workers) as server:
        with Processor.open(settings) as proc:
            before = _topics(proc)
        until = time.monotonic() + SECONDS
        began = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [
                pool.submit(_client, server.url, auth, n, until, results) for n in range(CLIENTS)
            ]
            totals = sum((f.result() for f in futures), Counter())
        elapsed = time.perf_counter() - began
    with lock:
        latencies = sorted(seconds for _, _, seconds in results)
    statuses = Counter(status for _, status, _ in results)
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    per_op = Counter(op for op, _, _ in results)
    print(  # noqa: T201 - the figures are the point of this test
        f"\nLOAD {backend} workers={workers} clients={CLIENTS} seconds={elapsed:.1f} "
        f"requests={len(results)} rps={len(results) / elapsed:.1f} "
        f"p50_ms={latencies[len(latencies) // 2] * 1000:.0f} p99_ms={p99 * 1000:.0f} "
        f"ops={dict(per_op)} statuses={dict(statuses)}"
    )
    assert statuses[500] == 0
    assert set(statuses) <= {200, 201, 409}
    with Processor.open(settings) as proc:
        assert proc.ledger.verify().ok
        added = _topics(proc) - before
        with proc.engines.readmodels.connect() as conn:
            live = conn.execute(
                sa.select(sa.func.count())
                .select_from(t.contacts)
                .where(t.contacts.c.erased.is_(False))
            ).scalar_one()
    # Nothing lost, nothing duplicated: one ContactAdded per created contact, one unsubscribe
    # event per successful unsubscribe, one export record per export.
    assert added["ContactAdded"] == totals["created"] == live
    assert added["UnsubscribedFromList"] == totals["unsubscribed"]
    assert added["DataExported"] == totals["exported"]
