"""How long a server's group commit waits, and how much it gathers (`processor serve`).

Read from the environment, as the other serving settings are (`processor.api.serve` hands them
to uvicorn's workers the same way): PROCESSOR_GROUP_COMMIT_MS, the longest a signature waits
for commands already under way (default 5 ms; 0 signs as soon as the first waiter leads), and
PROCESSOR_GROUP_COMMIT_MAX, the most records one signature waits for before it signs anyway
(default 1,000, the import's batch). docs/performance.md, "Group commit", has the measurements
behind the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from processor.kernel.errors import ConfigurationError

WINDOW_ENV: Final = "PROCESSOR_GROUP_COMMIT_MS"
MAX_ENV: Final = "PROCESSOR_GROUP_COMMIT_MAX"
DEFAULT_WINDOW_MS: Final = 5.0
DEFAULT_MAX: Final = 1000


@dataclass(frozen=True)
class Grouping:
    """The group commit's window (seconds) and its largest group (records)."""

    window: float
    max_pending: int


def _number(name: str, default: float, low: float, high: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number, not {text!r}") from None
    if not low <= value <= high:
        raise ConfigurationError(f"{name} must be between {low:g} and {high:g}, not {text}")
    return value


def grouping() -> Grouping:
    """The settings in force (one-line errors for malformed values)."""
    window_ms = _number(WINDOW_ENV, DEFAULT_WINDOW_MS, 0, 1000)
    most = _number(MAX_ENV, DEFAULT_MAX, 1, 100_000)
    if most != int(most):
        raise ConfigurationError(f"{MAX_ENV} must be a whole number, not {most:g}")
    return Grouping(window=window_ms / 1000, max_pending=int(most))
