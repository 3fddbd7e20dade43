"""`processor restore`: load a backup into an empty store, verify it, and keep erasures erased.

The order is what makes it safe (RET-5, RET-8, AUD-4):

1. Refuse a target that holds a store (unless an earlier restore into it was interrupted: a
   marker in the store's config folder says so, and no command opens the store while it is there).
2. Load events, read models and ledger.
3. Load the key-store backup into a staging place (a `.restoring` file, a `_restoring` schema),
   destroy in it every key the restored event log says was destroyed (an older key backup still
   holds keys of subjects erased since), rotate the key-encryption key so the re-destroyed keys'
   remnants no longer open, and only then move it into place.
4. Verify the restored ledger: recompute the tree over every signed record, check every stored
   checkpoint with the log's public key, check that it extends the checkpoint recorded in the
   manifest and every checkpoint of the outside checkpoint log; records signed after the backup
   are reported as lost and refused unless accepted.
5. Authorise the person restoring against the restored store (`store.restore`), let the store
   sign and project what the backup had not (a copy taken mid-command), verify again, and remove
   the marker: only now is the store served.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from eventsourcing.persistence import PersistenceError

from processor.backup import copying
from processor.backup.manifest import EVENTS, KEYS, Manifest
from processor.backup.restoring import RestoreReport, RestoreRequest
from processor.backup.service import DATA_FILES, EVENTS_DUMP, KEYS_DUMP, KEYS_FILE
from processor.backup.verify import verify_backup
from processor.config import PostgresLocation, Settings, private_dir
from processor.integrity.keycheck import EventFacts, key_store_state
from processor.kernel.errors import (
    IntegrityFailureError,
    InvalidInputError,
    RefusedError,
)
from processor.keys import KeyStore, open_custodian, rotate_kek
from processor.link.tables import checkpoint_log_path
from processor.storage.engines import sqlite_engine
from processor.storage.eventstore import EventStore, eventstore_env
from processor.storage.recordmac import RECORD_KEY_NAME
from processor.storage.restoremark import restore_in_progress

if TYPE_CHECKING:
    from collections.abc import Callable

    from processor.app import Processor
    from processor.keys import Custodian

_WANTED = frozenset(
    {
        "Contact.ContactAdded",
        "Contact.ContactErased",
        "Message.MessageRecorded",
        "Message.MessageContentShredded",
        "Controller.ControllerRegistered",
        "Controller.PersonalDataDeleted",
    }
)


def restore(
    settings: Settings,
    request: RestoreRequest,
    *,
    open_store: Callable[[], Processor],
    authorize: Callable[[Processor], None],
) -> RestoreReport:
    """Restore a backup into the empty store `settings` names (see the module docstring)."""
    manifest = Manifest.read(request.source, EVENTS)
    keys_manifest = Manifest.read(request.keys_from, KEYS) if request.keys_from else None
    for m in (manifest, keys_manifest):
        if m is not None and m.backend != settings.backend:
            raise InvalidInputError(
                f"the backup is of a {m.backend} store; this store is {settings.backend}"
            )
    report = RestoreReport()
    marker = restore_in_progress(settings)
    report.resumed = marker.exists()
    _clear_target(settings, keys=keys_manifest is not None, resuming=report.resumed)
    log = checkpoint_log_path(settings)
    if report.resumed:
        _forget_unfinished_checkpoints(log, marker)
    private_dir(marker.parent)
    marker.write_text(
        json.dumps({"from": str(request.source), "keys_from": str(request.keys_from or ""),
                    "started_at": datetime.now(tz=UTC).isoformat(),
                    "checkpoint_log_bytes": log.stat().st_size if log.exists() else 0}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    marker.chmod(0o600)
    _load_events(settings, request.source, manifest)
    _restore_keys(settings, request, keys_manifest, report)
    proc = open_store()
    try:
        verify_backup(proc, manifest, request, report)
        # The target's checkpoint log starts at the restored head, checked against every outside
        # log just now: before anything (a refusal included) is signed on the restored store.
        proc.ledger.publish_head()
        authorize(proc)
        with proc.using_clock():
            proc.catch_up()  # signs and projects what the backup held unsigned
        full = proc.ledger.verify()
        if not full.ok:
            raise IntegrityFailureError(f"the restored ledger does not verify: {full.reason}")
        report.records = full.records_checked
        report.ledger_size = int(proc.ledger.head()["size"])
    finally:
        proc.close()
    marker.unlink()
    return report


def _restore_keys(
    settings: Settings,
    request: RestoreRequest,
    keys_manifest: Manifest | None,
    report: RestoreReport,
) -> None:
    """Bring the key store in, from its backup or the live one.

    Whatever the events say was erased after the key backup was taken is destroyed again, so a
    restore never brings an erased subject back.
    """
    custodian = open_custodian(settings, create=False)
    at = datetime.now(tz=UTC)
    try:
        if keys_manifest is not None and request.keys_from is not None:
            report.keys_restored = True
            with _staged_keys(settings, request.keys_from, keys_manifest) as engine:
                keys = _open_backup_keys(engine, custodian, at)
                _destroy_again(keys, _event_facts(settings, keys), at, report, request)
        else:
            engine = _live_keys_engine(settings)
            try:
                keys = KeyStore(engine, custodian, at=at)
                _destroy_again(keys, _event_facts(settings, keys), at, report, request)
            finally:
                engine.dispose()
    finally:
        custodian.close()


def _open_backup_keys(engine: sa.Engine, custodian: Custodian, at: datetime) -> KeyStore:
    """The restored key store; a backup wrapped under a destroyed generation is refused (RET-5).

    That refusal is the point of the ratchet: a key-store backup from before it holds the keys
    of subjects erased since, and nothing that still exists can open them.
    """
    with engine.connect() as conn:
        generation = _backup_generation(conn)
    if generation is not None and generation not in custodian.generations():
        raise RefusedError(
            f"this key-store backup is wrapped under wrapping-key generation {generation}, "
            "which a ratchet destroyed: it can no longer be opened, by design (RET-5); "
            "restore a key backup taken after the last ratchet",
            rule="KeyBackupMustBeFromTheLiveGeneration",
        )
    return KeyStore(engine, custodian, at=at)


def _backup_generation(conn: sa.Connection) -> int | None:
    from processor.keys import CHECK_NAME, key_store_check

    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    if not sa.inspect(conn).has_table(key_store_check.name, schema):
        return None
    columns = {c["name"] for c in sa.inspect(conn).get_columns(key_store_check.name, schema)}
    if "wrap_generation" not in columns:
        return 1  # a backup from before the custodian: wrapped by `master.key`, generation 1
    value = conn.execute(
        sa.select(key_store_check.c.wrap_generation).where(key_store_check.c.name == CHECK_NAME)
    ).scalar()
    return None if value is None else int(value)


def _forget_unfinished_checkpoints(log: Path, marker: Path) -> None:
    """Set aside checkpoints the unfinished restore's store signed (a refusal it recorded).

    That store is discarded and loaded again, so what it signed must not stand in the way of the
    new copy: the log is cut back to its length when the first attempt began, and the whole old
    log is kept beside it.
    """
    try:
        kept = int(json.loads(marker.read_text(encoding="utf-8"))["checkpoint_log_bytes"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    if not log.exists() or log.stat().st_size <= kept:
        return
    data = log.read_bytes()
    log.replace(
        log.with_name(f"{log.name}.unfinished-restore-{datetime.now(tz=UTC):%Y%m%dT%H%M%SZ}")
    )
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data[:kept])
        handle.flush()
        os.fsync(handle.fileno())


# -- the target ---------------------------------------------------------------------------------


_LIVE = "refusing to overwrite a live store: restore into an empty data directory / schema"


def _clear_target(settings: Settings, *, keys: bool, resuming: bool) -> None:
    """Refuse a live store; after an interrupted restore, remove what it had loaded."""
    if settings.backend == "sqlite":
        _clear_sqlite(settings, keys=keys, resuming=resuming)
    else:
        _clear_postgres(settings, keys=keys, resuming=resuming)


def _clear_sqlite(settings: Settings, *, keys: bool, resuming: bool) -> None:
    data = [settings.data_dir / n for n in DATA_FILES]
    staged = _staging_file(settings)
    key_file = settings.keystore_file()
    targets = data + [staged] + ([key_file] if keys else [])
    if not resuming:
        holding = [p for p in data + ([key_file] if keys else []) if _holds_data(p)]
        if holding:
            raise RefusedError(f"{holding[0]} exists: {_LIVE}", rule="RestoreIntoEmptyStore")
    for path in targets:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    if not keys and not _holds_data(key_file):
        raise InvalidInputError(
            f"there is no key store at {key_file}: give --keys-from with a key-store backup"
        )


def _clear_postgres(settings: Settings, *, keys: bool, resuming: bool) -> None:
    live = _LIVE
    events = settings.events_location()
    keys_loc = settings.keystore_location()
    staging = _staging_schema(keys_loc)
    if not resuming:
        if copying.pg_schema_tables(events):
            raise RefusedError(
                f"schema {events.schema} holds tables: {live}", rule="RestoreIntoEmptyStore"
            )
        if keys and copying.pg_schema_tables(keys_loc):
            raise RefusedError(
                f"schema {keys_loc.schema} holds tables: {live}", rule="RestoreIntoEmptyStore"
            )
    drops = [f'DROP SCHEMA IF EXISTS "{events.schema}" CASCADE'] if resuming else []
    if keys:
        drops.append(f'DROP SCHEMA IF EXISTS "{staging}" CASCADE')
        if resuming:
            drops.append(f'DROP SCHEMA IF EXISTS "{keys_loc.schema}" CASCADE')
    if drops:
        copying.pg_execute(keys_loc if keys_loc.dbname == events.dbname else events, *drops)
    if not keys and not copying.pg_schema_tables(keys_loc):
        raise InvalidInputError(
            f"schema {keys_loc.schema} holds no key store: give --keys-from with a key-store backup"
        )


def _holds_data(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def _staging_file(settings: Settings) -> Path:
    key_file = settings.keystore_file()
    return key_file.with_name(key_file.name + ".restoring")


def _staging_schema(loc: PostgresLocation) -> str:
    return f"{loc.schema}_restoring"


def _load_events(settings: Settings, source: Path, manifest: Manifest) -> None:
    if settings.backend == "sqlite":
        private_dir(settings.data_dir)
        for name in DATA_FILES:
            copying.sqlite_copy(source / name, settings.data_dir / name)
            (settings.data_dir / name).chmod(0o600)
        return
    copying.pg_restore_schema(
        settings.events_location(), source / EVENTS_DUMP, str(manifest.details["schema"])
    )


class _staged_keys:  # noqa: N801 - used as `with _staged_keys(...) as engine:`
    """The key backup, loaded where nothing opens it, moved into place only on success."""

    def __init__(self, settings: Settings, folder: Path, manifest: Manifest) -> None:
        self.settings, self.folder, self.manifest = settings, folder, manifest

    def __enter__(self) -> sa.Engine:
        if self.settings.backend == "sqlite":
            self.staged = _staging_file(self.settings)
            private_dir(self.staged.parent)
            copying.sqlite_copy(self.folder / KEYS_FILE, self.staged)
            self.engine = sqlite_engine(self.staged, keystore=True)
        else:
            loc = self.settings.keystore_location()
            staging = PostgresLocation(
                loc.host, loc.port, loc.dbname, loc.user, loc.password, _staging_schema(loc)
            )
            copying.pg_restore_schema(
                staging, self.folder / KEYS_DUMP, str(self.manifest.details["schema"])
            )
            base = sa.create_engine(staging.sqlalchemy_url(), poolclass=sa.pool.NullPool)
            self.engine = base.execution_options(schema_translate_map={None: staging.schema})
        return self.engine

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self.engine.dispose()
        if exc_type is not None:
            return
        if self.settings.backend == "sqlite":
            self.staged.replace(self.settings.keystore_file())
            return
        loc = self.settings.keystore_location()
        copying.pg_execute(
            loc,
            f'DROP SCHEMA IF EXISTS "{loc.schema}" CASCADE',
            f'ALTER SCHEMA "{_staging_schema(loc)}" RENAME TO "{loc.schema}"',
        )


def _live_keys_engine(settings: Settings) -> sa.Engine:
    if settings.backend == "sqlite":
        return sqlite_engine(settings.keystore_file(), keystore=True)
    loc = settings.keystore_location()
    base = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    return base.execution_options(schema_translate_map={None: loc.schema})


# -- keys the event log says are destroyed ------------------------------------------------------


def _event_facts(settings: Settings, keys: KeyStore) -> EventFacts:
    """Read the restored event log's creations, erasures and shreddings (nothing is served)."""
    store = EventStore(env=eventstore_env(settings))
    seal = getattr(store, "seal_records_with", None)
    if seal is not None:  # records carry a MAC under a key-store key (processor.storage.recordmac)
        seal(lambda: keys.system_key(RECORD_KEY_NAME, create=False))
    facts = EventFacts()
    try:
        position = 0
        while notes := store.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        ):
            for note in notes:
                qualname = note.topic.rpartition(":")[2]
                if qualname in _WANTED:
                    facts.add(qualname, store.mapper.to_domain_event(note))
            position = notes[-1].id
    except (PersistenceError, ValueError, TypeError) as exc:
        raise IntegrityFailureError(
            f"the backup's event records cannot be read ({type(exc).__name__}): refusing it"
        ) from None
    finally:
        store.close()
    return facts


