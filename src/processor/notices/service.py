"""Use cases of notices to controllers: create one, list them, acknowledge one (ACC-14).

`new_notice` is the one way any part of the processor tells a controller something: it seals
the content and returns the `Notice` aggregate *uncommitted*, so the caller commits it in the
same transaction as the fact it reports (a lockout, a breach, a sub-processor change). Either
both are stored, or neither is.

This module imports neither the session nor `refusals` at run time: `refusals` imports it.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.kernel.errors import (
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from processor.keys import records_subject
from processor.notices.domain import KINDS, Notice
from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.domain.users import User
    from processor.session import Session

PURPOSE = "notice"
TITLE_MAX = 200


def new_notice(
    proc: Processor,
    *,
    controller: str,
    kind: str,
    title: str,
    body: str,
    actor: str,
    about: str | None = None,
) -> Notice:
    """A new notice to `controller`, content sealed with its records key; the caller commits it.

    `about` is the id of the fact the notice reports (a denial, a breach, a sub-processor), never
    personal data. Refused when the controller's data was deleted: nothing can be sealed for it.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"unknown notice kind {kind!r} (one of {', '.join(KINDS)})")
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX:
        raise InvalidInputError(f"a notice needs a title of 1 to {TITLE_MAX} characters")
    if not _controller_exists(proc, controller):
        raise NotFoundError(f"unknown controller {controller!r}")
    if records_erased(proc, controller):
        raise RefusedError(
            f"the data of controller {controller!r} is deleted: there is no one left to notify",
            rule="ControllerDataMustNotBeDeleted",
        )
    subject = records_subject(controller)
    with proc.using_clock():
        return Notice(
            actor=actor,
            controller=controller,
            kind=kind,
            title=proc.sealer.seal(subject, PURPOSE, title),
            body=proc.sealer.seal(subject, PURPOSE, body),
            policy_version=proc.policies.version,
            about=about,
        )


def records_erased(proc: Processor, controller: str) -> bool:
    """Whether the controller's records key was destroyed (its data deleted, RET-1/RET-2)."""
    subject = records_subject(controller)
    try:
        return proc.sealer.key(subject) is None
    except IntegrityFailureError:
        # Workaround, remove when controller registration creates the records key (the
        # free-text sealing change): a controller registered without one gets it here, on its
        # first notice. The key store reports a subject with neither key nor tombstone as an
        # integrity failure; a concurrent creator wins the insert, and the next read finds it.
        with contextlib.suppress(sa.exc.IntegrityError):
            proc.sealer.new_subjects([subject], proc.now())
        return proc.sealer.key(subject) is None


def _controller_exists(proc: Processor, ref: str) -> bool:
    with proc.engines.readmodels.connect() as conn:
        found = conn.execute(
            sa.select(t.controllers.c.ref).where(t.controllers.c.ref == ref)
        ).first()
    return found is not None


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
        if scope is not None and not _controller_exists(self.proc, scope):
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
        # Imported here: `refusals` imports this module, and recovery imports the session's world.
        from processor.services.recovery import must_not_acknowledge_own_recovery

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
