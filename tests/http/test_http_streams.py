"""Streamed exports: nothing complete reaches a client unless the writer finished (SUBJ-6)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from http_helpers import TestClient

from processor.api.streams import StreamCutShortError, streamed
from processor.kernel.errors import ConflictError


def _app(write) -> FastAPI:
    app = FastAPI()

    @app.get("/x")
    async def x():
        return await streamed(write, "text/plain")

    return app


def test_a_failure_after_the_first_chunks_drops_the_stream__SUBJ_6():
    """A writer that fails after sending data never ends the response as if it were whole."""

    def write(out) -> None:
        for _ in range(5):
            out.write("a" * 100_000)  # several chunks are already on their way
        raise ConflictError("the store changed while the command ran")

    with TestClient(_app(write)) as client, pytest.raises(StreamCutShortError):
        client.get("/x")


def test_the_last_chunk_waits_for_the_writer__SUBJ_6():
    """A small export that fails when it is recorded gets an error status, not a 200 body."""

    def write(out) -> None:
        out.write("{}")
        out.flush()  # the service flushes before it records the export
        raise ValueError("recording failed")

    with TestClient(_app(write), raise_server_exceptions=False) as client:
        assert client.get("/x").status_code == 500


def test_a_conflict_before_anything_was_sent_is_retried__SUBJ_6():
    """A concurrent writer's conflict before the first byte went out is simply run again."""
    calls = []

    def write(out) -> None:
        calls.append(1)
        if len(calls) < 3:
            raise ConflictError("the store changed while the command ran")
        out.write("done")

    with TestClient(_app(write)) as client:
        r = client.get("/x")
    assert (r.status_code, r.text, len(calls)) == (200, "done", 3)
