"""Through which channel, and under which operating-system account, a command runs.

Part of the small kernel (with errors, clock and the base aggregate): every event records it
(ACC-10, ACC-12), so the session that authenticated a person puts it in force for its commands,
the way the application puts the clock in force.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

CHANNELS = ("cli", "http", "python")


@dataclass(frozen=True)
class Via:
    """The channel of a command (`cli`, `http`, `python`) and, for the CLI, the OS account."""

    channel: str = "python"
    os_account: str | None = None


_current: ContextVar[Via] = ContextVar("processor_via", default=Via())  # noqa: B039 - frozen


def current() -> Via:
    """The channel in force."""
    return _current.get()


def channel() -> str:
    """The channel in force (read by every new event)."""
    return _current.get().channel


def os_account() -> str | None:
    """The operating-system account in force (read by every new event)."""
    return _current.get().os_account


def put(via: Via) -> None:
    """Put `via` in force for the rest of this context (a session does it per command)."""
    _current.set(via)


@contextlib.contextmanager
def using(via: Via) -> Iterator[None]:
    """Put `via` in force for a block."""
    token = _current.set(via)
    try:
        yield
    finally:
        _current.reset(token)
