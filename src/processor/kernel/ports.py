"""The small ports lower modules are handed instead of the whole `Processor`.

A rule check, a refusal or a notice needs to find an aggregate, commit aggregates, read the
store's clock and the policies in force: not the key store's custodian, the projector or the
ledger. Each port names one such need; `Core` combines them. `processor.app.Processor` satisfies
them structurally (mypy checks it where a `Processor` is passed), so the application does not
import this module and this module imports nothing of the processor outside the kernel.

The policies are a type parameter (`Core[Policies]` where they are read), because their shape
is the platform's (`processor.policies`), not the kernel's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from datetime import datetime
    from uuid import UUID

    from eventsourcing.domain import Aggregate

PoliciesT_co = TypeVar("PoliciesT_co", covariant=True)


class Finds(Protocol):
    """Loads an aggregate by id."""

    def find(self, aggregate_id: UUID) -> Any | None:  # noqa: ANN401 - callers narrow the type
        """The aggregate with this id, or None."""


class Commits(Protocol):
    """Stores aggregates' new events in one transaction (signed and projected before it returns)."""

    def commit(self, *aggregates: Aggregate | Aggregate.Event) -> object:
        """Save the aggregates' new events (or bare events) together."""


class Clocked(Protocol):
    """The store's clock: its time, and putting it in force for the events a command records."""

    def now(self) -> datetime:
        """The time of the store's clock."""

    def using_clock(self) -> AbstractContextManager[Any]:
        """A context manager in which new events take their time from the store's clock."""


class StoreFacts(Protocol):
    """What is read of the store aggregate: its staff-access profile and simulation flag."""

    @property
    def profile(self) -> str:
        """The staff-access profile the store was created with."""

    @property
    def simulation(self) -> bool:
        """Whether the store is a simulation."""


class Core(Finds, Commits, Clocked, Protocol[PoliciesT_co]):
    """Find, commit, the clock, the store's facts and the policies in force."""

    @property
    def policies(self) -> PoliciesT_co:
        """The policies in force (their version goes on every event that applied them)."""

    def store_info(self) -> StoreFacts:
        """The store aggregate's facts."""
