"""Custody of the outside checkpoint log: a store notices when its log is gone (AUD-4).

The checkpoint log is kept apart from the database so that a database administrator who rolls
the store back is caught by it. The other half: someone with the shell account that holds the
log (not the database) could delete, empty or cut it, and the store used to start a new one
without a word, so the next rollback went unseen. The store now remembers what it published
where that person cannot reach: its own signed checkpoints, in the database. Every checkpoint
is appended to the log *before* its database transaction commits, so an intact log always holds
a checkpoint at least as large as the newest one in the database (a crash between the two
leaves the log ahead, never behind). A log that is missing, holds no checkpoint of this store,
or ends below the store's newest checkpoint is therefore an integrity failure (exit 3) for
`ledger verify`, `doctor` and every command that signs, until a GDPA re-anchors it.

Re-anchoring (`processor ledger reanchor --reason TEXT`, GDPA only) records
`CheckpointLogReanchored` (what the log held, what the store had published, the reason sealed),
sets the old log file aside (kept, never deleted) and starts the log again from the checkpoint
that covers that very event. It is refused when the log is not behind: it cannot be used to
forget checkpoints the store no longer extends (a rollback).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import seal_records

if TYPE_CHECKING:
    from pathlib import Path

    from processor.session import Session

PERMISSION = "ledger.reanchor"
REASON_PURPOSE = "checkpoint-log-reanchor-reason"
REANCHOR_HINT = "a GDPA must find out why and run `processor ledger reanchor --reason TEXT`"


@dataclass(frozen=True)
class LogCustody:
    """What the store published and what its checkpoint log holds now."""

    path: Path
    published: int  # the size of the store's newest signed checkpoint (0: none yet)
    exists: bool
    log_size: int | None  # the log's largest checkpoint of this store (None: none in it)

    @property
    def behind(self) -> bool:
        """The log lost checkpoints the store published (deleted, emptied or cut)."""
        return self.published > 0 and (self.log_size or 0) < self.published

    def problem(self) -> str | None:
        """The one-line integrity failure, or None when the log holds what was published."""
        if not self.behind:
            return None
        if not self.exists:
            state = "is missing"
        elif self.log_size is None:
            state = "holds no checkpoint of this store"
        else:
            state = f"ends at tree size {self.log_size}"
        return (
            f"the checkpoint log {self.path} {state} but this store published checkpoints up "
            f"to tree size {self.published}: the log was deleted, emptied or cut; "
            f"{REANCHOR_HINT}"
        )


def reanchor(session: Session, reason: str) -> dict[str, Any]:
    """Start the checkpoint log again from the store's current checkpoint, recorded (GDPA)."""
    session.authorize(PERMISSION, command="ledger reanchor")
    text = reason.strip()
    if not text:
        raise InvalidInputError("give --reason: why the checkpoint log is started again")
    proc = session.proc
    ledger = proc.ledger
    custody = ledger.custody(tolerate_unreadable=True)
    if custody.published == 0:
        raise RefusedError(
            "the ledger has signed no checkpoint yet: there is nothing to re-anchor",
            rule="CheckpointLogMustBeBehind",
        )
    if not custody.behind:
        raise RefusedError(
            f"the checkpoint log {custody.path} holds tree size {custody.log_size}, at least "
            f"the store's newest checkpoint ({custody.published}): it is not behind, there is "
            "nothing to re-anchor",
            rule="CheckpointLogMustBeBehind",
        )
    store = proc.store_info()
    with proc.using_clock():
        store.reanchor_checkpoint_log(
            actor=session.user_name,
            log_size=custody.log_size if custody.exists else 0,
            store_size=custody.published,
            reason=seal_records(proc.sealer, None, REASON_PURPOSE, text),
        )
        with ledger.reanchoring() as restarted:
            proc.commit(store)
    return {
        "checkpoint_log": str(custody.path),
        "log_size_before": custody.log_size,
        "published_before": custody.published,
        "restarted_at_size": ledger.size(),
        "old_log_kept_as": None if restarted.kept is None else str(restarted.kept),
    }
