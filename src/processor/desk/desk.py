"""The desk: what a signed-in person works with, their session and the use cases they run.

The `Session` answers only who acts and whether they may (ACC-8, ACC-9, ACC-12); the services
take that session and do the work. The desk sits above both and hands out each service, so a
caller reads `alice.contacts.add(...)` and `alice.authorize(...)` alike, while no service and no
session needs to know every other service.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, NoReturn

from processor.credentials.service import authenticate
from processor.kernel.context import Via

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.domain.users import User
    from processor.notices.service import NoticesService
    from processor.policies import RoleSpec
    from processor.services.access import AccessService
    from processor.services.agreements import AgreementsService
    from processor.services.contacts import ContactsService
    from processor.services.controllers import ControllersService
    from processor.services.erasure import ErasureService
    from processor.services.exports import ExportService
    from processor.services.handoff import HandoffService
    from processor.services.imports import ImportService
    from processor.services.lifecycle import LifecycleService
    from processor.services.messages import MessagesService
    from processor.services.recovery import RecoveryService
    from processor.services.retention import RetentionService
    from processor.services.returns import ReturnService
    from processor.services.security_policy import SecurityPolicyService
    from processor.services.staff import StaffService
    from processor.services.subprocessors import SubprocessorsService
    from processor.services.users import UsersService
    from processor.session import Session


def login(
    proc: Processor,
    user: str,
    credential: str,
    via: Via | None = None,
    *,
    command: str = "login",
) -> Desk:
    """Authenticate `user` with their personal credential and return their desk.

    A wrong, rotated or revoked credential is recorded as a refusal, counts towards the
    lockout and raises `AccessDeniedError` (ACC-8, ACC-12). `via` says through which channel
    the person acts (default: the Python API); every event of the session records it.
    """
    return Desk(authenticate(proc, user, credential, via or Via("python"), command=command))


class Desk:
    """The use cases of one signed-in person, over their authenticated `Session`.

    Made by `login` (or around a session `authenticate` returned); the session decides who
    may do what, the services it hands out do it.
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- who, and may they: the session's, passed through --------------------------------------

    @property
    def proc(self) -> Processor:
        """The open store the person works on."""
        return self.session.proc

    @property
    def user_name(self) -> str:
        """The name of the signed-in person."""
        return self.session.user_name

    @property
    def via(self) -> Via:
        """The channel the person acts through (CLI, HTTP, Python)."""
        return self.session.via

    def find_user(self, name: str) -> User | None:
        """Load a user by name, or None."""
        return self.session.find_user(name)

    def role_spec_of(self, scope: str, role: str) -> RoleSpec:
        """The definition of `role` in `scope` (`processor` or `controller`)."""
        return self.session.role_spec_of(scope, role)

    def role_spec(self, user: User) -> RoleSpec:
        """The role definition that applies to `user`."""
        return self.session.role_spec(user)

    def authorize(self, permission: str, *, command: str, controller: str | None = None) -> User:
        """Return the acting user if they may do `permission` (on `controller`); else refuse."""
        return self.session.authorize(permission, command=command, controller=controller)

    def deny(
        self,
        command: str,
        controller: str | None,
        rule: str,
        reason: str,
        *,
        counts: bool = True,
    ) -> NoReturn:
        """Record an `AccessDenied` event, then raise (see `Session.deny`)."""
        self.session.deny(command, controller, rule, reason, counts=counts)

    def record_refusal(self, command: str, rule: str, reason: str) -> None:
        """Record a business-rule refusal a use case raised (the entry points call this)."""
        self.session.record_refusal(command, rule, reason)

    def refuse_rule(self, command: str, controller: str | None, rule: str, reason: str) -> NoReturn:
        """Record a business-rule refusal, then raise."""
        self.session.refuse_rule(command, controller, rule, reason)

    # -- the use cases ---------------------------------------------------------------------------
    # Each service is made, and its module imported, on first use: a command uses one or two
    # of them, and importing all fifteen (with their domain modules) made every command, a
    # one-shot `contacts find` too, load modules it never uses (issue 17).

    @cached_property
    def users(self) -> UsersService:
        """The users use cases of this person."""
        from processor.services.users import UsersService

        return UsersService(self.session)

    @cached_property
    def controllers(self) -> ControllersService:
        """The controllers use cases of this person."""
        from processor.services.controllers import ControllersService

        return ControllersService(self.session)

    @cached_property
    def agreements(self) -> AgreementsService:
        """The agreements use cases of this person."""
        from processor.services.agreements import AgreementsService

        return AgreementsService(self.session)

    @cached_property
    def contacts(self) -> ContactsService:
        """The contacts use cases of this person."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.session)

    @cached_property
    def imports(self) -> ImportService:
        """The imports use cases of this person."""
        from processor.services.imports import ImportService

        return ImportService(self.session)

    @cached_property
    def exports(self) -> ExportService:
        """The exports use cases of this person."""
        from processor.services.exports import ExportService

        return ExportService(self.session)

    @cached_property
    def erasure(self) -> ErasureService:
        """The erasure use cases of this person."""
        from processor.services.erasure import ErasureService

        return ErasureService(self.session)

    @cached_property
    def lifecycle(self) -> LifecycleService:
        """The lifecycle use cases of this person."""
        from processor.services.lifecycle import LifecycleService

        return LifecycleService(self.session)

    @cached_property
    def handoff(self) -> HandoffService:
        """The handoff of recorded messages to their carrier, by this person (SUB-9)."""
        from processor.services.handoff import HandoffService

        return HandoffService(self.session)

    @cached_property
    def messages(self) -> MessagesService:
        """The messages use cases of this person."""
        from processor.services.messages import MessagesService

        return MessagesService(self.session)

    @cached_property
    def retention(self) -> RetentionService:
        """The retention use cases of this person."""
        from processor.services.retention import RetentionService

        return RetentionService(self.session)

    @cached_property
    def returns(self) -> ReturnService:
        """The returns use cases of this person."""
        from processor.services.returns import ReturnService

        return ReturnService(self.session)

    @cached_property
    def access(self) -> AccessService:
        """The access use cases of this person."""
        from processor.services.access import AccessService

        return AccessService(self.session)

    @cached_property
    def staff(self) -> StaffService:
        """The staff use cases of this person."""
        from processor.services.staff import StaffService

        return StaffService(self.session)

    @cached_property
    def policy(self) -> SecurityPolicyService:
        """The IT-security policy and GDPA-appointment use cases of this person (ACC-15, ACC-16)."""
        from processor.services.security_policy import SecurityPolicyService

        return SecurityPolicyService(self.session)

    @cached_property
    def subprocessors(self) -> SubprocessorsService:
        """The subprocessors use cases of this person."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.session)

    @cached_property
    def recovery(self) -> RecoveryService:
        """The account-recovery use cases of this person (ACC-13)."""
        from processor.services.recovery import RecoveryService

        return RecoveryService(self.session)

    @cached_property
    def notices(self) -> NoticesService:
        """The notices use cases of this person."""
        from processor.notices.service import NoticesService

        return NoticesService(self.session)
