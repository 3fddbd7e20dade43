"""Use cases of account recovery: start, approve, cancel, complete, list (ACC-9, ACC-13, AUD-5).

The processor's staff never record a controller's request for it (`user_requests`), so a
controller left without a working administrator comes back through this path only: the system
manager starts it with a reference to the out-of-band verification (a ticket, a call), the GDPA
(another person) approves it, and after the profile's `recovery_wait_hours` the system manager
completes it. At the start every administrator of the controller and its recorded contact
persons are told (a notice on the controller's record), and any administrator may cancel it
with their own credential while it waits. The credential it issues is handed over: its holder
replaces it before any other use, and the recovered user cannot acknowledge the recovery's
notices (someone else at the controller must read them; `notices.service` checks it where a
notice is acknowledged). The staff side is command-line only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.credentials import service as credentials
from processor.domain.recovery import (
    AccountRecovery,
    RecoveryMustBeApproved,
    RecoveryMustBeOpen,
    RecoveryNeedsTwoPeople,
    RecoveryWaitMustHaveElapsed,
    recovery_id,
)
from processor.domain.users import User
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.keys import open_records, seal_records
from processor.notices.domain import ACCOUNT_RECOVERY
from processor.notices.post import new_notice
from processor.readmodels import tables as t
from processor.services import validation as v
from processor.services.contact_persons import persons
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from processor.kernel.rules import Rule
    from processor.session import Session

VERIFICATION = "recovery-verification"
CANCEL_REASON = "recovery-cancel-reason"
TEXT_MAX = 500
ADMINISTRATOR = "administrator"


def about(number: int) -> str:
    """The `about` of a recovery's notices: its number on the controller's record."""
    return f"recovery:{number}"


def recoveries(session: Session, controller: str) -> list[AccountRecovery]:
    """The controller's recoveries, oldest first (their ids are numbered, `recovery_id`)."""
    found: list[AccountRecovery] = []
    while isinstance(
        recovery := session.proc.find(recovery_id(controller, len(found) + 1)), AccountRecovery
    ):
        found.append(recovery)
    return found


