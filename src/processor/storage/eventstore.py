"""The one event store and its notification log, through the `eventsourcing` library.

Every aggregate of the core lives in this one store, so there is one global order of events:
the order the ledger hashes and the projections follow.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteAggregateRecorder
from eventsourcing.utils import get_topic

from processor.storage.recordmac import MacMapper
from processor.storage.snapshotcover import CoveredSnapshotStore
from subprocessors.outbox import RecipientOutbox

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from eventsourcing.persistence import EventStore as LibraryEventStore

    from processor.config import Settings


class EventStore(Application[UUID]):
    """The processor's event-sourced application (store, repository, notification log)."""

    name = "Processor"
    # Only the recipient outboxes grow without bound; they hold contact ids, never personal data,
    # so snapshots of them are safe. Contacts are never snapshotted: their state is ciphertext
    # anyway, and erasure must leave no copy behind that is not under the subject's key.
    is_snapshotting_enabled = True
    snapshotting_intervals: ClassVar[dict[Any, int]] = {RecipientOutbox: 100}

    def construct_mapper(self) -> MacMapper:
        """The library's mapper with a record MAC on every stored record (`recordmac`)."""
        return MacMapper(super().construct_mapper())

    def seal_records_with(self, key_source: Callable[[], bytes]) -> None:
        """Give the mapper its record MAC key (from the key store)."""
        assert isinstance(self.mapper, MacMapper)  # noqa: S101 - construct_mapper made it
        self.mapper.use_key(key_source)

    def check_record(self, originator_id: object, version: int, topic: str, state: object) -> None:
        """Raise IntegrityFailureError unless a stored record's MAC holds."""
        assert isinstance(self.mapper, MacMapper)  # noqa: S101 - construct_mapper made it
        self.mapper.check(originator_id, version, topic, state)

    def construct_snapshot_store(self) -> LibraryEventStore[UUID]:
        """Snapshots are covered by a MAC and limited to the types above (`snapshotcover`).

        The library's repository would otherwise trust any row of the snapshot table for any
        aggregate id, users and controllers included, which the ledger does not cover.
        """
        recorder = self.factory.aggregate_recorder(purpose="snapshots")
        allowed = frozenset(get_topic(cls) for cls in self.snapshotting_intervals)
        return CoveredSnapshotStore(self.mapper, recorder, allowed)

    def cover_snapshots(self, key_source: Callable[[], bytes]) -> None:
        """Give the snapshot store its MAC key (from the key store); none is trusted before."""
        if isinstance(self.snapshots, CoveredSnapshotStore):
            self.snapshots.cover_with(key_source)

    def get_many(self, ids: Sequence[UUID]) -> list[Any]:
        """The aggregates `ids`, their events read in one query rather than one query each.

        For bulk reads of aggregates that are never snapshotted (contacts: an export's batch).
        Each record is decoded by the same mapper, so its MAC is checked as on any read, and the
        aggregate is rebuilt as the repository rebuilds it (each event mutates the last state).
        An id with no events raises the repository's own not-found error.
        """
        by_id: dict[Any, list[StoredEvent]] = defaultdict(list)
        for record in self._stored_events_of(ids):
            by_id[record.originator_id].append(record)
        found: list[Any] = []
        for aggregate_id in ids:
            records = by_id.get(aggregate_id)
            if not records:
                found.append(self.repository.get(aggregate_id))  # raises AggregateNotFoundError
                continue
            aggregate: Any = None
            for record in records:
                event: Any = self.mapper.to_domain_event(record)
                aggregate = event.mutate(aggregate)
            found.append(aggregate)
        return found

    def _stored_events_of(self, ids: Sequence[UUID]) -> list[StoredEvent]:
        """Every stored event of `ids`, in (id, version) order, through the recorder's driver."""
        recorder: Any = self.recorder
        if not ids:
            return []
        if isinstance(recorder, SQLiteAggregateRecorder):
            marks = ",".join("?" for _ in ids)
            statement = (
                f"SELECT originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                "ORDER BY originator_id, originator_version"
            )
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [i.hex for i in ids])
                return [
                    StoredEvent(
                        originator_id=recorder.convert_originator_id(row["originator_id"]),
                        originator_version=row["originator_version"],
                        topic=row["topic"],
                        state=row["state"],
                    )
                    for row in cursor.fetchall()
                ]
        from psycopg.sql import SQL, Identifier

        query = SQL(
            "SELECT originator_id, originator_version, topic, state FROM {}.{} "
            "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
        ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(query, (list(ids),))
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in cursor.fetchall()
            ]

    def positions_of(self, ids: Sequence[UUID], topic: str) -> dict[UUID, int]:
        """Where each of `ids` has an event of `topic`: its notification id, MAC checked.

        One query on the events' primary key (originator id first), so asking about the few
        hundred subjects of a read costs one indexed lookup, not a scan of the log. Each record
        found is decoded by the mapper, so a row forged into the table by SQL fails its MAC
        (IntegrityFailureError) instead of being believed.
        """
        recorder: Any = self.recorder
        if not ids:
            return {}
        if isinstance(recorder, SQLiteAggregateRecorder):
            marks = ",".join("?" for _ in ids)
            statement = (
                f"SELECT rowid AS position, originator_id, originator_version, topic, state "
                f"FROM {recorder.events_table_name} WHERE originator_id IN ({marks}) "
                "AND topic = ?"
            )
            with recorder.datastore.transaction(commit=False) as cursor:
                cursor.execute(statement, [*(i.hex for i in ids), topic])
                rows = [
                    (
                        int(row["position"]),
                        StoredEvent(
                            originator_id=recorder.convert_originator_id(row["originator_id"]),
                            originator_version=row["originator_version"],
                            topic=row["topic"],
                            state=row["state"],
                        ),
                    )
                    for row in cursor.fetchall()
                ]
        else:
            from psycopg.sql import SQL, Identifier

            query = SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                "FROM {}.{} WHERE originator_id = ANY(%s) AND topic = %s"
            ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
            with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
                cursor.execute(query, (list(ids), topic))
                rows = [
                    (
                        int(row["notification_id"]),
                        StoredEvent(
                            originator_id=row["originator_id"],
                            originator_version=row["originator_version"],
                            topic=row["topic"],
                            state=bytes(row["state"]),
                        ),
                    )
                    for row in cursor.fetchall()
                ]
        found: dict[UUID, int] = {}
        for position, record in rows:
            # The record MAC (no decoding needed): raises on a row forged or moved by SQL.
            self.check_record(
                record.originator_id, record.originator_version, record.topic, record.state
            )
            found[UUID(str(record.originator_id))] = position
        return found


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
            # Large batches in chunks, in one transaction, outside psycopg's pipeline, where a
            # statement of a few megabytes never completes (`processor.storage.pgrecorder`).
            "APPLICATION_RECORDER_TOPIC": "processor.storage.pgrecorder:ChunkingPostgresRecorder",
        }
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
