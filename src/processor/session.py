"""A session: commands run as one user, authorised in one place (ACC-8, ACC-9).

Every refusal is itself recorded as an `AccessDenied` event before the error is raised, so the
log of unauthorised attempts is as tamper-evident as everything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from processor import context, refusals
from processor.domain.ids import user_id
from processor.domain.users import User

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.context import Via
    from processor.policies import RoleSpec


class Session:
    """Runs commands as one authenticated user.

    Made only by `Processor.login` (`processor.credentials.service.authenticate`), after the
    person's credential was checked: a name alone never opens a session (ACC-12).
    """

    def __init__(self, proc: Processor, user: str, via: Via) -> None:
        from processor.services.access import AccessService
        from processor.services.contacts import ContactsService
        from processor.services.controllers import ControllersService
        from processor.services.erasure import ErasureService
        from processor.services.exports import ExportService
        from processor.services.imports import ImportService
        from processor.services.lifecycle import LifecycleService
        from processor.services.messages import MessagesService
        from processor.services.retention import RetentionService
        from processor.services.returns import ReturnService
        from processor.services.staff import StaffService
        from processor.services.subprocessors import SubprocessorsService
        from processor.services.users import UsersService

        self.proc = proc
        self.user_name = user
        self.via = via
        self.users = UsersService(self)
        self.controllers = ControllersService(self)
        self.contacts = ContactsService(self)
        self.imports = ImportService(self)
        self.exports = ExportService(self)
        self.erasure = ErasureService(self)
        self.lifecycle = LifecycleService(self)
        self.messages = MessagesService(self)
        self.retention = RetentionService(self)
        self.returns = ReturnService(self)
        self.access = AccessService(self)
        self.staff = StaffService(self)
        self.subprocessors = SubprocessorsService(self)

    def find_user(self, name: str) -> User | None:
        """Load a user by name, or None."""
        uid = user_id(name)
        user = self.proc.find(uid)
        return user if isinstance(user, User) else None

    def role_spec(self, user: User) -> RoleSpec:
        """The role definition that applies to `user` (its scope decides which table)."""
        roles = self.proc.policies.roles
        table = roles.processor if user.controller is None else roles.controller
        return table[user.role]

    def authorize(self, permission: str, *, command: str, controller: str | None = None) -> User:
        """Return the acting user if they may do `permission` (on `controller`); else refuse.

        A controller's users act only on their own controller (ACC-9); a refusal is recorded
        as an `AccessDenied` event (ACC-8) and raised as `AccessDeniedError` (exit 1).
        """
        context.put(self.via)
        user = self.find_user(self.user_name)
        if user is None:
            self.deny(command, controller, "UserMustExist", f"unknown user {self.user_name!r}")
        if user.revoked:
            self.deny(command, controller, "UserMustNotBeRevoked", "the user's access is revoked")
        if user.locked:
            self.deny(
                command,
                controller,
                "UserMustNotBeLocked",
                "the user is locked after repeated refused attempts; a GDPA must unlock them",
            )
        if permission not in self.role_spec(user).permissions:
            scope = "processor" if user.controller is None else "controller"
            self.deny(
                command,
                controller,
                "RoleMustGrantPermission",
                f"the {scope} role {user.role!r} may not {permission}",
            )
        if user.controller is not None and controller is not None and controller != user.controller:
            self.deny(
                command,
                controller,
                "ControllerUsersSeeOnlyTheirOwn",
                "users of one controller may not act on another controller's data",
            )
        return user

    def deny(
        self,
        command: str,
        controller: str | None,
        rule: str,
        reason: str,
        *,
        counts: bool = True,
    ) -> NoReturn:
        """Record an `AccessDenied` event, then raise.

        Refusals of access (`counts`, the default) count towards the lockout; business-rule
        refusals (`refuse_rule`) are recorded but lock no one (ACC-8).
        """
        refusals.refuse(
            self.proc,
            actor=self.user_name,
            via=self.via,
            command=command,
            controller=controller,
            rule=rule,
            reason=reason,
            counts=counts,
        )

    def refuse_rule(self, command: str, controller: str | None, rule: str, reason: str) -> NoReturn:
        """Record a business-rule refusal (grant state, account closed, ...), then raise."""
        self.deny(command, controller, rule, reason, counts=False)
