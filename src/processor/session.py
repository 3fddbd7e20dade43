"""A session: commands run as one user, authorised in one place (ACC-8, ACC-9).

Every refusal is itself recorded as an `AccessDenied` event before the error is raised, so the
log of unauthorised attempts is as tamper-evident as everything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from processor import refusals
from processor.domain.ids import controller_id, user_id
from processor.domain.users import User
from processor.kernel import context

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.kernel.context import Via
    from processor.policies import RoleSpec


# What a person may do before they are ready to act: make themselves ready.
# Reading and acknowledging the IT-security policy is how a person gets ready again (ACC-15).
SELF_SERVICE = frozenset({"self.credential", "self.undertaking", "self.policy"})


class Session:
    """Runs commands as one authenticated user.

    Made only by `processor.credentials.service.authenticate` (which `processor.desk.login`
    calls), after the person's credential was checked: a name alone never opens a session
    (ACC-12). It answers who acts and whether they may; the use cases are the services, which
    take a session, and the `processor.desk.Desk` that hands them out.
    """

    def __init__(self, proc: Processor, user: str, via: Via, checked: User | None = None) -> None:
        self.proc = proc
        self.user_name = user
        self.via = via
        # The user as `authenticate` just loaded it: the first `authorize` takes it instead of
        # loading the same events again, once it has seen that none was recorded since.
        self._checked = checked

    def find_user(self, name: str) -> User | None:
        """Load a user by name, or None."""
        uid = user_id(name)
        user = self.proc.find(uid)
        return user if isinstance(user, User) else None

    def _current_user(self) -> User | None:
        """The acting user's current state, for `authorize`.

        The login of this session loaded the user moments ago (`authenticate`); the first
        command takes that state if the store holds no event of the user after its version,
        one indexed query for at most one row, instead of reading, MAC-checking and replaying
        all of the user's events again. A revocation, lock or new role recorded since (by this
        process or another) is such an event, so it is seen exactly as by a fresh load. Later
        commands of the session load the user afresh.
        """
        checked, self._checked = self._checked, None
        if checked is not None and checked.name == self.user_name:
            newer = self.proc.store.recorder.select_events(checked.id, gt=checked.version, limit=1)
            if not newer:
                return checked
        return self.find_user(self.user_name)

    def role_spec_of(self, scope: str, role: str) -> RoleSpec:
        """The definition of `role` in `scope` (`processor` or `controller`)."""
        roles = self.proc.policies.roles
        return (roles.processor if scope == "processor" else roles.controller)[role]

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
        user = self._current_user()
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
            # Another controller's data is misuse and counts (ACC-8); an id that names no
            # controller at all is a typo: refused the same way, recorded, but counted for nothing.
            self.deny(
                command,
                controller,
                "ControllerUsersSeeOnlyTheirOwn",
                "users of one controller may not act on another controller's data",
                counts=self._controller_exists(controller),
            )
        if permission not in SELF_SERVICE:
            self._must_be_ready(user, command, controller)
        return user

    def _controller_exists(self, ref: str) -> bool:
        """Whether `ref` names a registered controller: one read of its first event."""
        return bool(self.proc.store.recorder.select_events(controller_id(ref), limit=1))

    def _must_be_ready(self, user: User, command: str, controller: str | None) -> None:
        """Refuse the unready: unbound staff, handed-over credentials, an unacknowledged policy.

        Staff need an undertaking and training (ACC-1) and the IT-security policy in force
        acknowledged (ACC-15); a credential the processor's staff handed over must be replaced
        (ACC-13). Until then a person may only do the self-service steps that make them ready:
        record their undertaking, replace the credential, read and acknowledge the policy.
        """
        bound = user.confidentiality_signed and user.trained
        if user.controller is None and self.role_spec(user).bound and not bound:
            self.refuse_rule(
                command,
                controller,
                "StaffMustBeBoundAndTrained",
                "no confidentiality undertaking or training on record (ACC-1); record them"
                f" with `processor users undertaking {user.name}`",
            )
        if user.credential_handed_over:
            self.refuse_rule(
                command,
                controller,
                "CredentialMustBeTheHoldersOwn",
                "this credential was handed over by the processor's staff; replace it first"
                f" with `processor users credential {user.name} --rotate`",
            )
        version = self.proc.policies.security.version
        if user.controller is None and getattr(user, "security_policy", None) != version:
            # Every change of the IT-security policy is acknowledged before staff act again
            # (ACC-15); the version is data (`policies/security.toml`).
            self.refuse_rule(
                command,
                controller,
                "SecurityPolicyMustBeAcknowledged",
                f"the IT-security policy changed ({version}): read and acknowledge it first"
                " (`processor policy show`, `processor policy acknowledge`; over HTTP"
                " /v1/users/me/policy)",
            )

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

    def record_refusal(self, command: str, rule: str, reason: str) -> None:
        """Record a business-rule refusal a use case raised (the entry points call this).

        Use cases raise `RefusedError` for broken rules (a revoked user reviewed, an account
        closed, ...); the CLI and HTTP layers record each one here, so that every refusal is an
        `AccessDenied` event, while only refusals of access count towards the lockout (ACC-8).
        """
        refusals.record(
            self.proc,
            actor=self.user_name,
            via=self.via,
            command=command,
            controller=None,
            rule=rule or "RuleMustHold",
            reason=reason,
            counts=False,
        )

    def refuse_rule(self, command: str, controller: str | None, rule: str, reason: str) -> NoReturn:
        """Record a business-rule refusal (grant state, account closed, ...), then raise."""
        self.deny(command, controller, rule, reason, counts=False)
