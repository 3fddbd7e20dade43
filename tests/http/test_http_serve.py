"""`processor serve`: workers per backend, graceful SIGTERM, several processes on one PostgreSQL."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from cli_helpers import run_processor
from served import Server, log_records, new_store, store_args

from processor.app import Processor
from processor.readmodels import tables as t


def _auth(credentials: dict[str, str], name: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials[name]}"}


def test_serve_refuses_several_workers_on_sqlite(tmp_path):
    """The SQLite store has one writer: `--workers 2` is refused in one line, exit 1."""
    from processor.config import Settings

    settings = Settings(data_dir=tmp_path / "data")
    new_store(settings)
    done = run_processor([*store_args(settings), "serve", "--workers", "2"], env={})
    assert done.returncode == 1
    expected = (
        "error: the embedded SQLite store is served by one worker only (asked for 2); "
        "use PostgreSQL (--database-url) for several workers"
    )
    assert done.stderr.strip().splitlines() == [expected]


def test_sigterm_lets_the_request_in_flight_finish(settings, tmp_path):
    """SIGTERM during a streamed import: the import completes, then the server exits; the ledger
    verifies and every row is there.
    """
    credentials = new_store(settings)
    started = threading.Event()
    rows = 600

    def body():
        yield b"email\n"
        started.set()
        for i in range(rows):
            if i % 100 == 0:
                time.sleep(0.3)  # still sending when the signal arrives
            yield f"p{i}@example.com\n".encode()

    server = Server(settings, log=tmp_path / "serve.log")
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(
            httpx.post, f"{server.url}/v1/controllers/acme/contacts/import",
            params={"list": "news", "consent_method": "double-opt-in"},
            headers={**_auth(credentials), "Content-Type": "text/csv"}, content=body(), timeout=60,
        )  # fmt: skip
        assert started.wait(30)
        time.sleep(0.2)
        server.terminate()
        response = future.result()
    # Uvicorn re-raises the signal once it has shut down cleanly, as a service manager expects.
    assert server.stop() in (0, -signal.SIGTERM)
    assert response.status_code == 200, response.text
    assert response.json()["added"] == rows
    log = (tmp_path / "serve.log").read_text()
    lines = log_records(log)
    assert any(
        line.get("route") == "/v1/controllers/{controller}/contacts/import" for line in lines
    )
    assert "@example.com" not in log  # no personal data in the logs
    assert credentials["alice"] not in log  # and no credential
    with Processor.open(settings) as proc:
        assert proc.ledger.verify().ok
        with proc.engines.readmodels.connect() as conn:
            live = conn.execute(sa.select(sa.func.count()).select_from(t.contacts)).scalar_one()
    assert live == rows


@pytest.mark.postgres
def test_two_workers_on_postgres_keep_one_contact_per_email__SUBJ_4(tmp_path):
    """Two worker processes, 8 clients adding the same 20 e-mails: one live contact each,
    nothing lost, the ledger verifies, and both workers answered.
    """
    from support import drop_schemas, make_settings

    settings, schemas = make_settings("postgres", tmp_path)
    try:
        credentials = new_store(settings)
        emails = [f"same{i}@example.com" for i in range(20)]
        with Server(settings, workers=2, log=tmp_path / "serve.log") as server:
            server.wait_for_workers(2)

            def add(n: int) -> list[str]:
                ids = []
                with httpx.Client(base_url=server.url, headers=_auth(credentials), timeout=60) as c:
                    for email in emails[n % 4 :] + emails[: n % 4]:
                        for _ in range(5):  # 409: the store changed under the request; retry
                            r = c.post("/v1/controllers/acme/contacts",
                                       json={"list": "news", "email": email, "consent": "email:form"})  # fmt: skip
                            if r.status_code != 409:
                                break
                        assert r.status_code == 201, r.text
                        ids.append(r.json()["contact_id"])
                return ids

            with ThreadPoolExecutor(8) as pool:
                results = list(pool.map(add, range(8)))
        pids = {r["pid"] for r in log_records((tmp_path / "serve.log").read_text())
                if r.get("event") == "request"}  # fmt: skip
        assert len(pids) == 2
        with Processor.open(settings) as proc:
            assert proc.ledger.verify().ok
            with proc.engines.readmodels.connect() as conn:
                live = (
                    conn.execute(
                        sa.select(t.contacts.c.contact_id).where(t.contacts.c.erased.is_(False))
                    )
                    .scalars()
                    .all()
                )
        assert len(live) == len(emails)
        assert {cid for ids in results for cid in ids} == set(live)
    finally:
        drop_schemas(*schemas)
