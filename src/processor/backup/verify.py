"""Accepting a backup only if its ledger holds (AUD-4): the tree, its checkpoints, the outside log.

The signed part of the restored log is recomputed from the stored records and checked against every
stored checkpoint and the log's public key (the restored key store's, the manifest's and, when
given, the one the person restoring trusts). It must extend the checkpoint the manifest recorded
and every checkpoint of the outside checkpoint log it can reach; a checkpoint there that is larger
than the backup means records signed after the backup would be lost, which is refused unless the
person restoring accepts it (then the old log is kept aside, so the store can sign again).
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ledger import (
    CheckpointError,
    CheckpointLog,
    MerkleTree,
    Verifier,
    verify_checkpoint,
    verify_log,
)
from processor.kernel.errors import IntegrityFailureError, RefusedError
from processor.link.tables import checkpoint_log_path, checkpoints

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.backup.manifest import Manifest
    from processor.backup.restoring import RestoreReport, RestoreRequest


def verify_backup(
    proc: Processor, manifest: Manifest, request: RestoreRequest, report: RestoreReport
) -> None:
    """Recompute the signed tree and check it against every checkpoint known (AUD-4)."""
    ledger = proc.ledger
    vkey = ledger.vkey()
    for what, expected in (
        ("the manifest", str(manifest.ledger.get("public_key", vkey))),
        ("--public-key", request.public_key or vkey),
    ):
        if expected.strip() != vkey:
            raise IntegrityFailureError(
                f"the restored ledger's public key is not the one in {what}: refusing the backup"
            )
    verifier = Verifier.from_vkey(vkey)
    with ledger.engine.connect() as conn:
        query = sa.select(checkpoints.c.note).order_by(checkpoints.c.size)
        notes = [str(n) for n in conn.execute(query).scalars()]
    signed = ledger.signed_position()
    records = itertools.takewhile(lambda r: r.position <= signed, ledger.iter_records())
    result = verify_log(records, notes, verifier, ledger.nodes, origin=ledger.origin)
    if not result.ok:
        raise IntegrityFailureError(f"the backup's ledger does not verify: {result.reason}")
    size = result.records_checked
    newest = verify_checkpoint(notes[-1], verifier, origin=ledger.origin) if notes else None
    if newest is None or newest.size != size:
        raise IntegrityFailureError(
            f"the backup holds {size} signed records but its newest checkpoint covers "
            f"{newest.size if newest else 0}: a checkpoint was removed"
        )
    tree = MerkleTree(ledger.nodes)
    try:
        recorded = verify_checkpoint(
            str(manifest.ledger.get("checkpoint", notes[-1])), verifier, origin=ledger.origin
        )
    except CheckpointError as exc:
        raise IntegrityFailureError(f"the manifest's checkpoint does not verify: {exc}") from None
    if recorded.size > size or tree.root(recorded.size) != recorded.root:
        raise IntegrityFailureError(
            f"the backup does not extend the checkpoint of size {recorded.size} recorded in its "
            "manifest: the backup was altered"
        )
    lost = _check_outside_logs(proc, manifest, verifier, tree, size, report)
    report.lost_records = lost
    if lost:
        if not request.accept_loss:
            raise RefusedError(
                f"the outside checkpoint log holds checkpoints {lost} records beyond this "
                "backup: those records would be lost; give --accept-loss to restore anyway",
                rule="RestoreMustNotLoseRecords",
            )
        # The store must be able to sign again from the backup's head; the old log is kept.
        target = checkpoint_log_path(proc.settings)
        if target.exists():
            archived = target.with_name(
                f"{target.name}.before-restore-{datetime.now(tz=UTC):%Y%m%dT%H%M%SZ}"
            )
            target.replace(archived)
            report.archived_checkpoint_log = str(archived)


def _check_outside_logs(
    proc: Processor,
    manifest: Manifest,
    verifier: Verifier,
    tree: MerkleTree,
    size: int,
    report: RestoreReport,
) -> int:
    """How many records the outside logs know beyond the backup; refuse a rewritten history."""
    ledger = proc.ledger
    logs = {checkpoint_log_path(proc.settings)}
    if manifest.ledger.get("checkpoint_log"):
        logs.add(Path(str(manifest.ledger["checkpoint_log"])))
    lost = 0
    for log_path in sorted(logs):
        try:
            entries = CheckpointLog(log_path).entries(verifier, ledger.origin)
        except CheckpointError as exc:
            raise IntegrityFailureError(str(exc)) from None
        report.outside_checkpoints_checked += len(entries)
        for entry in entries:
            if entry.checkpoint.size > size:
                lost = max(lost, entry.checkpoint.size - size)
            elif tree.root(entry.checkpoint.size) != entry.checkpoint.root:
                raise IntegrityFailureError(
                    f"the backup's first {entry.checkpoint.size} records are not those of the "
                    f"checkpoint at {log_path} line {entry.line}: history was rewritten"
                )
    return lost
