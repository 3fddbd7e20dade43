"""The projector: follows the notification log and keeps the read models current.

It records the last applied position in the same transaction as the changes (exactly-once
application), takes a write lock on its tracking row first (so several processes on one
PostgreSQL, or on one SQLite file, never apply a batch twice), and applies events in batches.
Blind indexes are derived here by opening the sealed profile: the event store itself holds no
index that could confirm a person's e-mail after their key is destroyed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.kernel.errors import InvalidInputError
from processor.keys import (
    EMAIL_RULE,
    Erased,
    blind_index,
    normalise_email,
    normalise_phone,
    pseudonym,
)
from processor.readmodels import tables as t
from processor.readmodels.writes import Writes

if TYPE_CHECKING:
    from eventsourcing.domain import DomainEventProtocol
    from eventsourcing.persistence import Recording

    from processor.keys import KeyStore, Sealer
    from processor.storage.eventstore import EventStore

BATCH = 1000
TRACKING_NAME = "readmodels"
SCHEMA_NAME = "readmodels-schema"

# A handler applies one event (at its notification id) to the read models.
Handler = Callable[["Projector", Writes, Any, int], None]
# The projector's table: event class `__qualname__` -> its handlers, run in this order.
HandlerTable = Mapping[str, Sequence[Handler]]


def schema_fingerprint() -> int:
    """A number that changes whenever a read-model table or column changes.

    The e-mail rule is part of it: blind indexes made under an older rule would no longer be
    found, so a new rule rebuilds the read models like a new column does.
    """
    parts = sorted(
        f"{table.name}.{column.name}:{column.type!r}:{column.nullable}"
        for table in t.metadata.sorted_tables
        for column in table.columns
    )
    parts.append(f"email-rule:{EMAIL_RULE}")
    return int(hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12], 16)


def contact_index_key(keys: KeyStore, controller: str) -> bytes:
    """The controller's blind-index key."""
    return keys.system_key(f"blind-index:{controller}")


def _handed_run(
    known: dict[int, Any], position: int, until: int | None
) -> tuple[list[int], list[Any]]:
    """The handed events right after `position`, contiguous and up to `until` (at most BATCH)."""
    ids: list[int] = []
    events: list[Any] = []
    nxt = position + 1
    while (until is None or nxt <= until) and len(ids) < BATCH and nxt in known:
        ids.append(nxt)
        events.append(known[nxt])
        nxt += 1
    return ids, events


