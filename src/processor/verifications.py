"""When the ledger was last verified, kept in a small file beside the store's keys.

`processor status` tells an operator how long ago the whole store was last checked. Recording
that as an event would turn `ledger verify` into a writing command that signs records, and the
ledger's inspection commands must never write to the store they judge. So the last result is a
file in the per-store config folder (where the master key and the default checkpoint log live),
replaced on every run: it is a convenience for the operator, not evidence; the evidence is the
signed checkpoints that verification checks.

Every run that checks the whole ledger records itself here, not only `ledger verify`: `processor
demo` ends with one and `audit report` makes one (`record_check`), so `status` does not say
"never" right after either.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Protocol

from processor.config import private_dir

if TYPE_CHECKING:
    from pathlib import Path

    from processor.app import Processor
    from processor.config import Settings

LAST_VERIFICATION_FILE = "last-verification.json"


@dataclass(frozen=True)
class Verification:
    """The outcome of one whole-ledger verification (`ledger verify`, the demo, the report)."""

    at: str
    ok: bool
    records_checked: int
    checkpoints_checked: int
    reason: str | None = None


class Checked(Protocol):
    """What a whole-ledger verification reports (`ledger.verify.VerifyReport`)."""

    @property
    def ok(self) -> bool: ...  # noqa: D102
    @property
    def records_checked(self) -> int: ...  # noqa: D102
    @property
    def checkpoints_checked(self) -> int: ...  # noqa: D102
    @property
    def reason(self) -> str | None: ...  # noqa: D102


def last_verification_path(settings: Settings) -> Path:
    """Where the last verification of this store is recorded."""
    return settings.key_dir() / LAST_VERIFICATION_FILE


def record_verification(settings: Settings, verification: Verification) -> None:
    """Replace the recorded last verification (0600, written whole or not at all)."""
    path = last_verification_path(settings)
    private_dir(path.parent)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(asdict(verification), out)
    partial.replace(path)


def last_verification(settings: Settings) -> Verification | None:
    """The recorded last verification, or None if there is none or it cannot be read."""
    try:
        data = json.loads(last_verification_path(settings).read_text(encoding="utf-8"))
        return Verification(**data)
    except (OSError, ValueError, TypeError):
        return None


def record_check(proc: Processor, report: Checked) -> None:
    """Record a whole-ledger verification `proc` just ran, as `ledger verify` records its own."""
    record_verification(
        proc.settings,
        Verification(
            at=proc.now().isoformat(),
            ok=report.ok,
            records_checked=report.records_checked,
            checkpoints_checked=report.checkpoints_checked,
            reason=report.reason,
        ),
    )
