"""Ledger use cases a signed-in person runs: re-anchoring the checkpoint log (AUD-4).

The custody check itself (`processor.link.custody`) and the log's restart
(`LedgerService.reanchoring`) are the ledger's mechanism; deciding who may restart the log, and
recording why, is a use case with a `Session`, so it lives here, above the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import seal_records

if TYPE_CHECKING:
    from processor.session import Session

PERMISSION = "ledger.reanchor"
REASON_PURPOSE = "checkpoint-log-reanchor-reason"


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
