"""The application: one store, its key store, read models and ledger, and the commit path.

A command flows: session (who, authorised?) -> aggregate method (rule checks, sealed values)
-> `commit()` (events saved in one transaction) -> ledger (leaves appended, checkpoint signed)
-> projector (read models caught up). The CLI is a thin layer over `Processor.login()` sessions.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError as ESIntegrityError

from processor import clock as clocks
from processor.config import Settings
from processor.domain.ids import store_id
from processor.domain.store import Store
from processor.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from processor.eventstore import EventStore, eventstore_env
from processor.keystore import KeyStore
from processor.policies import Policies, load_policies
from processor.readmodels.projector import Projector
from processor.sealing import Sealer
from processor.storage import Engines, ensure_postgres_schema

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import TracebackType

    from eventsourcing.domain import Aggregate
    from eventsourcing.persistence import Recording

    from processor.context import Via
    from processor.ledgerservice import LedgerService
    from processor.session import Session


class Processor:
    """An open store. Use `Processor.init()` once, then `Processor.open()`."""

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
        master = settings.master_key(create=create_master_key)
        self.engines = Engines(settings)
        self.store = EventStore(env=eventstore_env(settings))
        self.keys = KeyStore(self.engines.keys, master)
        self.sealer = Sealer(self.keys)
        self.projector = Projector(self.store, self.engines.readmodels, self.sealer, self.keys)
        self.clock: clocks.Clock = clock or clocks.SystemClock()
        self._ledger: LedgerService | None = None
        # Credentials this process issued, by user name, for the caller that asked for them
        # (the CLI prints them once, the demo logs its cast in). Never stored anywhere.
        self.issued: dict[str, str] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings, clock: clocks.Clock | None = None) -> Self:
        """Open an initialised store."""
        proc = cls(settings, clock)
        if not proc.is_initialised():
            proc.close()
            raise ConfigurationError("the store is not initialised: run `processor init` first")
        proc.projector.catch_up()  # read models may have been rebuilt for a new schema
        return proc

    @classmethod
    def init(
        cls,
        settings: Settings,
        *,
        gdpa: str,
        system_manager: str,
        simulation: bool = False,
        profile: str = "standard",
        processor_name: str = "processor",
        clock: clocks.Clock | None = None,
    ) -> Self:
        """Create a store with its keys, the GDPA and the system manager."""
        if not processor_name or not all(c.isalnum() or c in "-_." for c in processor_name):
            raise InvalidInputError(
                "the processor name goes into signed checkpoints: use letters, digits, - _ ."
            )
        proc = cls(settings, clock, create_master_key=True)
        try:
            proc.check_can_initialise(profile)
            from processor.domain.users import User

            with proc.using_clock():
                store = Store(
                    actor="init",
                    simulation=simulation,
                    profile=profile,
                    processor_name=processor_name,
                    policy_version=proc.policies.version,
                )
                gdpa_user = User(
                    actor="init",
                    name=gdpa,
                    role="gdpa",
                    controller=None,
                    confidentiality_signed=None,
                    trained=None,
                )
                manager = User(
                    actor="init",
                    name=system_manager,
                    role="system-manager",
                    controller=None,
                    confidentiality_signed=None,
                    trained=None,
                )
                from processor.credentials import service as credentials

                credentials.issue(proc, gdpa_user, "init")
                credentials.issue(proc, manager, "init")
                proc.ledger.ensure_signing_key()
                proc.commit(store, gdpa_user, manager)
        except BaseException:
            proc.close()
            raise
        return proc

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
        notes = self.store.recorder.select_notifications(start=last, limit=1)
        if not notes:
            return None
        event: Any = self.store.mapper.to_domain_event(notes[0])
        stamp: datetime = event.timestamp
        return stamp

    # -- the write path ------------------------------------------------------------------------

    @property
    def ledger(self) -> LedgerService:
        """The tamper-evidence ledger over this store's events."""
        if self._ledger is None:
            from processor.ledgerservice import LedgerService

            self._ledger = LedgerService(self)
        return self._ledger

    def commit(self, *aggregates: Aggregate | Aggregate.Event) -> list[Recording[Any]]:
        """Save the aggregates' new events (or bare events) in one transaction, then sign them.

        Returns only after the events are covered by a new signed checkpoint and visible in the
        read models, so the next command (in any process) sees them.
        """
        try:
            recordings = self.store.save(*aggregates)
        except ESIntegrityError:
            raise ConflictError(
                "the store changed while the command ran; nothing was saved, run it again"
            ) from None
        self.catch_up(recordings)
        return recordings

    def catch_up(self, recent: Sequence[Recording[Any]] = ()) -> None:
        """Bring the ledger and the read models up to the end of the event store."""
        self.ledger.extend()
        self.projector.catch_up(recent)

    def end_command(self) -> None:
        """Forget cached keys, so a later erasure by anyone is honoured at once."""
        self.sealer.forget()

    def login(self, user: str, credential: str, via: Via | None = None) -> Session:
        """Authenticate `user` with their personal credential and return their session.

        A wrong, rotated or revoked credential is recorded as a refusal, counts towards the
        lockout and raises `AccessDeniedError` (ACC-8, ACC-12). `via` says through which channel
        the person acts (default: the Python API); every event of the session records it.
        """
        from processor.context import Via
        from processor.credentials.service import authenticate

        return authenticate(self, user, credential, via or Via("python"))
