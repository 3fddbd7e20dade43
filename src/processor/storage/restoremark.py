"""The marker of an unfinished restore, read by every command that opens the store (RET-5).

`processor restore` (in `processor.backup.restore`) writes the marker before it loads anything
and removes it only once the store is verified and its erased keys are destroyed again. Opening
the store (`Processor.open`) checks for it here, below both, so the application core need not
import the restore use case to refuse a half-restored store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processor.kernel.errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

    from processor.config import Settings

MARKER = "restore-in-progress"


def restore_in_progress(settings: Settings) -> Path:
    """The marker of an unfinished restore into this store (in its config folder)."""
    return settings.key_dir() / MARKER


def check_not_restoring(settings: Settings) -> None:
    """Refuse to open a store whose restore did not finish: its keys may not be re-destroyed."""
    marker = restore_in_progress(settings)
    if marker.exists():
        raise ConfigurationError(
            "a restore into this store did not finish: run `processor restore` again "
            f"(marker {marker})"
        )
