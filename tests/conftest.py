"""Fixtures: one behaviour suite, run on SQLite and on PostgreSQL.

PostgreSQL tests read PROCESSOR_TEST_POSTGRES_URL and skip with a visible reason without it.
CI sets PROCESSOR_REQUIRE_POSTGRES=1, which turns any skipped PostgreSQL test into a failure,
and PROCESSOR_REQUIRE_BROWSER=1, which does the same for a skipped browser test (`*_browser.py`,
which skip without headless Chromium).
Each PostgreSQL test gets its own pair of schemas (events, keys), dropped afterwards.
The command-line modules share one initialised store per module and backend (`shared`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cli_helpers import shared_store
from support import (
    BACKENDS,
    REQUIRE_POSTGRES,
    START,
    UNDERTAKING,
    drop_schemas,
    login,
    make_settings,
    sign_agreement,
)

from processor.app import Processor
from processor.config import Settings
from processor.kernel.clock import FixedClock
from processor.services.setup import initialise

_skipped_postgres: list[str] = []
_skipped_browser: list[str] = []
REQUIRE_BROWSER = os.environ.get("PROCESSOR_REQUIRE_BROWSER") == "1"


@pytest.fixture(autouse=True, scope="session")
def _own_config_home(tmp_path_factory: pytest.TempPathFactory):
    """Kept credentials and master keys go to a test folder, never the tester's ~/.config."""
    import os

    old = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    yield
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


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
    processor = initialise(
        settings,
        gdpa_undertaking=UNDERTAKING,
        manager_undertaking=UNDERTAKING,
        gdpa="grete",
        system_manager="sam",
        clock=clock,
    )
    yield processor
    processor.close()


@pytest.fixture
def acme(proc: Processor) -> Processor:
    """A store with two controllers: acme (paying, scc; admin alice, marketing mia,
    bookkeeper ben) and beta (freemium, dpa-2018; admin bob).
    """
    sam = login(proc, "sam")
    sam.controllers.register("acme", "Acme A/S", "DK", "paying", "scc", admin="alice")
    sam.controllers.register("beta", "Beta ApS", "DK", "freemium", "dpa-2018", admin="bob")
    # Processing needs each controller's signed agreement on record (INSTR-5).
    sign_agreement(proc, "acme")
    sign_agreement(proc, "beta")
    alice = login(proc, "alice")
    alice.users.add("mia", "marketing", controller="acme")
    alice.users.add("ben", "bookkeeper", controller="acme")
    return proc


@pytest.fixture(scope="module", params=BACKENDS)
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """An initialised store (GDPA `grete`, system manager `sam`) shared by one module's tests.

    Module-scoped, so each module that asks for it gets its own store per backend: its tests
    each register a controller of their own (`new_tenant`) and never see another module's.
    """
    with shared_store(request.param, tmp_path_factory.mktemp("store")) as runner:
        yield runner


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped PostgreSQL tests."""
    if report.skipped and not hasattr(report, "wasxfail") and "[postgres" in report.nodeid:
        _skipped_postgres.append(report.nodeid)
    if report.skipped and "_browser.py" in report.nodeid and "Chromium" in str(report.longrepr):
        _skipped_browser.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say loudly when PostgreSQL tests did not run."""
    if _skipped_postgres:
        terminalreporter.write_line(
            f"{len(_skipped_postgres)} PostgreSQL tests skipped"
            + (" -- FAILING: PROCESSOR_REQUIRE_POSTGRES=1" if REQUIRE_POSTGRES else ""),
            red=REQUIRE_POSTGRES,
            yellow=not REQUIRE_POSTGRES,
        )
    if _skipped_browser:
        terminalreporter.write_line(
            f"{len(_skipped_browser)} browser tests skipped (no headless Chromium)"
            + (" -- FAILING: PROCESSOR_REQUIRE_BROWSER=1" if REQUIRE_BROWSER else ""),
            red=REQUIRE_BROWSER,
            yellow=not REQUIRE_BROWSER,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI, a skipped PostgreSQL or browser test fails the run."""
    if REQUIRE_BROWSER and _skipped_browser and session.exitstatus == 0:
        session.exitstatus = 1
    if REQUIRE_POSTGRES and _skipped_postgres and session.exitstatus == 0:
        session.exitstatus = 1
