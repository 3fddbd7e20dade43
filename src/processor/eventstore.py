"""The one event store and its notification log, through the `eventsourcing` library.

Every aggregate of the core lives in this one store, so there is one global order of events:
the order the ledger hashes and the projections follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application

from subprocessors.outbox import RecipientOutbox

if TYPE_CHECKING:
    from processor.config import Settings


class EventStore(Application[UUID]):
    """The processor's event-sourced application (store, repository, notification log)."""

    name = "Processor"
    # Only the recipient outboxes grow without bound; they hold contact ids, never personal data,
    # so snapshots of them are safe. Contacts are never snapshotted: their state is ciphertext
    # anyway, and erasure must leave no copy behind that is not under the subject's key.
    is_snapshotting_enabled = True
    snapshotting_intervals: ClassVar[dict[Any, int]] = {RecipientOutbox: 100}


def eventstore_env(settings: Settings) -> dict[str, str]:
    """The `eventsourcing` environment for the configured backend."""
    if settings.backend == "postgres":
        loc = settings.events_location()
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": loc.dbname,
            "POSTGRES_HOST": loc.host,
            "POSTGRES_PORT": str(loc.port),
            "POSTGRES_USER": loc.user,
            "POSTGRES_PASSWORD": loc.password,
            "POSTGRES_SCHEMA": loc.schema,
            "POSTGRES_POOL_SIZE": "2",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
