# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures for the ledger tests (a conftest, because tests/ledger is not a package)."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from ledger import LeafRecord, Signer, Verifier

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

POSTGRES_ENV = "PROCESSOR_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def signer() -> Signer:
    """Return a deterministic log key, so failures reproduce byte for byte."""
    return Signer.from_private_bytes("example.com/ledger-test", bytes(range(32)))


@pytest.fixture(scope="session")
def verifier(signer: Signer) -> Verifier:
    return signer.verifier()


@pytest.fixture(scope="session")
def make_records() -> Callable[[int], list[LeafRecord]]:
    """Build n records with gapped positions (10*i + 1) so an inserted record can fit."""

    def make(n: int) -> list[LeafRecord]:
        return [
            LeafRecord(
                position=10 * i + 1,
                originator_id=f"00000000-0000-4000-8000-{i % 7:012d}",
                originator_version=i // 7 + 1,
                topic="processor.domain.contacts:Contact.Updated",
                state=bytes([i % 251]) * (5 + i % 13) + i.to_bytes(4, "big"),
            )
            for i in range(n)
        ]

    return make


def _postgres_url() -> sa.URL:
    url = sa.make_url(os.environ[POSTGRES_ENV])
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    return url


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator[sa.Engine]:
    """Yield a fresh database: SQLite always; PostgreSQL in a throwaway schema if configured."""
    if request.param == "sqlite":
        eng = sa.create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
        yield eng
        eng.dispose()
        return
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"set {POSTGRES_ENV} (e.g. postgresql://root@127.0.0.1:5432/test) to run")
    base = sa.create_engine(_postgres_url())
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    with base.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield base.execution_options(schema_translate_map={None: schema})
    finally:
        with base.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        base.dispose()
