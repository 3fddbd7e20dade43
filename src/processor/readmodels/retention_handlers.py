"""How retention and message events change the read models (RET-3, RET-5, RET-7, SUBJ-7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.keys import records_subject
from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.readmodels.projector import Handler, Projector
    from processor.readmodels.writes import Writes


def _message_recorded(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.insert(
        t.messages,
        {
            "message_id": str(e.originator_id),
            "controller": e.controller,
            "number": e.number,
            "contact_id": e.contact,
            "channel": e.medium,
            "key_id": e.key_id,
            "sent_at": e.timestamp,
            "content_expires_at": e.content_expires_at,
            "content_shredded": False,
            "shredded_at": None,
            # Messages recorded before these facts were kept count as one unit, not a test.
            "units": getattr(e, "units", 1),
            "test": getattr(e, "test", False),
            "bounced_at": None,
        },
    )


def _message_bounced(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.execute(
        t.messages.update()
        .where(t.messages.c.message_id == str(e.originator_id))
        .values(bounced_at=e.timestamp)
    )


def _message_shredded(p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.flush()
    message_id = str(e.originator_id)
    key_id = w.conn.execute(
        sa.select(t.messages.c.key_id).where(t.messages.c.message_id == message_id)
    ).scalar_one()
    # As for ContactErased: a shredding interrupted after its event completes itself here.
    p.sealer.shred([str(key_id)], e.timestamp)
    w.execute(
        t.messages.update()
        .where(t.messages.c.message_id == message_id)
        .values(content_shredded=True, shredded_at=e.timestamp)
    )


def _sweep_started(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.insert(
        t.sweep_runs,
        {
            "run_id": str(e.originator_id),
            "at": e.at,
            "started_at": e.timestamp,
            "started_by": e.actor,
            "completed_at": None,
            "contacts": 0,
            "messages": 0,
        },
    )


def _sweep_batch(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    runs = t.sweep_runs
    w.execute(
        runs.update()
        .where(runs.c.run_id == str(e.originator_id))
        .values(contacts=runs.c.contacts + e.contacts, messages=runs.c.messages + e.messages)
    )
    if e.scope != "controller":
        return
    totals = t.retention_totals
    found = w.conn.execute(
        sa.select(totals.c.controller).where(totals.c.controller == e.controller)
    ).first()
    if found is None:
        w.execute(
            totals.insert().values(
                controller=e.controller,
                contacts=e.contacts,
                contact_events=e.contact_events,
                messages=e.messages,
            )
        )
        return
    w.execute(
        totals.update()
        .where(totals.c.controller == e.controller)
        .values(
            contacts=totals.c.contacts + e.contacts,
            contact_events=totals.c.contact_events + e.contact_events,
            messages=totals.c.messages + e.messages,
        )
    )


def _run_finished(w: Writes, e: Any) -> None:  # noqa: ANN401
    w.execute(
        t.sweep_runs.update()
        .where(t.sweep_runs.c.run_id == str(e.originator_id))
        .values(completed_at=e.timestamp)
    )


def _sweep_completed(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _run_finished(w, e)


def _sweep_superseded(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _run_finished(w, e)


def _data_deleted(p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    ref: str = p.store.repository.get(e.originator_id, version=e.originator_version).ref
    # As for ContactErased: the records key goes with the data, even if the sweep died after
    # storing this event (RET-3, RET-5).
    p.sealer.shred([records_subject(ref)], e.timestamp)
    w.insert(
        t.deletions,
        {
            "controller": ref,
            "position": pos,
            "deleted_at": e.timestamp,
            "sweep_run": e.sweep_run,
            "rule": e.rule,
            "why": e.why,
            "due_at": e.due_at,
            "subjects": e.subjects,
            "messages": e.messages,
            "policy_version": e.policy_version,
        },
    )


# The events this module projects, for the table in `readmodels/registry.py`.
HANDLERS: dict[str, Handler] = {
    "Message.MessageRecorded": _message_recorded,
    "Message.MessageBounced": _message_bounced,
    "Message.MessageContentShredded": _message_shredded,
    "SweepRun.SweepStarted": _sweep_started,
    "SweepRun.SweepBatchCompleted": _sweep_batch,
    "SweepRun.SweepCompleted": _sweep_completed,
    "SweepRun.SweepSuperseded": _sweep_superseded,
    "Controller.PersonalDataDeleted": _data_deleted,
}
