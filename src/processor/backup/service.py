"""`processor backup`: consistent copies of a live store, events and keys in separate folders.

Events, read models and ledger go into one folder; the key store into another, never the same:
whoever holds both holds every erased subject's data as it was at backup time, so the two are
meant to be kept (and destroyed) on different schedules. The SQLite files are copied in the order
read models, ledger, events: each copy is a snapshot, and since a command commits its events
before the ledger signs them and the projector follows the ledger, that order guarantees the
copied events hold everything the copied ledger signed, and the ledger everything projected.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from processor.backup import copying
from processor.backup.manifest import EVENTS, KEYS, MANIFEST, Manifest, kind_of, sha256_file
from processor.config import private_dir
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import kek_status
from processor.link.tables import checkpoint_log_path

if TYPE_CHECKING:
    from pathlib import Path

    from processor.session import Session

DATA_FILES = ("readmodels.sqlite", "ledger.sqlite", "events.sqlite")  # copy order, see above
KEYS_FILE = "keys.sqlite"
EVENTS_DUMP = "events.sql"
KEYS_DUMP = "keys.sql"


def _prepare(out: Path, kind: str) -> None:
    """Refuse a folder that is not new or empty, or that belongs to the other kind of backup."""
    for folder in (out, *out.parents):
        other = kind_of(folder)
        if other is not None and other != kind:
            article = "an" if other == EVENTS else "a"
            raise RefusedError(
                f"{folder} holds {article} {other} backup: keys and events are never backed up "
                "into the same folder (RET-5); choose another --out",
                rule="KeysAreBackedUpApart",
            )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidInputError(f"{out} is not an empty folder: give a new one")
    private_dir(out)


def backup_store(session: Session, out: Path) -> dict[str, Any]:
    """Back up events, read models and ledger of the store into `out` (RET-8)."""
    session.authorize("store.backup", command="backup")
    proc = session.proc
    _prepare(out, EVENTS)
    head = proc.ledger.head()  # the copy extends it: nothing is removed from a live store
    settings = proc.settings
    if settings.backend == "sqlite":
        method, names = "sqlite-online-backup", list(DATA_FILES)
        for name in names:
            copying.sqlite_copy(settings.data_dir / name, out / name)
        details: dict[str, Any] = {}
    else:
        loc = settings.events_location()
        method, names = "pg_dump", [EVENTS_DUMP]
        details = {
            "schema": loc.schema,
            "pg_dump": copying.pg_dump_schema(loc, out / EVENTS_DUMP),
        }
    manifest = Manifest(
        kind=EVENTS,
        backend=settings.backend,
        method=method,
        taken_at=datetime.now(tz=UTC).isoformat(),
        store=settings.store_label(),
        store_key=settings.store_key(),
        files={name: sha256_file(out / name) for name in names},
        ledger={
            "size": head["size"],
            "root": head["root"],
            "checkpoint": head["checkpoint"],
            "signed_at": head["signed_at"],
            "public_key": proc.ledger.vkey(),
            "checkpoint_log": str(checkpoint_log_path(settings)),
        },
        details=details,
    )
    manifest.write(out)
    return _summary(out, manifest)


def backup_keys(session: Session, out: Path) -> dict[str, Any]:
    """Back up the key store alone into `out`, never beside an events backup (RET-5)."""
    session.authorize("store.backup", command="backup --keys")
    proc = session.proc
    _prepare(out, KEYS)
    settings = proc.settings
    status = kek_status(proc.keys)
    if settings.backend == "sqlite":
        method, name = "sqlite-online-backup", KEYS_FILE
        copying.sqlite_copy(settings.keystore_file(), out / name)
        details: dict[str, Any] = {}
    else:
        loc = settings.keystore_location()
        method, name = "pg_dump", KEYS_DUMP
        details = {"schema": loc.schema, "pg_dump": copying.pg_dump_schema(loc, out / name)}
    details["kek_generation"] = status.generation
    manifest = Manifest(
        kind=KEYS,
        backend=settings.backend,
        method=method,
        taken_at=datetime.now(tz=UTC).isoformat(),
        store=settings.store_label(),
        store_key=settings.store_key(),
        files={name: sha256_file(out / name)},
        details=details,
    )
    manifest.write(out)
    return _summary(out, manifest)


def _summary(out: Path, manifest: Manifest) -> dict[str, Any]:
    return {
        "kind": manifest.kind,
        "out": str(out),
        "backend": manifest.backend,
        "method": manifest.method,
        "taken_at": manifest.taken_at,
        "files": manifest.files,
        "ledger_size": manifest.ledger.get("size"),
        "manifest": str(out / MANIFEST),
    }