def _destroy_again(
    keys: KeyStore, facts: EventFacts, at: datetime, report: RestoreReport, request: RestoreRequest
) -> None:
    """Destroy every key the events say is gone, then rotate the KEK (RET-5).

    A key backup older than the events still holds the keys of subjects erased since; those
    are destroyed here, before anything can read them, and the KEK that wrapped them is
    replaced, so a remnant in a database page no longer opens either.
    """
    live, dead = key_store_state(keys.engine)
    gone: list[str] = []
    missing: list[str] = []
    for subject, _what, must_be_gone in facts.expectations():
        if must_be_gone and (subject in live or subject not in dead):
            gone.append(subject)
        elif not (
            must_be_gone or subject in live or subject in dead or subject.startswith("records:")
        ):
            missing.append(subject)  # records keys are made on first use
    report.keys_missing = missing
    if missing and not request.accept_loss:
        raise RefusedError(
            f"{len(missing)} subjects in the events have no key in the key store (made after "
            "the key backup): their personal data would be unreadable; give --accept-loss to "
            "restore anyway",
            rule="RestoreMustNotLoseKeys",
        )
    report.destroyed_again = sorted(s for s in gone if s in live)
    report.tombstoned = len([s for s in gone if s not in dead])
    keys.destroy_subject_keys(gone, at)
    if report.destroyed_again or report.keys_restored:
        result = rotate_kek(keys, at)
        report.kek_rotation = {
            "generation": result.generation,
            "rewrapped": result.rewrapped,
            "destroyed_generations": list(result.destroyed_generations),
        }
        if keys.custodian.can_ratchet:
            # The re-destroyed keys' KEK was copied (staging files, WAL): its wrapping goes too.
            from processor.keys.ratchet import ratchet

            report.kek_rotation["wrapping_generation"] = ratchet(keys, at).generation
