"""Fixtures: one behaviour suite, run on SQLite and on PostgreSQL.

PostgreSQL tests read PROCESSOR_TEST_POSTGRES_URL and skip with a visible reason without it.
CI sets PROCESSOR_REQUIRE_POSTGRES=1, which turns any skipped PostgreSQL test into a failure.
Each PostgreSQL test gets its own pair of schemas (events, keys), dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from processor.app import Processor
from processor.clock import FixedClock
from processor.config import Settings, with_schema

POSTGRES_URL = os.environ.get("PROCESSOR_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("PROCESSOR_REQUIRE_POSTGRES") == "1"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
_skipped_postgres: list[str] = []


def pg_engine() -> sa.Engine:
    """An engine on the test PostgreSQL database."""
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1).split("?")[0]
    return sa.create_engine(url)


def drop_schemas(*schemas: str) -> None:
    """Drop test schemas."""
    engine = pg_engine()
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def make_settings(backend: str, tmp_path: Path) -> tuple[Settings, list[str]]:
    """Settings for a fresh store on `backend`, and the schemas to drop afterwards."""
    if backend == "sqlite":
        return Settings(data_dir=tmp_path / "data"), []
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL test: set PROCESSOR_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=with_schema(POSTGRES_URL, schema),
        keystore_url=with_schema(POSTGRES_URL, f"{schema}_keys"),
    )
    return settings, [schema, f"{schema}_keys"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend under test."""
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path):
    """Settings of a fresh, empty store on the backend under test."""
    made, schemas = make_settings(backend, tmp_path)
    yield made
    if schemas:
        drop_schemas(*schemas)


@pytest.fixture
def clock() -> FixedClock:
    """A clock the test moves by hand."""
    return FixedClock(START)


@pytest.fixture
def proc(settings: Settings, clock: FixedClock):
    """An initialised store with GDPA `grete` and system manager `sam`."""
    processor = Processor.init(settings, gdpa="grete", system_manager="sam", clock=clock)
    yield processor
    processor.close()


@pytest.fixture
def acme(proc: Processor) -> Processor:
    """A store with two controllers: acme (paying, scc; admin alice, marketing mia,
    bookkeeper ben) and beta (freemium, dpa-2018; admin bob)."""
    sam = proc.session("sam")
    sam.controllers.register("acme", "Acme A/S", "DK", "paying", "scc", admin="alice")
    sam.controllers.register("beta", "Beta ApS", "DK", "freemium", "dpa-2018", admin="bob")
    alice = proc.session("alice")
    alice.users.add("mia", "marketing", controller="acme")
    alice.users.add("ben", "bookkeeper", controller="acme")
    return proc


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped PostgreSQL tests."""
    if report.skipped and "[postgres" in report.nodeid:
        _skipped_postgres.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say loudly when PostgreSQL tests did not run."""
    if _skipped_postgres:
        terminalreporter.write_line(
            f"{len(_skipped_postgres)} PostgreSQL tests skipped"
            + (" -- FAILING: PROCESSOR_REQUIRE_POSTGRES=1" if REQUIRE_POSTGRES else ""),
            red=REQUIRE_POSTGRES, yellow=not REQUIRE_POSTGRES,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a skipped PostgreSQL test fails the run."""
    if REQUIRE_POSTGRES and _skipped_postgres and session.exitstatus == 0:
        session.exitstatus = 1


class fresh_store:  # noqa: N801 - used like a function: `with fresh_store(backend) as proc:`
    """A new initialised store per hypothesis example (function fixtures run once per test)."""

    def __init__(self, backend: str, clock: FixedClock | None = None) -> None:
        import tempfile

        self._tmp = tempfile.TemporaryDirectory(prefix="processor-test-")
        self.settings, self._schemas = make_settings(backend, Path(self._tmp.name))
        self.clock = clock or FixedClock(START)

    def __enter__(self) -> Processor:
        self.proc = Processor.init(self.settings, gdpa="grete", system_manager="sam", clock=self.clock)
        self.proc.session("sam").controllers.register("acme", "Acme A/S", "DK", "paying", "scc", admin="alice")
        return self.proc

    def __exit__(self, *exc: object) -> None:
        self.proc.close()
        if self._schemas:
            drop_schemas(*self._schemas)
        self._tmp.cleanup()
