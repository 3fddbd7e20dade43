"""The staff registry (ACC-1, ACC-2, ACC-3) and lockout after refused attempts (ACC-8).

A processor user who may come near personal data must have a confidentiality undertaking and
training on record, and a review within the policy's period; a revoked user can do nothing from
that moment, and grants they held stop working with them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.errors import InvalidInputError, RefusedError
from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.domain.users import User
    from processor.session import Session

STAFF_ROLES = ("support", "gdpa")


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
            self.s.deny(
                command,
                controller,
                "StaffMustBeBoundAndTrained",
                "no confidentiality undertaking or training on record (ACC-1)",
            )
        if self.proc.now() - user.last_review > self._review_period():
            self.s.deny(
                command,
                controller,
                "StaffReviewMustBeCurrent",
                "the user's authorisation is overdue for its periodic review (ACC-2)",
            )

    def _target(self, name: str) -> User:
        user = self.s.find_user(name)
        if user is None:
            from processor.errors import NotFoundError

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
            user.review(actor=self.s.user_name, note=note)
            self.proc.commit(user)
        return {"name": name, "reviewed_at": user.last_review.isoformat()}

    def revoke(self, name: str, reason: str) -> dict[str, Any]:
        """Withdraw a user's access from now on, grants included (ACC-2)."""
        self.s.authorize("users.revoke", command="users revoke")
        if not reason.strip():
            raise InvalidInputError("a revocation needs a reason (--reason)")
        user = self._target(name)
        if user.revoked:
            raise RefusedError(f"user {name!r} is already revoked", rule="RevokedIsFinal")
        with self.proc.using_clock():
            user.revoke(actor=self.s.user_name, reason=reason.strip())
            self.proc.commit(user)
        return {"name": name, "revoked": True}

    def unlock(self, name: str, note: str = "") -> dict[str, Any]:
        """A GDPA lifts a lockout (ACC-8)."""
        self.s.authorize("users.unlock", command="users unlock")
        user = self._target(name)
        if not user.locked:
            raise RefusedError(f"user {name!r} is not locked", rule="UnlockNeedsLock")
        with self.proc.using_clock():
            user.unlock(actor=self.s.user_name, note=note)
            self.proc.commit(user)
        return {"name": name, "locked": False}

    def registry(self) -> list[dict[str, Any]]:
        """Processor staff with their undertaking, training and review state (ACC-3)."""
        self.s.authorize("staff.registry", command="users staff")
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
