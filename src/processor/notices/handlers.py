"""How notices change the read model `rm_notices` (ACC-14).

The row copies the sealed title and body from the event, so a list needs no aggregate loads
and still holds no plaintext; shredding the controller's records key makes both unreadable
here as everywhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.readmodels.projector import Handler, Projector
    from processor.readmodels.writes import Writes


def _notified(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    w.insert(
        t.notices,
        {
            "notice_id": str(e.originator_id),
            "position": pos,
            "controller": e.controller,
            "kind": e.kind,
            "title": e.title,
            "body": e.body,
            "about": e.about,
            "at": e.timestamp,
            "actor": e.actor,
            "policy_version": e.policy_version,
            "acknowledged_at": None,
            "acknowledged_by": None,
        },
    )


def _acknowledged(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    w.execute(
        t.notices.update()
        .where(t.notices.c.notice_id == str(e.originator_id))
        .values(acknowledged_at=e.timestamp, acknowledged_by=e.actor)
    )


# The events this module projects, for the table in `readmodels/registry.py`.
HANDLERS: dict[str, Handler] = {
    "Notice.ControllerNotified": _notified,
    "Notice.NoticeAcknowledged": _acknowledged,
}
