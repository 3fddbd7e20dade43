"""`init` again at the path of a deleted store: one line naming the leftover keys (RET-5)."""

from __future__ import annotations

import shutil

import sqlalchemy as sa
from cli_helpers import Cli, run_processor
from support import pg_engine

from processor.config import Settings


def _delete_data(settings: Settings) -> None:
    """What the operator did: the data went, the keys (kept apart, RET-5) stayed."""
    shutil.rmtree(settings.data_dir, ignore_errors=True)
    if settings.database_url:
        schema = settings.events_location().schema
        engine = pg_engine()
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_init_over_leftover_keys_names_them_and_writes_nothing__RET_5(settings):
    """Deleting a store's data and running `init` at the same path meets the old store's keys:
    exit 2 with one line naming the key folder (or key schema) and what to do; nothing written.
    """
    cli = Cli(settings)
    cli.init()
    _delete_data(settings)
    error = cli.fails(2, "init", "--gdpa", "grete", "--system-manager", "sam")
    if settings.database_url:
        assert f"key store schema {settings.keystore_location().schema}" in error
    else:
        assert f"key folder {settings.key_dir()}" in error
    assert "move it away" in error
    assert not (settings.data_dir / "events.sqlite").exists()
    if not settings.database_url:
        shutil.rmtree(settings.key_dir())  # the advice taken: init then succeeds
        assert cli.init()["gdpa"] == "grete"


def test_internal_error_traceback_shows_at_debug_level_only(tmp_path):
    """An internal error is one line; with PROCESSOR_LOG_LEVEL=DEBUG the exception is logged."""
    env: dict[str, str | None] = {
        "PROCESSOR_DATA_DIR": str(tmp_path / "d"),
        "PROCESSOR_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "PROCESSOR_CREDENTIAL": "x",
    }
    quiet = run_processor(["--as", "sam", "controllers", "show", "x"], env)
    assert quiet.returncode == 4
    assert "Traceback" not in quiet.stderr
    loud = run_processor(
        ["--as", "sam", "controllers", "show", "x"], {**env, "PROCESSOR_LOG_LEVEL": "DEBUG"}
    )
    assert loud.returncode == 4
    assert "internal_error" in loud.stderr
    assert "Traceback" in loud.stderr
    assert "OperationalError" in loud.stderr
