"""Structured logs (structlog): JSON when not on a terminal, personal data never written.

Redaction is a processor in the chain, so it applies to every log call in the code base: values
under personal field names are replaced, and anything shaped like an e-mail address or a phone
number inside any string is masked, whatever key it is logged under.

structlog (with the console renderer's dependencies) is imported only when something is
logged: `configure` checks the level at once and applies the configuration on first use, so a
command that logs nothing (most of them, at the default level) does not pay for the import.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TYPE_CHECKING, Any

from processor.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from types import ModuleType

PERSONAL_KEYS = frozenset(
    {
        "email",
        "phone",
        "first_name",
        "last_name",
        "name_of_subject",
        "address",
        "postal_code",
        "city",
        "gender",
        "birth_date",
        "interests",
        "custom",
        "fields",
        "profile",
        "evidence",
        "consent_evidence",
        "body",
        "subject",
        "values",
        "row",
    }
)
REDACTED = "[redacted]"
_EMAIL = re.compile(r"[^\s@\"'<>(),;:]+@[^\s@\"'<>(),;:]+\.[A-Za-z]{2,}")
# Digits in phone shape, but not an ISO date (YYYY-MM-DD), which would otherwise match.
_PHONE = re.compile(r"(?<![\w-])(?!\d{4}-\d{2}-\d{2})\+?\d[\d \-]{6,}\d(?![\w-])")


def _scrub(value: Any) -> Any:  # noqa: ANN401
    if isinstance(value, str):
        return _PHONE.sub(REDACTED, _EMAIL.sub(REDACTED, value))
    if isinstance(value, dict):
        return {k: REDACTED if k in PERSONAL_KEYS else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_personal_data(
    _logger: Any,  # noqa: ANN401
    _method: str,
    event_dict: MutableMapping[str, Any],
) -> dict[str, Any]:
    """Structlog processor: drop personal values before anything is rendered."""
    return {k: REDACTED if k in PERSONAL_KEYS else _scrub(v) for k, v in event_dict.items()}


def configure(level: str = "WARNING", *, json: bool | None = None) -> None:
    """Configure structlog for the CLI: logs go to stderr, never mixed with command output.

    An unknown level fails here, at once; structlog itself is configured when first used.
    """
    levels = logging.getLevelNamesMapping()
    if level.upper() not in levels:
        raise ConfigurationError(
            f"unknown PROCESSOR_LOG_LEVEL {level!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL"
        )
    _pending[:] = [(levels[level.upper()], json)]
    if "structlog" in sys.modules:
        _structlog()  # already in use: apply now, as before


# The configuration `configure` asked for and that is not applied yet (at most one).
_pending: list[tuple[int, bool | None]] = []


def _structlog() -> ModuleType:
    """structlog, with the pending configuration applied first."""
    import structlog

    if _pending:
        number, json = _pending.pop()
        as_json = (not sys.stderr.isatty()) if json is None else json
        renderer: Any = (
            structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer()
        )
        structlog.configure(
            processors=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
                structlog.processors.format_exc_info,
                redact_personal_data,
                # Added after redaction: a timestamp is not personal data and looks like a phone
                # number.
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                renderer,
            ],
            wrapper_class=structlog.make_filtering_bound_logger(number),
            logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
            cache_logger_on_first_use=False,
        )
    return structlog


class _Logger:
    """A logger that imports and configures structlog on its first call."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, method: str) -> Any:  # noqa: ANN401
        return getattr(_structlog().get_logger(self._name), method)


def get_logger(name: str) -> Any:  # noqa: ANN401
    """A logger whose output passes through the redaction processor."""
    return _Logger(name)
