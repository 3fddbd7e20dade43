"""Fixtures for the HTTP API: the real ASGI app over a fresh store, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from http_helpers import Api, TestClient
from support import login

from processor.api.app import create_app


@pytest.fixture
def desk(acme):
    """Acme and beta, with a trained processor support user `sven` and a developer `dev`."""
    sam = login(acme, "sam")
    sam.users.add("sven", "support", confidentiality_signed="2026-01-05", trained="2026-01-06")
    sam.users.add("dev", "developer")
    for name in ("mia", "ben", "bob"):
        login(acme, name)
    return acme


@pytest.fixture
def api(desk, settings, clock):
    """The app over the `desk` store, as a test client (the app opens the store itself)."""
    app = create_app(settings, clock=clock, opengdpr={"backoff": (0.05, 0.1), "timeout": 2.0})
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(desk, client)
