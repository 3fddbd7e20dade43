"""One difference between a store and what the events say it must hold."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """A difference found by a check, named so that a person can find the row.

    `check` is the check that found it (`readmodels`, `keystore`, `snapshots`, `ledger`), `where`
    the table, `key` the row, `column` the field (or `*` for a whole row); `live` is what the
    store holds and `expected` what the events say.
    """

    check: str
    problem: str
    where: str
    key: str
    column: str = "*"
    live: Any = None
    expected: Any = None

    def as_dict(self) -> dict[str, Any]:
        """The finding as plain data (for `--json`)."""
        return asdict(self)

    def line(self) -> str:
        """The finding as one line of text."""
        detail = ""
        if self.column != "*":
            detail = f" {self.column}: live {self.live!r}, from the events {self.expected!r}"
        return f"{self.check}: {self.problem}: {self.where} [{self.key}]{detail}"
