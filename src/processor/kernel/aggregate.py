"""The base aggregate: every event says who did it, through which channel, and when.

Timestamps come from the injected clock (`processor.kernel.clock`), never from the wall clock,
so that deadlines can be tested and simulated. The actor is an explicit argument of every
command method (ACC-10: every creation, change and deletion is logged with its actor).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from processor.kernel import clock, context


class ProcessorAggregate(Aggregate):
    """Base of every aggregate in the processor."""

    class Event(Aggregate.Event):
        """Base event: timestamped by the injected clock, with the channel it came through.

        `channel` and `os_account` are keyword-only with defaults read from the context the
        session put in force, so every event records them without every method passing them.
        """

        channel: str = dataclasses.field(default_factory=context.channel, kw_only=True)
        os_account: str | None = dataclasses.field(default_factory=context.os_account, kw_only=True)

        @staticmethod
        def create_timestamp() -> datetime:
            """Take the time from the clock in force for the command."""
            return clock.now()

        def mutate(self, aggregate: Any) -> Any:  # noqa: ANN401 - the library's own signature
            """Apply the event with `modified_on` already set to this event's time.

            `eventsourcing` runs an event's body before it updates `modified_on`, so a body that
            records "when" (consent, unsubscribe, erasure, approval) would otherwise get the
            previous event's time.
            """
            if aggregate is not None:
                aggregate.modified_on = self.timestamp
            return super().mutate(aggregate)

    class Created(Event, Aggregate.Created):
        """Base creation event."""

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:  # noqa: ANN401 - subclasses narrow it
        """Aggregates get random ids unless a subclass derives a stable one."""
        return uuid4()
