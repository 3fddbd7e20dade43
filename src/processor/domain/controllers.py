"""Controllers: the processor's customers, with their agreement and documented instructions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import event

from processor.domain.ids import controller_id
from processor.kernel.aggregate import ProcessorAggregate

if TYPE_CHECKING:
    from processor.domain.retention import Termination

SENSITIVE_DATA = "sensitive-data"


@dataclass(frozen=True)
class Instruction:
    """A documented instruction of the controller (INSTR-1), dated by its event."""

    kind: str
    text: str
    given_at: datetime
    given_by: str
    details: dict[str, str]


@dataclass(frozen=True)
class AgreementDocument:
    """A signed agreement as kept (INSTR-5): its edition, date, parties and the hash of its text.

    The signatories' names are sealed with the controller's records key (they name people); the
    text itself stays with the parties, its SHA-256 proves which text was signed.
    """

    edition: str
    signed_on: date
    text_sha256: str
    processor_signatory: str
    controller_signatory: str
    recorded_at: datetime
    recorded_by: str
    accepted_at: datetime | None = None
    accepted_by: str | None = None


FLAGGED = "flagged"
CONFIRMED = "confirmed"
WITHDRAWN = "withdrawn"


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
        self.agreements: list[AgreementDocument] = []
        self.pending_amendment: AgreementDocument | None = None
        self.instruction_flags: dict[int, str] = {}
        self.upgraded_from: str | None = None
        self.upgraded_at: datetime | None = None
        self.upgrade_requests_done: list[int] = []
        self.support_requests_closed: list[int] = []

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

    @event("SupportRequestClosed")
    def close_support_request(self, actor: str, number: int) -> None:
        """The support case the controller asked for is over: its data is closed to support again.

        Closed by the controller, or by the processor's support when the case is done (ACC-4).
        """
        self.support_requests_closed.append(number)

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
        # The retention module (its sweep aggregate) is imported when a controller ends, not by
        # every command that loads a controller (issue 28).
        from processor.domain.retention import check_can_terminate

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
        from processor.domain.retention import Termination

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
        from processor.domain.retention import check_can_withdraw

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

    # -- the agreement itself (INSTR-5) -------------------------------------------------------

    @event("AgreementRecorded")
    def record_agreement(
        self,
        actor: str,
        edition: str,
        signed_on: str,
        text_sha256: str,
        processor_signatory: str,
        controller_signatory: str,
        in_force: bool,
        policy_version: str,
    ) -> None:
        """Record a signed agreement: in force at once, or an amendment awaiting acceptance."""
        document = AgreementDocument(
            edition=edition,
            signed_on=date.fromisoformat(signed_on),
            text_sha256=text_sha256,
            processor_signatory=processor_signatory,
            controller_signatory=controller_signatory,
            recorded_at=self.modified_on,
            recorded_by=actor,
        )
        if in_force:
            self.agreements.append(document)
        else:
            self.pending_amendment = document

    @event("AmendmentAccepted")
    def accept_amendment(self, actor: str, edition: str, text_sha256: str) -> None:
        """The controller's administrator accepted the pending amendment: its terms now apply."""
        pending = self.pending_amendment
        assert pending is not None  # noqa: S101 - the service checks before recording
        self.agreements.append(
            AgreementDocument(
                **{
                    **pending.__dict__,
                    "accepted_at": self.modified_on,
                    "accepted_by": actor,
                }
            )
        )
        self.agreement = edition
        self.pending_amendment = None

    # -- instructions the processor flags, legal requirements (INSTR-2, INSTR-6) -------------

    @event("InstructionFlagged")
    def flag_instruction(self, actor: str, number: int, reason: str, policy_version: str) -> None:
        """Record that the processor holds instruction `number` to infringe the law (INSTR-2)."""
        self.instruction_flags[number] = FLAGGED

    @event("FlaggedInstructionConfirmed")
    def confirm_instruction(self, actor: str, number: int) -> None:
        """The controller maintains its flagged instruction: processing on it may go ahead."""
        self.instruction_flags[number] = CONFIRMED

    @event("FlaggedInstructionWithdrawn")
    def withdraw_instruction(self, actor: str, number: int) -> None:
        """The controller withdraws its flagged instruction: nothing relies on it any more."""
        self.instruction_flags[number] = WITHDRAWN

    @event("LegalRequirementNotified")
    def record_legal_requirement(self, actor: str, text: str, policy_version: str) -> None:
        """Record that the controller was told of a processing the law requires (INSTR-6)."""

    @event("TerminationFlagged")
    def flag_termination(self, actor: str, rule: str, why: str, policy_version: str) -> None:
        """Record that a termination was accepted against the edition's terms (RET-1)."""

    # -- the account type (RET-4) -----------------------------------------------------------

    @event("AccountUpgraded")
    def upgrade_account(
        self, actor: str, previous: str, account: str, request: int, policy_version: str
    ) -> None:
        """Record the upgrade the controller asked for: its data is kept as the new account's."""
        self.upgraded_from = previous
        self.upgraded_at = self.modified_on
        self.account = account
        self.upgrade_requests_done.append(request)

    def instruction_state(self, number: int) -> str | None:
        """`flagged`, `confirmed`, `withdrawn`, or None for an instruction never flagged."""
        return self.instruction_flags.get(number)

    def may_rely_on(self, number: int) -> bool:
        """Whether processing may rest on instruction `number` (1-based) (INSTR-2).

        Not while the processor's flag awaits the controller's word, never once withdrawn.
        """
        return self.instruction_flags.get(number) in {None, CONFIRMED}

    def numbered(self, kind: str) -> list[tuple[int, Instruction]]:
        """Every instruction of `kind` with its number, in the order given."""
        return [(n, i) for n, i in enumerate(self.instructions, 1) if i.kind == kind]

    def has_instruction(self, kind: str) -> bool:
        """Tell whether an instruction of `kind` was recorded that processing may rely on."""
        return any(self.may_rely_on(n) for n, _ in self.numbered(kind))

    @property
    def registered_on(self) -> datetime:
        """When the controller was registered."""
        return self.created_on
