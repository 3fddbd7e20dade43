"""The projector: follows the notification log and keeps the read models current.

It records the last applied position in the same transaction as the changes (exactly-once
application), takes a write lock on its tracking row first (so several processes on one
PostgreSQL, or on one SQLite file, never apply a batch twice), and applies events in batches.
Blind indexes are derived here by opening the sealed profile: the event store itself holds no
index that could confirm a person's e-mail after their key is destroyed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.blindindex import blind_index, normalise_email, normalise_phone
from processor.errors import InvalidInputError
from processor.readmodels import tables as t
from processor.sealing import Erased

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEventProtocol

    from processor.eventstore import EventStore
    from processor.keystore import KeyStore
    from processor.sealing import Sealer

BATCH = 1000
TRACKING_NAME = "readmodels"


class _Writes:
    """Buffers inserts for executemany; flushes them before any other statement keeps order."""

    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn
        self._inserts: dict[sa.Table, list[dict[str, Any]]] = defaultdict(list)

    def insert(self, table: sa.Table, row: dict[str, Any]) -> None:
        self._inserts[table].append(row)

    def execute(self, statement: sa.Executable) -> None:
        self.flush()
        self.conn.execute(statement)

    def flush(self) -> None:
        for table, rows in self._inserts.items():
            if rows:
                self.conn.execute(table.insert(), rows)
        self._inserts.clear()


Handler = Callable[["Projector", _Writes, Any, int], None]
_HANDLERS: dict[str, Handler] = {}


def handles(qualname: str) -> Callable[[Handler], Handler]:
    """Register a handler for events whose class `__qualname__` is `qualname`."""

    def register(func: Handler) -> Handler:
        _HANDLERS[qualname] = func
        return func

    return register


def contact_index_key(keys: KeyStore, controller: str) -> bytes:
    """The controller's blind-index key."""
    return keys.system_key(f"blind-index:{controller}")


class Projector:
    """Applies new events from the event store to the read-model tables."""

    def __init__(
        self, store: EventStore, engine: sa.Engine, sealer: Sealer, keys: KeyStore
    ) -> None:
        self.store = store
        self.engine = engine
        self.sealer = sealer
        self.keys = keys
        self._index_keys: dict[str, bytes] = {}
        t.metadata.create_all(engine)
        with engine.begin() as conn:
            exists = conn.execute(
                sa.select(t.tracking.c.position).where(t.tracking.c.name == TRACKING_NAME)
            ).first()
            if exists is None:
                conn.execute(t.tracking.insert(), {"name": TRACKING_NAME, "position": 0})

    def index_key(self, controller: str) -> bytes:
        """The controller's blind-index key, cached for this process."""
        if controller not in self._index_keys:
            self._index_keys[controller] = contact_index_key(self.keys, controller)
        return self._index_keys[controller]

    def position(self) -> int:
        """The last notification id applied."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(t.tracking.c.position).where(t.tracking.c.name == TRACKING_NAME)
                ).scalar_one()
            )

    def catch_up(self) -> int:
        """Apply every event not yet applied; returns how many were applied."""
        applied = 0
        while True:
            with self.engine.begin() as conn:
                # Taking the row lock first serialises concurrent projectors.
                conn.execute(
                    t.tracking.update()
                    .where(t.tracking.c.name == TRACKING_NAME)
                    .values(position=t.tracking.c.position)
                )
                position = conn.execute(
                    sa.select(t.tracking.c.position).where(t.tracking.c.name == TRACKING_NAME)
                ).scalar_one()
                notes = self.store.recorder.select_notifications(
                    start=position, limit=BATCH, inclusive_of_start=False
                )
                if not notes:
                    return applied
                events = [self.store.mapper.to_domain_event(n) for n in notes]
                self._prefetch_keys(events)
                writes = _Writes(conn)
                for note, domain_event in zip(notes, events, strict=True):
                    handler = _HANDLERS.get(type(domain_event).__qualname__)
                    if handler is not None:
                        handler(self, writes, domain_event, note.id)
                writes.flush()
                conn.execute(
                    t.tracking.update()
                    .where(t.tracking.c.name == TRACKING_NAME)
                    .values(position=notes[-1].id)
                )
                applied += len(notes)

    def rebuild(self) -> int:
        """Drop every projected table and replay the whole event store."""
        with self.engine.begin() as conn:
            for table in reversed(t.PROJECTED_TABLES):
                conn.execute(table.delete())
            conn.execute(
                t.tracking.update().where(t.tracking.c.name == TRACKING_NAME).values(position=0)
            )
        return self.catch_up()

    def _prefetch_keys(self, events: list[DomainEventProtocol[Any]]) -> None:
        ids = [
            str(e.originator_id)
            for e in events
            if type(e).__qualname__ in {"Contact.ContactAdded", "Contact.ContactRectified"}
        ]
        if ids:
            self.sealer.prefetch(ids)

    def contact_indexes(self, contact_id: str, controller: str, profile: str) -> dict[str, Any]:
        """Blind indexes of a contact's current e-mail and phone (none once erased)."""
        opened = self.sealer.open(contact_id, "profile", profile)
        if isinstance(opened, Erased):
            return {"email_index": None, "phone_index": None}
        key = self.index_key(controller)
        out: dict[str, Any] = {"email_index": None, "phone_index": None}
        for kind, normalise in (("email", normalise_email), ("phone", normalise_phone)):
            value = opened.get(kind)
            if value:
                try:
                    out[f"{kind}_index"] = blind_index(key, kind, normalise(value))
                except InvalidInputError:
                    out[f"{kind}_index"] = None
        return out


# Importing the handlers registers them.
from processor.readmodels import handlers as _handlers  # noqa: E402, F401
