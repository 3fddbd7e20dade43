"""The notice aggregate: what the processor told a controller, and who acknowledged it.

Title and body arrive sealed with the controller's records key (they may name people), so the
event store, the aggregate cache and the read model only ever hold ciphertext; once the
controller's data is deleted they read `[erased]`. Kind, time, actor and policy version stay
readable: they are what an auditor needs to see that the controller was told, and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import RefusedError

SUSPECTED_MISUSE: Final = "suspected-misuse"
SUBPROCESSOR_CHANGE: Final = "subprocessor-change"
BREACH: Final = "breach"
TRIAL_END: Final = "trial-end"
INSTRUCTION_FLAGGED: Final = "instruction-flagged"
USER_REQUEST_RECORDED: Final = "user-request-recorded"
LEGAL_REQUIREMENT: Final = "legal-requirement"
TERMINATION_FLAGGED: Final = "termination-flagged"
CONTACT_PERSONS_CHANGED: Final = "contact-persons-changed"
SUPERVISION_CHALLENGED: Final = "supervision-challenged"
ACCOUNT_RECOVERY: Final = "account-recovery"
KINDS: Final = (
    SUSPECTED_MISUSE,
    SUBPROCESSOR_CHANGE,
    BREACH,
    TRIAL_END,
    INSTRUCTION_FLAGGED,
    USER_REQUEST_RECORDED,
    LEGAL_REQUIREMENT,
    TERMINATION_FLAGGED,
    CONTACT_PERSONS_CHANGED,
    SUPERVISION_CHALLENGED,
    ACCOUNT_RECOVERY,
)


class Notice(ProcessorAggregate):
    """One notice to one controller (ACC-14; reused for SUB-, BR-, RET- and INSTR- notices)."""

    @event("ControllerNotified")
    def __init__(
        self,
        actor: str,
        controller: str,
        kind: str,
        title: str,
        body: str,
        policy_version: str,
        about: str | None = None,
    ) -> None:
        self.actor = actor
        self.controller = controller
        self.kind = kind
        self.title = title
        self.body = body
        self.policy_version = policy_version
        self.about = about
        self.acknowledged_at: datetime | None = None
        self.acknowledged_by: str | None = None

    def acknowledge(self, actor: str) -> None:
        """Record that the controller read the notice; a notice is acknowledged once."""
        if self.acknowledged_at is not None:
            raise RefusedError(
                f"the notice was already acknowledged by {self.acknowledged_by} "
                f"at {self.acknowledged_at.isoformat()}",
                rule="NoticeIsAcknowledgedOnce",
            )
        self._acknowledged(actor=actor)

    @event("NoticeAcknowledged")
    def _acknowledged(self, actor: str) -> None:
        self.acknowledged_at = self.modified_on
        self.acknowledged_by = actor
