"""The staff registry (ACC-1, ACC-2, ACC-3) and lockout after refused attempts (ACC-8).

A processor user who may come near personal data must have a confidentiality undertaking and
training on record, and a review within the policy's period; a revoked user can do nothing from
that moment, and grants they held stop working with them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import seal_records
from processor.readmodels import tables as t
from processor.services import user_requests
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from processor.domain.users import User
    from processor.session import Session

STAFF_ROLES = ("support", "gdpa")
REVIEW_NOTE = "review-note"
UNLOCK_NOTE = "unlock-note"
REVOCATION_REASON = "user-revocation-reason"


class StaffService:
    """Reviews, revocations, unlocks and the registry of authorised staff."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def _review_period(self) -> timedelta:
        profile = self.proc.policies.profiles.profiles[self.proc.store_info().profile]
        return timedelta(days=profile.review_period_days)

    def must_be_current(self, user: User, command: str, controller: str | None) -> None:
        """Refuse staff without a confidentiality undertaking, training or a timely review."""
        if user.controller is not None:
            return
        if not (user.confidentiality_signed and user.trained):
            self.s.refuse_rule(
                command,
                controller,
                "StaffMustBeBoundAndTrained",
                "no confidentiality undertaking or training on record (ACC-1)",
            )
        if self.proc.now() - user.last_review > self._review_period():
            self.s.refuse_rule(
                command,
                controller,
                "StaffReviewMustBeCurrent",
                "the user's authorisation is overdue for its periodic review (ACC-2)",
            )

    def _target(self, name: str) -> User:
        user = self.s.find_user(name)
        if user is None:
            from processor.kernel.errors import NotFoundError

            raise NotFoundError(f"unknown user {name!r}")
        return user

    def review(self, name: str, note: str = "") -> dict[str, Any]:
        """Record a periodic review of a person's authorisation (ACC-2)."""
        self.s.authorize("users.review", command="users review")
        user = self._target(name)
        if user.revoked:
            raise RefusedError(
                "a revoked user cannot be reviewed back into access", rule="RevokedIsFinal"
            )
        with self.proc.using_clock():
            sealed = seal_records(self.proc.sealer, user.controller, REVIEW_NOTE, note.strip())
            user.review(actor=self.s.user_name, note=sealed)
            self.proc.commit(user)
        return {"name": name, "reviewed_at": user.last_review.isoformat()}

    def revoke(self, name: str, reason: str, request: int | None = None) -> dict[str, Any]:
        """Withdraw a user's access from now on, grants and credentials included (ACC-2).

        A controller's users are revoked by its own administrators; the processor's staff do it
        only on the controller's recorded request (ACC-13).
        """
        target = self.s.find_user(name)
        scope = target.controller if target is not None else None
        me = self.s.authorize("users.revoke", command="users revoke", controller=scope)
        if not reason.strip():
            raise InvalidInputError("a revocation needs a reason (--reason)")
        user = self._target(name)
        if user.controller is None and me.controller is not None:
            self.s.deny(
                "users revoke",
                me.controller,
                "ControllerUsersSeeOnlyTheirOwn",
                "a controller's administrator revokes only its own users",
            )
        requested: list[Aggregate] = []
        if user.controller is not None and me.controller is None:
            owner = find_controller(self.proc, user.controller)
            requested += user_requests.must_cite_request(
                self.s, owner, request, change="revoke", user=name, role=None
            )
        if user.revoked:
            raise RefusedError(f"user {name!r} is already revoked", rule="RevokedIsFinal")
        with self.proc.using_clock():
            # A deleted controller's users can still be revoked: its records key is gone, so
            # the reason is kept under the processor's.
            sealed = seal_records(
                self.proc.sealer,
                user.controller,
                REVOCATION_REASON,
                reason.strip(),
                or_processor=True,
            )
            user.revoke(actor=self.s.user_name, reason=sealed)
            self.proc.commit(user, *requested)
        return {"name": name, "revoked": True}

    def unlock(self, name: str, note: str = "") -> dict[str, Any]:
        """A GDPA lifts a lockout (ACC-8)."""
        self.s.authorize("users.unlock", command="users unlock")
        user = self._target(name)
        if not user.locked:
            raise RefusedError(f"user {name!r} is not locked", rule="UnlockNeedsLock")
        with self.proc.using_clock():
            sealed = seal_records(self.proc.sealer, user.controller, UNLOCK_NOTE, note.strip())
            user.unlock(actor=self.s.user_name, note=sealed)
            self.proc.commit(user)
        return {"name": name, "locked": False}

    def registry(self) -> list[dict[str, Any]]:
        """Processor staff with their undertaking, training and review state (ACC-3)."""
        self.s.authorize("staff.registry", command="users staff")
        return self.review_states()

    def review_states(self) -> list[dict[str, Any]]:
        """The registry's rows, for a command that authorised its caller itself (`status`)."""
        period = self._review_period()
        now = self.proc.now()
        with self.proc.engines.readmodels.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(t.users)
                    .where(t.users.c.controller.is_(None))
                    .order_by(t.users.c.name)
                )
                .mappings()
                .all()
            )
        return [
            {
                "name": r["name"],
                "role": r["role"],
                "confidentiality_signed": r["confidentiality_signed"],
                "trained": r["trained"],
                "last_review": r["last_review"].isoformat(),
                "review_due": (r["last_review"] + period).isoformat(),
                "overdue_for_review": now - r["last_review"] > period and not r["revoked"],
                "revoked": r["revoked"],
                "locked": r["locked"],
            }
            for r in rows
        ]
