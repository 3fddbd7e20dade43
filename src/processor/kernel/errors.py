"""One exception tree, rooted in `ProcessorError`.

Each class carries the CLI exit code it maps to, so the command line translates every
failure into a one-line message and a meaningful exit status in one place.
"""

from __future__ import annotations


class ProcessorError(Exception):
    """Root of every error the processor raises on purpose."""

    exit_code = 2


class InvalidInputError(ProcessorError):
    """The input is malformed (bad e-mail, bad KEY=VALUE, bad file)."""

    exit_code = 2


class NotFoundError(ProcessorError):
    """An id (controller, contact, list, user, grant) does not exist."""

    exit_code = 2


class RefusedError(ProcessorError):
    """A rule or policy forbids the command (exit 1)."""

    exit_code = 1

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule


class AccessDeniedError(RefusedError):
    """The acting user may not run this command; an `AccessDenied` event was recorded."""


class ConflictError(ProcessorError):
    """The store changed under the command (a concurrent writer); retrying is safe."""

    exit_code = 1


class IntegrityFailureError(ProcessorError):
    """Stored data failed an integrity check (tampering or corruption)."""

    exit_code = 3


class ConfigurationError(ProcessorError):
    """The data directory, database URL or master key is missing or unusable."""

    exit_code = 2


class CannotWriteError(ProcessorError):
    """An output the user named cannot be written (full device, no permission, closed pipe).

    Exit 2, like other input the user can fix: the command's own work is unaffected (an erasure
    stands; its receipt can be issued again with `receipts issue`).
    """

    exit_code = 2


class FindingsError(ProcessorError):
    """A report ran and found something that needs attention (exit 1, for cron).

    Not a refusal: nothing was refused, so nothing is recorded as `AccessDenied`.
    """

    exit_code = 1

    def __init__(self, message: str, *, rule: str = "") -> None:
        super().__init__(message)
        self.rule = rule
