"""List the snapshot rows that the snapshot store would ignore (forged or of a foreign type).

A forged snapshot already decides nothing (`processor.storage.snapshotcover`), but someone wrote it
with
access to the events database, and that is worth a finding of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent

from processor.integrity.findings import Finding
from processor.storage.snapshotcover import CoveredSnapshotStore

if TYPE_CHECKING:
    from processor.app import Processor


def _engine(proc: Processor) -> tuple[sa.Engine, bool]:
    """An engine on the events database, and whether this function created it."""
    if proc.settings.backend == "postgres":
        return proc.engines.readmodels, False  # the read models share the events' schema
    path = proc.settings.data_dir / "events.sqlite"
    return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"), True


def check_snapshots(proc: Processor) -> list[Finding]:
    """One finding per snapshot row whose MAC fails or whose aggregate type is never snapshotted."""
    store = proc.store.snapshots
    if not isinstance(store, CoveredSnapshotStore):
        return []
    name: str = getattr(store.recorder, "events_table_name", "")
    table = sa.Table(  # a Table, so that PostgreSQL's schema translation applies
        name,
        sa.MetaData(),
        sa.Column("originator_id"),
        sa.Column("originator_version"),
        sa.Column("topic"),
        sa.Column("state"),
    )
    engine, owned = _engine(proc)
    try:
        with engine.connect() as conn:
            rows = [
                StoredEvent(
                    originator_id=r[0] if isinstance(r[0], UUID) else UUID(str(r[0])),
                    originator_version=int(r[1]),
                    topic=str(r[2]),
                    state=bytes(r[3]),
                )
                for r in conn.execute(sa.select(table))
            ]
    finally:
        if owned:
            engine.dispose()
    return [
        Finding(
            check="snapshots",
            problem="snapshot not covered by its MAC (ignored, events replayed instead)",
            where=name,
            key=f"{row.originator_id}/{row.originator_version}",
        )
        for row in store.forged_rows(rows)
    ]
