"""The sub-processor registry's read model: which sub-processors exist (SUB-1).

One small table, so that listing and checking can find every sub-processor without scanning
the event store. Everything else (notices, objections, engagement, supervision, outboxes)
is read from the aggregates themselves, because the rules need the dated history, not a
summary of it. The table is not in `tables.PROJECTED_TABLES`, so its handler is idempotent:
a rebuild that replays the creation again replaces the row instead of failing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.readmodels.projector import Handler, Projector
    from processor.readmodels.writes import Writes

subprocessors = sa.Table(
    "rm_subprocessors",
    t.metadata,
    sa.Column("subprocessor_id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def _registered(w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    sid = str(e.originator_id)
    w.execute(subprocessors.delete().where(subprocessors.c.subprocessor_id == sid))
    w.insert(
        subprocessors,
        {
            "subprocessor_id": sid,
            "name": e.details["name"],
            "position": pos,
            "created_at": e.timestamp,
        },
    )


def _added(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _registered(w, e, pos)


def _proposed(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _registered(w, e, pos)


# The events this module projects, for the table in `readmodels/registry.py`.
HANDLERS: dict[str, Handler] = {
    "SubProcessor.SubProcessorAdded": _added,
    "SubProcessor.SubProcessorProposed": _proposed,
}
