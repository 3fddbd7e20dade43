"""Use cases for users: add and list (ACC-1, ACC-9, ACC-10)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.credentials import service as credentials
from processor.domain.users import User
from processor.errors import InvalidInputError, NotFoundError, RefusedError
from processor.policies import CONTROLLER_ROLES, PROCESSOR_ROLES
from processor.readmodels import tables as t
from processor.services import validation as v

if TYPE_CHECKING:
    from processor.session import Session

# Processor roles whose holders may come near personal data need a recorded confidentiality
# undertaking and training before they exist as users (ACC-1).
ROLES_NEEDING_UNDERTAKING = frozenset({"support", "gdpa"})


class UsersService:
    """Adds and lists users."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def add(
        self,
        name: str,
        role: str,
        controller: str | None = None,
        confidentiality_signed: str | None = None,
        trained: str | None = None,
    ) -> dict[str, Any]:
        """Create a user; controller users are created by that controller's administrator."""
        v.user_name(name)
        if controller is None:
            if role not in PROCESSOR_ROLES:
                raise InvalidInputError(
                    f"unknown processor role {role!r}: one of {', '.join(PROCESSOR_ROLES)}"
                    " (controller roles need --controller)"
                )
            self.s.authorize("users.add.processor", command="users add")
            if role in ROLES_NEEDING_UNDERTAKING and not (confidentiality_signed and trained):
                raise RefusedError(
                    f"a {role} user needs --confidentiality-signed and --trained dates (ACC-1)",
                    rule="StaffMustBeBoundAndTrained",
                )
        else:
            if role not in CONTROLLER_ROLES:
                raise InvalidInputError(
                    f"unknown controller role {role!r}: one of {', '.join(CONTROLLER_ROLES)}"
                )
            self.s.authorize("users.add.controller", command="users add", controller=controller)
            self.s.controllers.get(controller)
        signed = v.iso_date(confidentiality_signed, "date") if confidentiality_signed else None
        trained_on = v.iso_date(trained, "date") if trained else None
        if self.s.find_user(name) is not None:
            raise RefusedError(f"user {name!r} already exists", rule="UserNamesAreUnique")
        with self.proc.using_clock():
            user = User(
                actor=self.s.user_name,
                name=name,
                role=role,
                controller=controller,
                confidentiality_signed=signed,
                trained=trained_on,
            )
            credential = credentials.issue(self.proc, user, self.s.user_name)
            self.proc.commit(user)
        return {
            "name": name,
            "role": role,
            "controller": controller,
            "credential_id": credential.credential_id,
            "credential": credential.text,
        }

    def rotate_credential(self, name: str) -> dict[str, Any]:
        """Issue a new credential to `name`; the old one stops working at once (ACC-12).

        A person rotates their own; the system manager rotates a processor user's, and a
        controller's administrator one of its own users'.
        """
        target = self.get(name)
        if name != self.s.user_name:
            if target.controller is None:
                self.s.authorize("users.add.processor", command="users credential")
            else:
                self.s.authorize(
                    "users.add.controller", command="users credential", controller=target.controller
                )
        else:
            self.s.authorize("self.credential", command="users credential")
        if target.revoked:
            raise RefusedError(f"user {name!r} is revoked", rule="RevokedIsFinal")
        with self.proc.using_clock():
            credential = credentials.issue(self.proc, target, self.s.user_name, rotated=True)
            self.proc.commit(target)
        return {
            "name": name,
            "credential_id": credential.credential_id,
            "credential": credential.text,
        }

    def list(self, controller: str | None = None) -> list[dict[str, Any]]:
        """List users; controller users see only their own controller's users (ACC-9)."""
        me = self.s.authorize("users.list", command="users list", controller=controller)
        if me.controller is not None:
            controller = me.controller
        query = sa.select(t.users).order_by(t.users.c.name)
        if controller is not None:
            query = query.where(t.users.c.controller == controller)
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                "name": r["name"],
                "role": r["role"],
                "controller": r["controller"],
                "confidentiality_signed": r["confidentiality_signed"],
                "trained": r["trained"],
                "created_at": r["created_at"].isoformat(),
                "created_by": r["created_by"],
            }
            for r in rows
        ]

    def get(self, name: str) -> User:
        """Load a user or fail with NotFoundError."""
        user = self.s.find_user(name)
        if user is None:
            raise NotFoundError(f"unknown user {name!r}")
        return user
