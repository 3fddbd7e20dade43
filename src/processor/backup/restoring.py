"""What a restore is asked (`RestoreRequest`) and what it did (`RestoreReport`).

Apart from `processor.backup.restore` because the ledger check of a backup
(`processor.backup.verify`), which the restore calls, reads the one and fills in the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class RestoreReport:
    """What a restore did."""

    records: int = 0
    ledger_size: int = 0
    keys_restored: bool = False
    destroyed_again: list[str] = field(default_factory=list)
    tombstoned: int = 0
    kek_rotation: dict[str, Any] = field(default_factory=dict)
    keys_missing: list[str] = field(default_factory=list)
    lost_records: int = 0
    outside_checkpoints_checked: int = 0
    archived_checkpoint_log: str | None = None
    resumed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON data."""
        return {
            "records": self.records,
            "ledger_size": self.ledger_size,
            "keys_restored": self.keys_restored,
            "keys_destroyed_again": len(self.destroyed_again),
            "subjects_destroyed_again": self.destroyed_again,
            "tombstones_added": self.tombstoned,
            "kek_rotation": self.kek_rotation,
            "keys_missing": len(self.keys_missing),
            "lost_records": self.lost_records,
            "outside_checkpoints_checked": self.outside_checkpoints_checked,
            "archived_checkpoint_log": self.archived_checkpoint_log,
            "resumed": self.resumed,
        }


@dataclass(frozen=True)
class RestoreRequest:
    """Where from, and what the person restoring accepts."""

    source: Path
    keys_from: Path | None = None
    public_key: str | None = None
    accept_loss: bool = False
