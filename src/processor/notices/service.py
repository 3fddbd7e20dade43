"""Use cases of notices to controllers: list them, acknowledge one (ACC-14).

Creating a notice is `processor.notices.post.new_notice`, a layer lower, so that refusals and
services post notices without importing these use cases. Acknowledging one is refused to the
user an account recovery made, for a notice about that recovery (the rule lives here, with the
acknowledgement it guards).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.domain.recovery import AccountRecovery, recovery_id
from processor.kernel.errors import (
    NotFoundError,
)
from processor.keys import records_subject
from processor.notices.domain import ACCOUNT_RECOVERY, Notice
from processor.notices.post import PURPOSE, controller_exists
from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.domain.users import User
    from processor.session import Session


def must_not_acknowledge_own_recovery(session: Session, notice: Notice) -> None:
    """Refuse (recorded) the recovered user acknowledging a notice about their recovery.

    A notice that the processor gave someone a credential to the account is for the other
    people at the controller to read; the person it made cannot mark it as read for them.
    """
    if notice.kind != ACCOUNT_RECOVERY or not (notice.about or "").startswith("recovery:"):
        return
    number = int(str(notice.about).split(":", 1)[1])
    found = session.proc.find(recovery_id(notice.controller, number))
    if isinstance(found, AccountRecovery) and found.user == session.user_name:
        session.refuse_rule(
            "notices ack",
            notice.controller,
            "RecoveredUserMustNotAcknowledgeTheRecovery",
            "a notice about an account recovery is acknowledged by another of the controller's"
            " administrators, not by the user the recovery made",
        )


class NoticesService:
    """Lists notices and records acknowledgements; a controller's users see only their own."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def list(
        self, controller: str | None = None, unacknowledged: bool = False
    ) -> list[dict[str, Any]]:
        """Notices, oldest first: a controller user's own, or (processor staff) any controller's.

        Content is opened for the reader; after the controller's data is deleted it reads
        `[erased]`, while kind, time and acknowledgement stay as evidence the controller was told.
        """
        user = self.s.authorize("notices.read", command="notices", controller=controller)
        scope = controller if user.controller is None else user.controller
        if scope is not None and not controller_exists(self.proc, scope):
            raise NotFoundError(f"unknown controller {scope!r}")
        query = sa.select(t.notices).order_by(t.notices.c.position)
        if scope is not None:
            query = query.where(t.notices.c.controller == scope)
        if unacknowledged:
            query = query.where(t.notices.c.acknowledged_at.is_(None))
        with self.proc.engines.readmodels.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        self.proc.sealer.prefetch({records_subject(r["controller"]) for r in rows})
        return [self._shown(r) for r in rows]

    def ack(self, notice_id: str) -> dict[str, Any]:
        """Record the controller's acknowledgement of one of its notices (once)."""
        user = self.s.authorize("notices.ack", command="notices ack")
        notice = self._visible(user, notice_id)
        if notice.acknowledged_at is not None:
            self.s.refuse_rule(
                "notices ack",
                notice.controller,
                "NoticeIsAcknowledgedOnce",
                f"notice {notice_id} was already acknowledged by {notice.acknowledged_by} "
                f"at {notice.acknowledged_at.isoformat()}",
            )
        must_not_acknowledge_own_recovery(self.s, notice)
        with self.proc.using_clock():
            notice.acknowledge(actor=self.s.user_name)
            self.proc.commit(notice)
        return {
            "notice_id": str(notice.id),
            "controller": notice.controller,
            "kind": notice.kind,
            "acknowledged_at": notice.acknowledged_at,
            "acknowledged_by": notice.acknowledged_by,
        }

    def _visible(self, user: User, notice_id: str) -> Notice:
        """The notice if the user may see it; another controller's notice is merely unknown."""
        try:
            found = self.proc.find(uuid.UUID(notice_id))
        except ValueError:
            found = None
        if not isinstance(found, Notice) or (
            user.controller is not None and found.controller != user.controller
        ):
            raise NotFoundError(f"unknown notice {notice_id}")
        return found

    def _shown(self, row: dict[str, Any]) -> dict[str, Any]:
        subject = records_subject(row["controller"])
        return {
            "notice_id": row["notice_id"],
            "controller": row["controller"],
            "kind": row["kind"],
            "at": row["at"],
            "actor": row["actor"],
            "title": str(self.proc.sealer.open(subject, PURPOSE, row["title"])),
            "body": str(self.proc.sealer.open(subject, PURPOSE, row["body"])),
            "about": row["about"],
            "policy_version": row["policy_version"],
            "acknowledged_at": row["acknowledged_at"],
            "acknowledged_by": row["acknowledged_by"],
        }