class Projector:
    """Applies new events from the event store to the read-model tables.

    `handlers` is the table of what to do with each event (`readmodels.registry`), given by
    whoever builds the projector: the projector itself imports no handler module.
    """

    def __init__(
        self,
        store: EventStore,
        engine: sa.Engine,
        sealer: Sealer,
        keys: KeyStore,
        handlers: HandlerTable,
    ) -> None:
        self.store = store
        self.handlers = handlers
        self.engine = engine
        self.sealer = sealer
        self.keys = keys
        # The position this process last read or wrote under the tracking row's lock: a lower
        # bound of `position()` (read models only move forward, except in a rebuild, which
        # projects to the end itself), so a caller can skip a catch-up that has nothing to do.
        self.seen = 0
        self._index_keys: dict[str, bytes] = {}
        self._pseudonym_keys: dict[str, bytes] = {}
        self._hints: dict[tuple[str, str], dict[str, Any]] = {}
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        """Create the tables; rebuild them from the event store when their definition changed.

        Read models are projections, so a new column or table never needs a migration: the
        tables are dropped and the next catch-up replays every event into the new shape.
        """
        fingerprint = schema_fingerprint()
        with self.engine.begin() as conn:
            t.tracking.create(conn, checkfirst=True)
            stored = conn.execute(
                sa.select(t.tracking.c.position).where(t.tracking.c.name == SCHEMA_NAME)
            ).scalar()
        if stored != fingerprint:
            t.metadata.drop_all(self.engine, tables=[*t.metadata.sorted_tables])
        t.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            for name, value in ((TRACKING_NAME, 0), (SCHEMA_NAME, fingerprint)):
                exists = conn.execute(
                    sa.select(t.tracking.c.position).where(t.tracking.c.name == name)
                ).first()
                if exists is None:
                    conn.execute(t.tracking.insert(), {"name": name, "position": value})

    def index_key(self, controller: str) -> bytes:
        """The controller's blind-index key, cached for this process."""
        if controller not in self._index_keys:
            self._index_keys[controller] = contact_index_key(self.keys, controller)
        return self._index_keys[controller]

    def pseudonym(self, controller: str, contact_id: str) -> str:
        """The contact's stable pseudonym for support views (keyed HMAC, ACC-5)."""
        key = self._pseudonym_keys.get(controller)
        if key is None:
            key = self._pseudonym_keys[controller] = self.keys.system_key(f"pseudonym:{controller}")
        return pseudonym(key, contact_id)

    def position(self) -> int:
        """The last notification id applied."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(t.tracking.c.position).where(t.tracking.c.name == TRACKING_NAME)
                ).scalar_one()
            )

    def catch_up(self, recent: Sequence[Recording[Any]] = (), until: int | None = None) -> int:
        """Apply every event not yet applied; returns how many were applied.

        `recent` are the recordings the caller just saved: where they cover the positions after
        the projected one contiguously (up to `until`), their event objects are applied as
        handed, with no read of the notification log; otherwise the log is read as always (and
        a handed event found there is applied as handed rather than decoded again). `until` (a
        notification id) stops there: the caller passes the ledger's signed position, so nothing
        the ledger has not covered is projected.
        """
        known = {r.notification.id: r.domain_event for r in recent}
        applied = 0
        while True:
            with self.engine.begin() as conn:
                # Taking the row lock first serialises concurrent projectors; RETURNING reads
                # the position under that lock in the same round trip.
                position = conn.execute(
                    t.tracking.update()
                    .where(t.tracking.c.name == TRACKING_NAME)
                    .values(position=t.tracking.c.position)
                    .returning(t.tracking.c.position)
                ).scalar_one()
                self.seen = position
                if until is not None and position >= until:
                    return applied  # nothing signed is left to apply: no notification read
                ids, events = _handed_run(known, position, until)
                if not ids:
                    notes = self.store.recorder.select_notifications(
                        start=position, limit=BATCH, stop=until, inclusive_of_start=False
                    )
                    if not notes:
                        return applied
                    ids = [n.id for n in notes]
                    events = [
                        known.get(n.id) or self.store.mapper.to_domain_event(n) for n in notes
                    ]
                self.prefetch_keys(events)
                writes = Writes(conn)
                for note_id, domain_event in zip(ids, events, strict=True):
                    for handler in self.handlers.get(type(domain_event).__qualname__, ()):
                        handler(self, writes, domain_event, note_id)
                writes.flush()
                if writes.shred:
                    self.sealer.shred(list(writes.shred), max(writes.shred.values()))
                conn.execute(
                    t.tracking.update()
                    .where(t.tracking.c.name == TRACKING_NAME)
                    .values(position=ids[-1])
                )
                applied += len(ids)
            self.seen = ids[-1]
            if until is not None and ids[-1] >= until:
                return applied  # reached `until`: a further pass would read nothing

    def prefetch_keys(self, events: list[DomainEventProtocol[Any]]) -> None:
        """Load the subject keys a batch of events needs in one query (a rebuild calls it too)."""
        ids = [
            str(e.originator_id)
            for e in events
            if type(e).__qualname__ in {"Contact.ContactAdded", "Contact.ContactRectified"}
        ]
        if ids:
            self.sealer.prefetch(ids)

    def contact_indexes(self, contact_id: str, controller: str, profile: str) -> dict[str, Any]:
        """Blind indexes of a contact's current e-mail and phone (none once erased).

        Erased means by the events as well as by the key store: a key put back after the
        erasure derives no index (`Sealer.open_unless_erased`).

        A hint left by the command that sealed this very profile token saves opening it again;
        without one (a rebuild, another process) the sealed profile is opened.
        """
        hint = self._hints.pop((contact_id, profile), None)
        if hint is not None:
            return hint
        # Never opened for a subject the events erased, even if its key was put back (RET-5).
        opened = self.sealer.open_unless_erased(contact_id, "profile", profile)
        if isinstance(opened, Erased):
            return {"email_index": None, "phone_index": None}
        return self.indexes_of(controller, opened)

    def indexes_of(
        self, controller: str, profile: dict[str, Any], email_index: str | None = None
    ) -> dict[str, Any]:
        """Blind indexes of a plaintext profile (the one derivation used everywhere).

        `email_index` is the index of this profile's e-mail that the caller has already
        derived this way (an import's duplicate lookup), so it is not computed twice.
        """
        key = self.index_key(controller)
        out: dict[str, Any] = {"email_index": email_index, "phone_index": None}
        for kind, normalise in (("email", normalise_email), ("phone", normalise_phone)):
            value = profile.get(kind)
            if value and out[f"{kind}_index"] is None:
                try:
                    out[f"{kind}_index"] = blind_index(key, kind, normalise(value))
                except InvalidInputError:
                    out[f"{kind}_index"] = None
        return out

    def hint(
        self,
        contact_id: str,
        controller: str,
        sealed: str,
        profile: dict[str, Any],
        email_index: str | None = None,
    ) -> None:
        """Remember the indexes of a profile this process has just sealed (in memory only)."""
        self._hints[(contact_id, sealed)] = self.indexes_of(controller, profile, email_index)