class RecoveryService:
    """Four-eyes recovery of a controller's administrator, with a waiting period."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def _enforce(self, command: str, controller: str, rule: Rule) -> None:
        if rule.is_broken():
            self.s.refuse_rule(command, controller, rule.name, rule.message)

    def _load(self, controller: str, number: int) -> AccountRecovery:
        found = self.proc.find(recovery_id(controller, number))
        if not isinstance(found, AccountRecovery):
            raise NotFoundError(f"unknown recovery {number} of controller {controller!r}")
        return found

    def _administrators(self, controller: str) -> list[str]:
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(
                sa.select(t.users.c.name)
                .where(
                    (t.users.c.controller == controller)
                    & (t.users.c.role == ADMINISTRATOR)
                    & t.users.c.revoked.is_(False)
                )
                .order_by(t.users.c.name)
            ).all()
        return [str(r[0]) for r in rows]

    def _target(self, command: str, controller: str, name: str) -> User | None:
        """The existing administrator to recover, or None for a new one; refuse anyone else."""
        user = self.s.find_user(name)
        if user is None:
            return None
        if user.controller != controller or user.role != ADMINISTRATOR or user.revoked:
            self.s.refuse_rule(
                command,
                controller,
                "RecoveryIsForTheControllersAdministrator",
                f"user {name!r} is not a working administrator of {controller}; recover one of"
                " its administrators or name a new user",
            )
        return user

    def start(self, controller: str, user: str, verification: str) -> dict[str, Any]:
        """Start a recovery (system manager) and tell the controller's people at once."""
        command = "controllers recovery start"
        self.s.authorize("controllers.recovery.start", command=command, controller=controller)
        v.user_name(user)
        c = find_controller(self.proc, controller)
        reference = verification.strip()
        if not reference or len(reference) > TEXT_MAX:
            raise InvalidInputError(
                f"a recovery needs --verification REF of 1 to {TEXT_MAX} characters"
                " (the out-of-band check of who asked)"
            )
        existing = self._target(command, c.ref, user)
        earlier = recoveries(self.s, c.ref)
        if any(r.state in {"started", "approved"} for r in earlier):
            self.s.refuse_rule(
                command,
                c.ref,
                "OneRecoveryAtATime",
                f"recovery {len(earlier)} of {c.ref} is still open; complete or cancel it first",
            )
        number = len(earlier) + 1
        admins = self._administrators(c.ref)
        contacts = persons(self.proc, c.ref)
        contact_roles = sorted(contacts)
        # The notice (sealed) names each contact person with their address, so it reaches them
        # however the controller's notices are passed on; the event keeps the roles only.
        addressed = [
            f"{role} {contacts[role].get('name', '')} <{contacts[role].get('email', '')}>"
            for role in contact_roles
        ]
        wait = self.proc.policies.profiles.profiles[self.proc.store_info().profile]
        with self.proc.using_clock():
            recovery = AccountRecovery(
                actor=self.s.user_name,
                controller=c.ref,
                number=number,
                user=user,
                new_user=existing is None,
                verification=seal_records(self.proc.sealer, c.ref, VERIFICATION, reference),
                wait_hours=wait.recovery_wait_hours,
                notified_administrators=admins,
                notified_contact_persons=contact_roles,
                policy_version=self.proc.policies.version,
            )
            notice = new_notice(
                self.proc,
                controller=c.ref,
                kind=ACCOUNT_RECOVERY,
                title=f"Account recovery {number} started by the processor",
                body=(
                    f"{self.s.user_name} started recovery {number} of your account: a"
                    f" credential for {'new ' if existing is None else ''}administrator {user}."
                    f" For: administrators {', '.join(admins) or '(none working)'};"
                    f" contact persons {'; '.join(addressed) or '(none recorded)'}."
                    " It needs the GDPA's approval and then waits"
                    f" {wait.recovery_wait_hours} hours. If your company did not ask for it,"
                    f" cancel it: `processor controllers recovery cancel {c.ref} {number}`."
                ),
                actor=self.s.user_name,
                about=about(number),
            )
            self.proc.commit(recovery, notice)
        return self.describe(recovery)

    def approve(self, controller: str, number: int) -> dict[str, Any]:
        """The GDPA approves a started recovery; the waiting period starts now.

        The four-eyes rule is judged before the role: even a role table that gave one person
        both permissions would not let the starter approve their own recovery.
        """
        command = "controllers recovery approve"
        recovery = self._load(controller, number)
        self._enforce(
            command, controller, RecoveryNeedsTwoPeople(recovery.started_by, self.s.user_name)
        )
        self.s.authorize("controllers.recovery.approve", command=command, controller=controller)
        self._enforce(command, controller, RecoveryMustBeOpen(recovery.state))
        if recovery.approved_at is not None:
            self.s.refuse_rule(
                command, controller, "RecoveryIsApprovedOnce", "the recovery is already approved"
            )
        with self.proc.using_clock():
            recovery.approve(actor=self.s.user_name)
            self.proc.commit(recovery)
        return self.describe(recovery)

    def cancel(self, controller: str, number: int, reason: str = "") -> dict[str, Any]:
        """Cancel an open recovery: any administrator of the controller, or the GDPA."""
        command = "controllers recovery cancel"
        self.s.authorize("controllers.recovery.cancel", command=command, controller=controller)
        recovery = self._load(controller, number)
        self._enforce(command, controller, RecoveryMustBeOpen(recovery.state))
        if len(reason) > TEXT_MAX:
            raise InvalidInputError(f"--reason is longer than {TEXT_MAX} characters")
        with self.proc.using_clock():
            sealed = seal_records(self.proc.sealer, controller, CANCEL_REASON, reason.strip())
            recovery.cancel(actor=self.s.user_name, reason=sealed)
            self.proc.commit(recovery)
        return self.describe(recovery)

    def complete(self, controller: str, number: int) -> dict[str, Any]:
        """Issue the recovered administrator's handed-over credential, after the wait."""
        command = "controllers recovery complete"
        self.s.authorize("controllers.recovery.complete", command=command, controller=controller)
        recovery = self._load(controller, number)
        self._enforce(command, controller, RecoveryMustBeOpen(recovery.state))
        self._enforce(command, controller, RecoveryMustBeApproved(recovery.state))
        ends = recovery.wait_ends
        assert ends is not None  # noqa: S101 - approved, so the wait has its end
        self._enforce(command, controller, RecoveryWaitMustHaveElapsed(ends, self.proc.now()))
        target = self._target(command, controller, recovery.user)
        with self.proc.using_clock():
            user = target or User(
                actor=self.s.user_name,
                name=recovery.user,
                role=ADMINISTRATOR,
                controller=controller,
                confidentiality_signed=None,
                trained=None,
            )
            credential = credentials.issue(
                self.proc, user, self.s.user_name, rotated=target is not None, by_staff=True
            )
            recovery.complete(actor=self.s.user_name, credential_id=credential.credential_id)
            notice = new_notice(
                self.proc,
                controller=controller,
                kind=ACCOUNT_RECOVERY,
                title=f"Account recovery {number} completed by the processor",
                body=(
                    f"{self.s.user_name} issued administrator {recovery.user} a credential"
                    f" (recovery {number}, approved by {recovery.approved_by}). It works only to"
                    " be replaced by its holder. If this is not the person your company named,"
                    " revoke the user and tell the processor's GDPA at once."
                ),
                actor=self.s.user_name,
                about=about(number),
            )
            self.proc.commit(user, recovery, notice)
        return {
            **self.describe(recovery),
            "name": recovery.user,
            "credential_id": credential.credential_id,
            "credential": credential.text,
        }

    def list(self, controller: str) -> list[dict[str, Any]]:
        """The controller's recoveries (its administrators, the GDPA, the system manager)."""
        self.s.authorize(
            "controllers.recovery.read", command="controllers recovery list", controller=controller
        )
        find_controller(self.proc, controller)
        return [self.describe(r) for r in recoveries(self.s, controller)]

    def describe(self, recovery: AccountRecovery) -> dict[str, Any]:
        """A recovery as shown: who did what and when; the verification reference opened."""
        ends = recovery.wait_ends
        return {
            "controller": recovery.controller,
            "recovery": recovery.number,
            "user": recovery.user,
            "new_user": recovery.new_user,
            "state": recovery.state,
            "verification": open_records(
                self.proc.sealer, recovery.controller, VERIFICATION, recovery.verification
            ),
            "started_at": recovery.created_on.isoformat(),
            "started_by": recovery.started_by,
            "approved_at": recovery.approved_at.isoformat() if recovery.approved_at else None,
            "approved_by": recovery.approved_by,
            "wait_ends": ends.isoformat() if ends else None,
            "cancelled_by": recovery.cancelled_by,
            "completed_by": recovery.completed_by,
            "notified_administrators": recovery.notified_administrators,
            "notified_contact_persons": recovery.notified_contact_persons,
        }
