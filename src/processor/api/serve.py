"""Running the app under uvicorn: settings handed to worker processes, logs as JSON lines.

`processor serve` passes the store's settings to uvicorn's worker processes through one
environment variable (paths and URLs only; a master key given as PROCESSOR_MASTER_KEY stays
where the operator put it), and each worker builds its own app over its own connections.
Uvicorn's access log is off: it would print query strings, which may hold e-mail addresses;
our own request log names the route template instead.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

from processor.config import Settings
from processor.kernel.errors import RefusedError
from processor.logs import configure

if TYPE_CHECKING:
    from fastapi import FastAPI

SETTINGS_ENV: Final = "PROCESSOR_SERVE_SETTINGS"
GRACEFUL_SECONDS: Final = 30
_PATHS: Final = ("data_dir", "master_key_file", "keystore_path", "checkpoint_log")
_TEXTS: Final = ("database_url", "keystore_url")


def check_workers(settings: Settings, workers: int) -> None:
    """SQLite has one writer and a per-process lock: one worker only; PostgreSQL takes many."""
    if settings.backend == "sqlite" and workers > 1:
        raise RefusedError(
            f"the embedded SQLite store is served by one worker only (asked for {workers}); "
            "use PostgreSQL (--database-url) for several workers",
            rule="SqliteStoreServesOneWorker",
        )


def export_settings(settings: Settings) -> None:
    """Put the settings where worker processes find them."""
    data: dict[str, str | None] = {}
    for name in (*_PATHS, *_TEXTS):
        value = getattr(settings, name, None)
        data[name] = None if value is None else str(value)
    os.environ[SETTINGS_ENV] = json.dumps(data)


def imported_settings() -> Settings:
    """The settings `export_settings` left (or the environment's own)."""
    text = os.environ.get(SETTINGS_ENV)
    settings = Settings.from_env()
    if not text:
        return settings
    data = json.loads(text)
    changes: dict[str, object] = {}
    for name in _PATHS:
        if hasattr(settings, name):
            changes[name] = Path(data[name]) if data.get(name) else getattr(settings, name)
    for name in _TEXTS:
        changes[name] = data.get(name) or getattr(settings, name)
    return replace(settings, **changes)  # type: ignore[arg-type]


def app_from_environment() -> FastAPI:
    """The uvicorn factory: one app per worker process, logging JSON lines."""
    from processor.api.app import create_app

    configure(os.environ.get("PROCESSOR_LOG_LEVEL", "INFO"), json=True)
    return create_app(imported_settings())
