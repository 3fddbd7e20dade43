"""Account recovery: the one way the processor's staff give a controller a working administrator.

A controller whose administrators are all revoked, locked out or without their credential
cannot ask for a change to its users itself (a `user-request` comes from its own
administrator, ACC-13). Like account recovery in Vault or Okta, the way back needs two
different people (the system manager starts it, the GDPA approves it), a reference to the
out-of-band verification of who asked, and a waiting period that starts at the approval.
Every administrator and contact person of the controller is told at the start and any
administrator can cancel during the wait, so a takeover attempt is seen by the people it
would lock out. The credential it issues is handed over (its holder must replace it first).

Events are past-tense facts on one `AccountRecovery` aggregate per recovery; the rules below
take the dataclass shape of `processor.kernel.rules` and say why in one line.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Final

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.rules import Rule

STARTED: Final = "started"
APPROVED: Final = "approved"
CANCELLED: Final = "cancelled"
COMPLETED: Final = "completed"


class AccountRecovery(ProcessorAggregate):
    """One recovery of one controller's administrator, from start to completion or cancel."""

    @staticmethod
    def create_id(controller: str, number: int, **_: object) -> object:  # type: ignore[override]
        """A controller's recoveries are numbered; the number names one (`recovery_id`)."""
        return recovery_id(controller, number)

    @event("AccountRecoveryStarted")
    def __init__(
        self,
        actor: str,
        controller: str,
        number: int,
        user: str,
        new_user: bool,
        verification: str,
        wait_hours: int,
        notified_administrators: list[str],
        notified_contact_persons: list[str],
        policy_version: str,
    ) -> None:
        self.controller = controller
        self.number = number
        self.user = user
        self.new_user = new_user
        self.verification = verification  # sealed with the controller's records key
        self.wait_hours = wait_hours
        self.notified_administrators = list(notified_administrators)
        self.notified_contact_persons = list(notified_contact_persons)
        self.started_by = actor
        self.approved_by: str | None = None
        self.approved_at: datetime | None = None
        self.cancelled_by: str | None = None
        self.completed_by: str | None = None
        self.credential_id: str | None = None

    @event("AccountRecoveryApproved")
    def approve(self, actor: str) -> None:
        """The second person (the GDPA) approved: the waiting period starts now."""
        self.approved_by = actor
        self.approved_at = self.modified_on

    @event("AccountRecoveryCancelled")
    def cancel(self, actor: str, reason: str) -> None:
        """Someone the recovery concerns (or the GDPA) stopped it; it can never complete."""
        self.cancelled_by = actor

    @event("AccountRecoveryCompleted")
    def complete(self, actor: str, credential_id: str) -> None:
        """The system manager issued the handed-over credential after the wait."""
        self.completed_by = actor
        self.credential_id = credential_id

    @property
    def state(self) -> str:
        """`started`, `approved`, `cancelled` or `completed`."""
        if self.cancelled_by is not None:
            return CANCELLED
        if self.completed_by is not None:
            return COMPLETED
        return APPROVED if self.approved_at is not None else STARTED

    @property
    def wait_ends(self) -> datetime | None:
        """When the waiting period after the approval is over (None before the approval)."""
        if self.approved_at is None:
            return None
        return self.approved_at + timedelta(hours=self.wait_hours)


def recovery_id(controller: str, number: int) -> uuid.UUID:
    """The id of a controller's `number`th recovery: stable, so a number names one recovery."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"processor:account-recovery:{controller}:{number}")


@dataclass(frozen=True)
class RecoveryNeedsTwoPeople(Rule):
    """The person who approves a recovery is not the person who started it (four eyes)."""

    obligation: ClassVar[str] = "ACC-13"
    started_by: str
    approver: str

    def _broken(self) -> bool:
        return self.started_by == self.approver

    def _explain(self) -> str:
        return f"{self.approver} started this recovery; another person (the GDPA) must approve it"


@dataclass(frozen=True)
class RecoveryMustBeOpen(Rule):
    """A cancelled or completed recovery changes no more."""

    obligation: ClassVar[str] = "ACC-13"
    state: str

    def _broken(self) -> bool:
        return self.state in {CANCELLED, COMPLETED}

    def _explain(self) -> str:
        return f"the recovery is {self.state}"


@dataclass(frozen=True)
class RecoveryMustBeApproved(Rule):
    """A recovery completes only after the second person approved it."""

    obligation: ClassVar[str] = "ACC-13"
    state: str

    def _broken(self) -> bool:
        return self.state != APPROVED

    def _explain(self) -> str:
        return "the GDPA has not approved this recovery (`controllers recovery approve`)"


@dataclass(frozen=True)
class RecoveryWaitMustHaveElapsed(Rule):
    """A recovery completes only after the policy's waiting period since its approval."""

    obligation: ClassVar[str] = "ACC-13"
    wait_ends: datetime
    now: datetime

    def _broken(self) -> bool:
        return self.now < self.wait_ends

    def _explain(self) -> str:
        return (
            f"the waiting period ends at {self.wait_ends.isoformat()}; until then the "
            "controller's administrators and contact persons may cancel it"
        )
