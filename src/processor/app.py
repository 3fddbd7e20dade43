"""The application: one store, its key store, read models and ledger, and the commit path.

A command flows: session (who, authorised?) -> aggregate method (rule checks, sealed values)
-> `commit()` (events saved in one transaction) -> ledger (leaves appended, checkpoint signed)
-> projector (read models caught up). The CLI is a thin layer over the desks that
`processor.desk.login()` returns; `processor.services.setup.initialise()` creates a store.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.persistence import IntegrityError as ESIntegrityError

from processor.config import Settings
from processor.domain.ids import store_id
from processor.domain.store import Store
from processor.kernel import clock as clocks
from processor.kernel.errors import (
    ConfigurationError,
    ConflictError,
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from processor.keys import ErasureRegister, KeyStore, Sealer, master_key
from processor.policies import Policies, load_policies
from processor.readmodels.projector import Projector
from processor.readmodels.registry import READ_MODEL_HANDLERS
from processor.storage.engines import (
    Engines,
    check_private_sqlite_files,
    ensure_postgres_schema,
    leftover_keys,
    setup_lock,
    store_has_events,
)
from processor.storage.eventstore import EventStore, eventstore_env
from processor.storage.identity import check_not_a_copy
from processor.storage.identity import pin as pin_identity
from processor.storage.recordmac import RECORD_KEY_NAME
from processor.storage.restoremark import check_not_restoring

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from eventsourcing.persistence import Recording

    from processor.link.service import LedgerService


class Processor:
    """An open store: created once by `processor.services.setup.initialise()`, then opened."""

    def __init__(
        self,
        settings: Settings,
        clock: clocks.Clock | None = None,
        *,
        create_master_key: bool = False,
    ) -> None:
        self.settings = settings
        self.policies: Policies = load_policies()
        if settings.backend == "postgres":
            ensure_postgres_schema(settings.events_location())
        elif not create_master_key and not (settings.data_dir / "events.sqlite").exists():
            raise ConfigurationError(f"no store in {settings.data_dir}: run `processor init` first")
        from processor.keys import open_custodian

        check_not_a_copy(settings)  # a copy would share the original's keys (issue 25)
        custodian = open_custodian(settings, create=create_master_key)
        try:
            self.engines = Engines(settings, create=create_master_key)
        except BaseException:
            custodian.close()
            raise
        pin_identity(settings)  # the store finds its keys again after a move (issue 25)
        try:
            # The key store proves the custodian's key (check value) before the event store
            # is opened, so a wrong key stops the command before it writes anything.
            self.keys = KeyStore(
                self.engines.keys, custodian, at=(clock or clocks.SystemClock()).now()
            )
        except BaseException:
            self.engines.dispose()
            custodian.close()
            raise
        with setup_lock(
            self.engines.readmodels, self.engines.readmodels.dialect.name, settings.store_key()
        ):
            self.store = EventStore(env=eventstore_env(settings))
        self.sealer = Sealer(self.keys)
        # Snapshots are trusted only with a MAC under a key-store key
        # (processor.storage.snapshotcover).
        self.store.cover_snapshots(lambda: self.keys.system_key("snapshot-mac"))
        # Every record is written with, and read only with, a MAC under a key-store key, so a
        # row inserted by SQL is never taken for an event (processor.storage.recordmac).
        self.store.seal_records_with(lambda: self.keys.system_key(RECORD_KEY_NAME))
        self.projector = Projector(
            self.store, self.engines.readmodels, self.sealer, self.keys, READ_MODEL_HANDLERS
        )
        # The events, not the key store, decide who is erased (RET-5): see processor.keys.erasures.
        self.sealer.erasures = ErasureRegister(self.store, self.projector.position)
        self.clock: clocks.Clock = clock or clocks.SystemClock()
        self._ledger: LedgerService | None = None
        # Saved, projected, not yet signed: by position (group commit, see `defer_signing`).
        self._unsigned: dict[int, Recording[Any]] | None = None
        self._unsigned_limit = 0
        # Credentials this process issued, by user name, for the caller that asked for them
        # (the CLI prints them once, the demo logs its cast in). Never stored anywhere.
        self.issued: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(
        cls, settings: Settings, clock: clocks.Clock | None = None, *, restoring: bool = False
    ) -> Self:
        """Open an initialised store (not one whose restore is unfinished, unless restoring)."""
        if not restoring:
            check_not_restoring(settings)  # its keys may not be re-destroyed yet (RET-5)
        proc = cls(settings, clock)
        try:
            initialised = proc.is_initialised()
        except (TypeError, ValueError, UnicodeError) as exc:
            # A stored record the event store cannot even decode (a column rewritten with
            # another type): an integrity failure (exit 3), not a crash.
            proc.close()
            raise IntegrityFailureError(
                f"the store's records at position 1 onwards cannot be read "
                f"({type(exc).__name__}): malformed stored records"
            ) from None
        if not initialised:
            proc.close()
            raise ConfigurationError("the store is not initialised: run `processor init` first")
        # Read models may have been rebuilt for a new schema. Only what the ledger has signed is
        # projected: a row forged into the events table must not reach them unverified.
        proc.projector.catch_up(until=proc.ledger.signed_position())
        return proc

    @staticmethod
    def check_init(
        settings: Settings,
        *,
        profile: str = "standard",
        processor_name: str = "processor",
        allow_keys_in_data_dir: bool = False,
    ) -> None:
        """Refuse an `init` that cannot succeed, before anything is written (RET-5).

        Keys inside the data directory are refused unless allowed: a backup of the data
        directory would then hold the keys and bring erased subjects back.
        """
        if not processor_name or not all(c.isalnum() or c in "-_." for c in processor_name):
            raise InvalidInputError(
                "the processor name goes into signed checkpoints: use letters, digits, - _ ."
            )
        if profile not in load_policies().profiles.profiles:
            raise NotFoundError(f"unknown staff-access profile {profile!r}")
        if not allow_keys_in_data_dir:
            settings.check_keys_apart()
        if store_has_events(settings):
            raise RefusedError("the store is already initialised", rule="StoreIsNew")
        leftover = leftover_keys(settings)
        if leftover is not None:
            raise ConfigurationError(
                f"the {leftover} still holds keys of an earlier store at this path "
                "(was its data deleted?): move it away, or delete it if that store is gone for "
                "good, then run init again"
            )
        if settings.master_key_hex or settings.master_key_path().exists():
            master_key(settings, create=False)  # malformed, weak or open to others: refused now
        elif settings.backend == "sqlite" and settings.keystore_file().exists():
            keys = settings.keystore_file()
            if keys.stat().st_size:
                raise ConfigurationError(
                    f"the key store {keys} already holds keys but there is no master key "
                    f"at {settings.master_key_path()}"
                )
        if settings.backend == "sqlite":
            check_private_sqlite_files(settings)

    def check_can_initialise(self, profile: str) -> None:
        """Refuse to initialise twice or with an unknown staff-access profile."""
        if self.is_initialised():
            raise RefusedError("the store is already initialised", rule="StoreIsNew")
        if profile not in self.policies.profiles.profiles:
            raise NotFoundError(f"unknown staff-access profile {profile!r}")

    def is_initialised(self) -> bool:
        """Tell whether the store's first event exists."""
        return store_id() in self.store.repository

    def find(self, aggregate_id: UUID) -> Any | None:  # noqa: ANN401 - callers narrow the type
        """The aggregate with this id, or None: one read (`id in repository` is a full read too)."""
        try:
            return self.store.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def store_info(self) -> Store:
        """The store aggregate (simulation flag, profile)."""
        store: Store = self.store.repository.get(store_id())
        return store

    @property
    def simulation(self) -> bool:
        """Whether this is a simulation store (its reports say SIMULATION)."""
        return bool(self.store_info().simulation)

    def close(self) -> None:
        """Release connections."""
        self.store.close()
        self.engines.dispose()
        self.keys.custodian.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- time ----------------------------------------------------------------------------------

    def using_clock(self) -> Any:  # noqa: ANN401
        """Context manager putting this store's clock in force for a command."""
        return clocks.using(self.clock)

    def now(self) -> datetime:
        """The time of this store's clock."""
        return self.clock.now()

    def last_event_time(self) -> datetime | None:
        """When the newest stored event happened (simulation clocks never go back past it)."""
        last = self.store.recorder.max_notification_id()
        if not last:
            return None
        # An unsigned tail may hold a forged record; then the newest signed one tells the time,
        # and the ledger refuses the forged one when a writing command tries to sign it.
        for position in dict.fromkeys((last, self.ledger.signed_position())):
            if not position:
                continue
            notes = self.store.recorder.select_notifications(start=position, limit=1)
            if not notes:
                continue
            try:
                event: Any = self.store.mapper.to_domain_event(notes[0])
            except Exception:  # noqa: BLE001, S112 - any decoding failure: try the signed one
                continue
            stamp: datetime = event.timestamp
            return stamp
        raise IntegrityFailureError(
            f"the stored record at position {last} cannot be read: run `processor ledger verify`"
        )

    # -- the write path ------------------------------------------------------------------------

    @property
    def ledger(self) -> LedgerService:
        """The tamper-evidence ledger over this store's events."""
        if self._ledger is None:
            from processor.link.service import LedgerService

            self._ledger = LedgerService(
                engine=self.engines.ledger,
                store=self.store,
                keys=self.keys,
                settings=self.settings,
                now=self.now,
                store_info=self.store_info,
            )
        return self._ledger

    def commit(self, *aggregates: Aggregate | Aggregate.Event) -> list[Recording[Any]]:
        """Save the aggregates' new events (or bare events) in one transaction, then sign them.

        Returns only after the events are covered by a new signed checkpoint and visible in the
        read models, so the next command (in any process) sees them; or, when signing is
        deferred (`defer_signing`), once they are visible, leaving the signature to the group
        commit the caller waits for before it answers.
        """
        try:
            recordings = self._save(aggregates)
        except ESIntegrityError:
            raise ConflictError(
                "the store changed while the command ran; nothing was saved, run it again"
            ) from None
        self.catch_up(recordings)
        return recordings

    def _save(self, objs: Sequence[Aggregate | Aggregate.Event]) -> list[Recording[Any]]:
        """Put the objects' new events in the event store, in one transaction.

        `Application.save` finds out what each object is with `isinstance` against runtime
        `typing` Protocols, which walks every protocol member per object: about half a second
        per 10,000 aggregates of an import. Our objects are always library aggregates or events,
        so they are told apart by their classes and their events go through the store's own
        `events.put` (the record-MAC mapper and recorder, unchanged). Anything else, a
        snapshotted type (its snapshot is taken by `save`) or a repository cache falls back to
        `save`, so snapshots and caching stay exactly as the library does them.
        """
        store = self.store
        # Decided for every object before any aggregate's pending events are collected: the
        # fallback must find all of them still pending.
        direct = store.repository.cache is None and all(
            isinstance(obj, DomainEvent)
            or (isinstance(obj, Aggregate) and type(obj) not in store.snapshotting_intervals)
            for obj in objs
        )
        if not direct:
            return store.save(*objs)
        events: list[Any] = []
        for obj in objs:
            if isinstance(obj, DomainEvent):
                events.append(obj)
            else:
                events.extend(obj.collect_events())
        return store.events.put(events)

    def catch_up(self, recent: Sequence[Recording[Any]] = ()) -> None:
        """Bring the ledger and the read models up to the end of the event store.

        `recent` are the recordings the command just saved: the ledger signs them and the
        projector applies them as handed, reading back from the store only what they do not
        cover (another writer's events, a gap).

        When signing is deferred (`defer_signing`, the server's group commit), this process's
        own records are projected at once and signed later by `sign_pending`, as long as every
        unsigned record is one of them; anything else (another writer's record, a command that
        died before signing, a gap) is signed here first, with all that waits, as always.
        """
        pending = self._unsigned
        if pending is not None:
            for recording in recent:
                pending[recording.notification.id] = recording
            if len(pending) >= self._unsigned_limit:
                recent = list(pending.values())  # too many waiting: sign them now
            elif not recent and self._nothing_new():
                return
            elif top := self._own_unsigned_tail(just_saved=bool(recent)):
                if recent or self.projector.seen < top:
                    self.projector.catch_up(recent, until=top)
                return
            else:
                recent = list(pending.values())
        # Refuses (IntegrityFailureError) before anything is projected.
        self.ledger.extend(recent)
        if pending:
            self._drop_signed(pending)
        # `extend` saw the signed position under the ledger's lock: no second query for it.
        self.projector.catch_up(recent, until=self.ledger.last_signed)

    # -- group commit (the server) ------------------------------------------------------------

    def defer_signing(self, limit: int = 1000) -> None:
        """Sign this process's commits in groups: `commit` saves and projects, `sign_pending` signs.

        Only a caller that makes every command wait for `sign_pending` before it answers may
        turn this on (`processor.api.runtime.Runtime` does, through
        `processor.kernel.groupcommit`): the promise that a command returns only once its
        events are stored, signed and visible is kept by that wait. Past `limit` unsigned
        records (a long import) a commit signs at once, so memory stays bounded.
        """
        if self._unsigned is None:
            self._unsigned = {}
        self._unsigned_limit = limit

    def unsigned_top(self) -> int:
        """The newest position this process saved and has not signed yet (0: none)."""
        return max(self._unsigned) if self._unsigned else 0

    def unsigned_count(self) -> int:
        """How many records this process saved and has not signed yet."""
        return len(self._unsigned) if self._unsigned else 0

    def sign_pending(self) -> int:
        """Sign what this process saved and has not signed (and anything before it): one checkpoint.

        Returns the newest signed position. Called by the group's leader, and before a receipt
        proves a record the command has just saved.
        """
        pending = self._unsigned
        recent = list(pending.values()) if pending else []
        projected = self._own_unsigned_tail(just_saved=True)
        self.ledger.extend(recent)
        if pending:
            self._drop_signed(pending)
        if self.ledger.last_signed != projected:
            # Records other than this process's own, already projected ones were signed.
            self.projector.catch_up(recent, until=self.ledger.last_signed)
        return self.ledger.last_signed

    def settle(self) -> None:
        """Sign now what this process saved and has not signed, if anything (a receipt needs it)."""
        if self._unsigned:
            self.sign_pending()

    def _drop_signed(self, pending: dict[int, Recording[Any]]) -> None:
        signed = self.ledger.last_signed
        for position in [p for p in pending if p <= signed]:
            del pending[position]

    def _nothing_new(self) -> bool:
        """Whether the store ends where this process last signed or saved, all of it projected.

        One read instead of a ledger and a projector transaction at the start of every request
        of a server: anything another writer saved moves the end, and then the full catch-up
        runs.
        """
        known = max(self.unsigned_top(), self.ledger.last_signed)
        if not known or self.projector.seen != known:
            return False
        return (self.store.recorder.max_notification_id() or 0) == known

    def _own_unsigned_tail(self, *, just_saved: bool) -> int:
        """The newest unsigned position, if every unsigned record up to it is this process's.

        After a save the handed recordings are the newest this process knows of; at the start
        of a command the store's end is read, so another writer's new records are signed (and
        MAC-checked) before they are projected.
        """
        pending = self._unsigned
        if not pending:
            return 0
        top = max(pending)
        signed = self.ledger.last_signed
        if top - signed > len(pending):
            return 0  # a gap, or another writer's records, between the signed and ours
        if any(p not in pending for p in range(signed + 1, top + 1)):
            return 0
        if not just_saved and (self.store.recorder.max_notification_id() or 0) != top:
            return 0
        return top

    def end_command(self) -> None:
        """Forget cached keys, so a later erasure by anyone is honoured at once."""
        self.sealer.forget()
