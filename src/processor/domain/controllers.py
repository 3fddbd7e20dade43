"""Controllers: the processor's customers, with their agreement and documented instructions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from eventsourcing.domain import event

from processor.domain.base import ProcessorAggregate
from processor.domain.ids import controller_id
from processor.domain.retention import Termination, check_can_terminate, check_can_withdraw

SENSITIVE_DATA = "sensitive-data"


@dataclass(frozen=True)
class Instruction:
    """A documented instruction of the controller (INSTR-1), dated by its event."""

    kind: str
    text: str
    given_at: datetime
    given_by: str
    details: dict[str, str]


class Controller(ProcessorAggregate):
    """A controller account: who it is, which agreement edition binds us, what it instructed."""

    @staticmethod
    def create_id(ref: str, **_: object) -> object:  # type: ignore[override]
        """Controllers are identified by their public id."""
        return controller_id(ref)

    @event("ControllerRegistered")
    def __init__(
        self,
        actor: str,
        ref: str,
        name: str,
        country: str,
        account: str,
        agreement: str,
        cvr: str | None,
        policy_version: str,
    ) -> None:
        self.ref = ref
        self.name = name
        self.country = country
        self.account = account
        self.agreement = agreement
        self.cvr = cvr
        self.policy_version = policy_version
        self.registered_by = actor
        self.instructions: list[Instruction] = []
        self.exports = 0
        self.termination: Termination | None = None
        self.returned_at: datetime | None = None
        self.trial_end_recorded = False
        self.data_deleted_at: datetime | None = None
        self.user_requests_done: list[int] = []

    @event("InstructionRecorded")
    def record_instruction(self, actor: str, kind: str, text: str, details: dict[str, str]) -> None:
        """Record a documented instruction (INSTR-1); its event's time is its date."""
        self.instructions.append(Instruction(kind, text, self.modified_on, actor, dict(details)))

    @event("UserRequestCarriedOut")
    def carry_out_user_request(self, actor: str, number: int, change: str, user: str) -> None:
        """Record that the processor's staff carried out the controller's user request (ACC-13).

        A request is carried out once: citing it again is refused.
        """
        self.user_requests_done.append(number)

    @event("DataExported")
    def record_export(
        self, actor: str, scope: str, contacts: int, data_format: str, sha256: str
    ) -> None:
        """Record that personal data left the processor in an export (SUBJ-6, RET-2)."""
        self.exports += 1

    # -- the end of the collaboration (RET-1, RET-2, RET-4, RET-6; see domain/retention.py) ----

    def terminate(
        self,
        actor: str,
        effective: str,
        instruction: str | None,
        return_to: str | None,
        legal_ground: str | None,
        retain_until: str | None,
        deletion_after_days: int,
        instruction_days: int,
        policy_version: str,
    ) -> None:
        """Record the end of the collaboration and the controller's instruction for its data."""
        check_can_terminate(self.termination, self.data_deleted_at)
        self._terminated(
            actor=actor,
            effective=effective,
            instruction=instruction,
            return_to=return_to,
            legal_ground=legal_ground,
            retain_until=retain_until,
            deletion_after_days=deletion_after_days,
            instruction_days=instruction_days,
            policy_version=policy_version,
        )

    @event("TerminationRecorded")
    def _terminated(
        self,
        actor: str,
        effective: str,
        instruction: str | None,
        return_to: str | None,
        legal_ground: str | None,
        retain_until: str | None,
        deletion_after_days: int,
        instruction_days: int,
        policy_version: str,
    ) -> None:
        self.termination = Termination(
            effective=date.fromisoformat(effective),
            instruction=instruction,
            return_to=return_to,
            legal_ground=legal_ground,
            retain_until=date.fromisoformat(retain_until) if retain_until else None,
            deletion_after_days=deletion_after_days,
            instruction_days=instruction_days,
            recorded_at=self.modified_on,
            recorded_by=actor,
            policy_version=policy_version,
        )

    def withdraw_termination(self, actor: str, reason: str, policy_version: str) -> None:
        """Withdraw the termination: the collaboration continues and nothing is due."""
        check_can_withdraw(self.termination, self.data_deleted_at)
        self._termination_withdrawn(actor=actor, reason=reason, policy_version=policy_version)

    @event("TerminationWithdrawn")
    def _termination_withdrawn(self, actor: str, reason: str, policy_version: str) -> None:
        self.termination = None

    @event("DataReturned")
    def record_return(
        self,
        actor: str,
        return_to: str,
        files: dict[str, dict[str, object]],
        manifest_sha256: str,
        policy_version: str,
    ) -> None:
        """Record a complete, standard-format return of the controller's data (RET-2)."""
        self.returned_at = self.modified_on

    @event("DemoTrialEnded")
    def record_trial_end(
        self, actor: str, trial_ended_at: datetime, due_at: datetime, policy_version: str
    ) -> None:
        """Record that the sweep found the demo trial over (RET-4)."""
        self.trial_end_recorded = True

    @event("PersonalDataDeleted")
    def record_data_deleted(
        self,
        actor: str,
        sweep_run: str,
        rule: str,
        why: str,
        due_at: datetime,
        subjects: int,
        messages: int,
        policy_version: str,
    ) -> None:
        """Record that every personal datum of the controller is unreadable (RET-3, RET-5)."""
        self.data_deleted_at = self.modified_on

    def has_instruction(self, kind: str) -> bool:
        """Tell whether an instruction of `kind` was ever recorded."""
        return any(i.kind == kind for i in self.instructions)

    @property
    def registered_on(self) -> datetime:
        """When the controller was registered."""
        return self.created_on
