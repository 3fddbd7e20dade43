"""Shared test support: backends, fresh stores, PostgreSQL schemas.

A module of its own (not conftest) so test modules in any folder import it unambiguously.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from processor import desk
from processor.app import Processor
from processor.config import Settings, with_schema
from processor.desk import Desk
from processor.kernel.clock import FixedClock
from processor.services.setup import initialise

POSTGRES_URL = os.environ.get("PROCESSOR_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("PROCESSOR_REQUIRE_POSTGRES") == "1"
# Confidentiality signed and training taken, for the staff that tests create (ACC-1).
UNDERTAKING = ("2026-01-05", "2026-01-06")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


def pg_engine() -> sa.Engine:
    """An engine on the test PostgreSQL database."""
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1).split("?")[0]
    return sa.create_engine(url)


def drop_schemas(*schemas: str) -> None:
    """Drop test schemas (none for a SQLite store, so callers need not check the backend)."""
    if not schemas:
        return
    engine = pg_engine()
    with engine.begin() as conn:
        for schema in schemas:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def make_settings(
    backend: str, tmp_path: Path, *, folder: str = "data"
) -> tuple[Settings, list[str]]:
    """Settings for a fresh store on `backend`, and the schemas to drop afterwards.

    The one place that makes test settings: the data folder is `tmp_path / folder`; on
    PostgreSQL the events and keys get a fresh pair of schemas, and without
    PROCESSOR_TEST_POSTGRES_URL the test skips with the reason shown. Usable from fixtures
    of any scope (it takes a folder, not a fixture).
    """
    if backend == "sqlite":
        return Settings(data_dir=tmp_path / folder), []
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL test: set PROCESSOR_TEST_POSTGRES_URL to run it")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=tmp_path / folder,
        database_url=with_schema(POSTGRES_URL, schema),
        keystore_url=with_schema(POSTGRES_URL, f"{schema}_keys"),
    )
    return settings, [schema, f"{schema}_keys"]


def login(proc: Processor, name: str) -> Desk:
    """The desk of `name`, logged in with the credential this process issued to them.

    Tests act as people the way every caller does: through `processor.desk.login` and a personal
    credential (ACC-12). The credential comes from `proc.issued`, where the processor leaves
    the text of each credential it issued for the caller that asked for it.
    """
    try:
        credential = proc.issued[name]
    except KeyError:
        credential = "pcr1_000000000000_no-credential-was-issued-in-this-process"
    person = desk.login(proc, name, credential)
    user = person.find_user(name)
    if user is not None and user.credential_handed_over:
        # Handed over by the processor's staff: replace it, as its holder must (ACC-13).
        person.users.rotate_credential(name)
        person = desk.login(proc, name, proc.issued[name])
    return person


def sign_agreement(proc: Processor, ref: str, edition: str | None = None) -> None:
    """Record `ref`'s signed agreement of the edition it registered on (INSTR-5).

    Processing for a controller (adding, importing, sending) waits until its agreement is on
    record, so fixtures that process record one the way the system manager does.
    """
    sam = login(proc, "sam")
    signed = edition or sam.controllers.get(ref).agreement
    sam.agreements.record(
        ref,
        signed,
        proc.now().date().isoformat(),
        f"{signed} agreement between the processor and {ref}".encode(),
        "Sam Manager",
        f"Administrator of {ref}",
    )


SUBPROCESSOR_AGREEMENT = b"Sub-processor agreement: the same obligations; SCC 7.6 beneficiary."


def keep_subprocessor_agreement(proc: Processor, name: str, user: str = "grete") -> None:
    """Keep the text of the agreement `name` was proposed with, as engagement needs (SUB-5).

    The reference and date stay those given at `propose`; only the text's hash is added.
    """
    desk = login(proc, user)
    proposed = desk.subprocessors.get(name).details
    desk.subprocessors.record_agreement(
        name,
        proposed.agreement_ref,
        agreement_date=proposed.agreement_date,
        beneficiary_clause=True,
        text=SUBPROCESSOR_AGREEMENT,
    )


def register_signed(proc: Processor, ref: str, name: str, account: str, edition: str,
                    admin: str | None = None, country: str = "DK") -> None:  # fmt: skip
    """Register a controller as the system manager and record its signed agreement (INSTR-5)."""
    login(proc, "sam").controllers.register(ref, name, country, account, edition, admin=admin)
    sign_agreement(proc, ref, edition)


def open_support_case(proc: Processor, controller: str, admin: str, case: str = "T-1") -> str:
    """The controller's administrator opens a support case for the processor's support (ACC-4)."""
    login(proc, admin).controllers.instruct(
        controller, "support-request", f"please look at {case}", {"case": case}
    )
    return case


def support_view(
    proc: Processor, staff: str, controller: str, admin: str, **options: Any
) -> dict[str, Any]:
    """`staff`'s support view of `controller`, for a case its `admin` opens first (ACC-4)."""
    case = open_support_case(proc, controller, admin)
    return login(proc, staff).access.support_view(
        controller, case=case, reason="a test looks at the support view", **options
    )


class fresh_store:  # noqa: N801 - used like a function: `with fresh_store(backend) as proc:`
    """A new initialised store per hypothesis example (function fixtures run once per test)."""

    def __init__(self, backend: str, clock: FixedClock | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="processor-test-")
        self.settings, self._schemas = make_settings(backend, Path(self._tmp.name))
        self.clock = clock or FixedClock(START)

    def __enter__(self) -> Processor:
        self.proc = initialise(
            self.settings,
            gdpa_undertaking=UNDERTAKING,
            manager_undertaking=UNDERTAKING,
            gdpa="grete",
            system_manager="sam",
            clock=self.clock,
        )
        register_signed(self.proc, "acme", "Acme A/S", "paying", "scc", admin="alice")
        return self.proc

    def __exit__(self, *exc: object) -> None:
        self.proc.close()
        if self._schemas:
            drop_schemas(*self._schemas)
        self._tmp.cleanup()
