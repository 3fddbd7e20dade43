"""The injected clock.

Deadlines (24 h, 30 days, 120 days) are computed from recorded event times, so domain
code must never read the wall clock itself. The application sets the clock for the
duration of a command; aggregates' events take their timestamps from it.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Iterator


class Clock(Protocol):
    """Something that tells the time (always timezone-aware UTC)."""

    def now(self) -> datetime:
        """Return the current time."""
        ...


class SystemClock:
    """The real wall clock, for production stores."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(tz=UTC)


class FixedClock:
    """A clock that stands still until told to move: for tests and simulation stores."""

    def __init__(self, at: datetime) -> None:
        self._at = _aware(at)

    def now(self) -> datetime:
        """Return the time the clock was set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to `at` (tests may move it freely)."""
        self._at = _aware(at)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by `delta`."""
        self._at += delta


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


# SystemClock is stateless, so sharing one instance as the default is safe.
_current: ContextVar[Clock] = ContextVar("processor_clock", default=SystemClock())  # noqa: B039


def now() -> datetime:
    """Return the time of the clock in force for the current command."""
    return _current.get().now()


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the clock in force inside the `with` block."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
