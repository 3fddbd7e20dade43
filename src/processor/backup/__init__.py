"""Backups of a store and of its key store, and restoring them (RET-8, RET-5, AUD-4).

The events (with read models and ledger) and the keys are backed up separately, never into one
folder: a backup of the events must never be able to bring an erased subject back. Restoring an
older key-store backup would do exactly that, so a restore destroys again every key the event log
says was destroyed, and rotates the key-encryption key, before the store is served.
"""

from processor.backup.manifest import EVENTS, KEYS, Manifest
from processor.backup.restoring import RestoreReport
from processor.backup.service import backup_keys, backup_store
from processor.storage.restoremark import restore_in_progress

__all__ = [
    "EVENTS",
    "KEYS",
    "Manifest",
    "RestoreReport",
    "backup_keys",
    "backup_store",
    "restore_in_progress",
]
