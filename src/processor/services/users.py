"""Use cases for users: add, list, credentials, undertakings (ACC-1, ACC-9, ACC-12, ACC-13)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.credentials import service as credentials
from processor.domain.users import User
from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError
from processor.policies import CONTROLLER_ROLES, PROCESSOR_ROLES
from processor.readmodels import tables as t
from processor.services import security_policy, user_requests
from processor.services import validation as v
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from processor.session import Session


class UsersService:
    """Adds users, rotates credentials and records staff undertakings."""

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
        request: int | None = None,
    ) -> dict[str, Any]:
        """Create a user with a personal credential (returned once).

        A controller's users are created by its own administrators (ACC-9, ACC-13). The
        processor's system manager does it only on a recorded request of the controller: an
        instruction of kind `user-request` naming this very change, cited as `request`; the
        credential it gets is marked as handed over, so its holder must replace it before acting.
        """
        v.user_name(name)
        me: User
        requested: list[Aggregate] = []
        if controller is None:
            if role not in PROCESSOR_ROLES:
                raise InvalidInputError(
                    f"unknown processor role {role!r}: one of {', '.join(PROCESSOR_ROLES)}"
                    " (controller roles need --controller)"
                )
            me = self.s.authorize("users.add.processor", command="users add")
            if self.s.role_spec_of("processor", role).bound and not (
                confidentiality_signed and trained
            ):
                self.s.refuse_rule(
                    "users add",
                    None,
                    "StaffMustBeBoundAndTrained",
                    f"a {role} user needs --confidentiality-signed and --trained dates (ACC-1)",
                )
        else:
            if role not in CONTROLLER_ROLES:
                raise InvalidInputError(
                    f"unknown controller role {role!r}: one of {', '.join(CONTROLLER_ROLES)}"
                )
            me = self.s.authorize(
                "users.add.controller", command="users add", controller=controller
            )
            target_controller = find_controller(self.proc, controller)
            if me.controller is None:
                requested += user_requests.must_cite_request(
                    self.s, target_controller, request, change="add", user=name, role=role
                )
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
            credential = credentials.issue(
                self.proc, user, self.s.user_name, by_staff=me.controller is None
            )
            if controller is None:
                # The processor's own staff start with the IT-security policy in force (ACC-15).
                security_policy.acknowledged_at_creation(self.proc, user, self.s.user_name)
            self.proc.commit(user, *requested)
        result: dict[str, Any] = {
            "name": name,
            "role": role,
            "controller": controller,
            "credential_id": credential.credential_id,
            "credential": credential.text,
        }
        if request is not None and me.controller is None:
            result["request"] = request
        return result

    def record_undertaking(
        self, name: str, confidentiality_signed: str, trained: str
    ) -> dict[str, Any]:
        """Record a staff member's confidentiality undertaking and training (ACC-1).

        The GDPA and system manager made by `init` without them are pending until they record
        their own; the system manager records them for other processor staff.
        """
        if name == self.s.user_name:
            self.s.authorize("self.undertaking", command="users undertaking")
        else:
            self.s.authorize("users.add.processor", command="users undertaking")
        target = self.get(name)
        if target.controller is not None:
            raise InvalidInputError(f"{name!r} is a controller's user, not processor staff")
        signed = v.iso_date(confidentiality_signed, "date")
        trained_on = v.iso_date(trained, "date")
        with self.proc.using_clock():
            target.record_undertaking(
                actor=self.s.user_name, confidentiality_signed=signed, trained=trained_on
            )
            self.proc.commit(target)
        return {"name": name, "confidentiality_signed": signed, "trained": trained_on}

    def rotate_credential(self, name: str, request: int | None = None) -> dict[str, Any]:
        """Issue a new credential to `name`; the old one stops working at once (ACC-12).

        A person rotates their own; the system manager rotates a processor user's (or a
        controller user's on a recorded request), and a controller's administrator one of its
        own users'.
        """
        target = self.get(name)
        me: User
        requested: list[Aggregate] = []
        if name != self.s.user_name:
            if target.controller is None:
                me = self.s.authorize("users.add.processor", command="users credential")
            else:
                me = self.s.authorize(
                    "users.add.controller", command="users credential", controller=target.controller
                )
                if me.controller is None:
                    owner = find_controller(self.proc, target.controller)
                    requested += user_requests.must_cite_request(
                        self.s, owner, request, change="credential", user=name, role=None
                    )
        else:
            me = self.s.authorize("self.credential", command="users credential")
        if target.revoked:
            raise RefusedError(f"user {name!r} is revoked", rule="RevokedIsFinal")
        with self.proc.using_clock():
            credential = credentials.issue(
                self.proc, target, self.s.user_name, rotated=True, by_staff=me.controller is None
            )
            self.proc.commit(target, *requested)
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
