"""The account lifecycle: termination, its withdrawal, and what a closed account may still do.

Termination records the controller's instruction for its data with the day counts in force
(the agreement edition's 120 days, INSTR-4), so the sweep applies what was agreed at the time.
A closed account (terminated, demo trial over, or deleted) can still export and erase, so the
controller can take its data back, but adds, imports and changes are refused (RET-1, RET-4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.domain.retention import (
    INSTRUCTIONS,
    AccountFacts,
    Decision,
    DemoTerms,
    closed_reason,
    decide,
)
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.kernel.rules import enforce
from processor.keys import open_records_optional, seal_records, seal_records_optional
from processor.retention_policy import decision_policy_version, load_retention_policy
from processor.services import validation as v
from processor.services.agreement_rules import AgreementMustBeOnRecord
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from datetime import datetime

    from processor.domain.controllers import Controller
    from processor.kernel.ports import Core
    from processor.policies import Policies
    from processor.session import Session

RETURN_TO = "return-to"
LEGAL_GROUND = "legal-ground"
WITHDRAWAL_REASON = "termination-withdrawal-reason"


def account_facts(proc: Core[Policies], ctrl: Controller) -> AccountFacts:
    """The recorded facts the retention rules decide on."""
    limits = proc.policies.accounts.accounts[ctrl.account]  # type: ignore[index]
    return AccountFacts(
        ref=ctrl.ref,
        account=ctrl.account,
        registered_at=ctrl.registered_on,
        termination=ctrl.termination,
        returned_at=ctrl.returned_at,
        deleted_at=ctrl.data_deleted_at,
        demo=DemoTerms(limits.trial_days, limits.retention_after_trial_days),
        upgraded=(
            f"{ctrl.upgraded_from} upgraded to {ctrl.account} {ctrl.upgraded_at.date()}"
            if ctrl.upgraded_at is not None
            else None
        ),
    )


def check_account_open(proc: Core[Policies], ctrl: Controller) -> None:
    """Refuse adding, importing or changing contacts, or sending, for a closed account.

    A closed account (RET-1, RET-4) and one whose signed agreement is not on record (INSTR-5)
    process nothing; export and erasure do not pass here, so they remain possible.
    """
    reason = closed_reason(account_facts(proc, ctrl), proc.now())
    if reason is not None:
        raise RefusedError(
            f"{ctrl.ref} takes no new or changed contacts: {reason}; "
            "export and erasure remain possible",
            rule="AccountMustBeOpen",
        )
    enforce(AgreementMustBeOnRecord(ctrl.ref, ctrl.agreement, len(ctrl.agreements)))


def decision_dict(decision: Decision) -> dict[str, Any]:
    """A decision as shown to people and scripts."""
    return {
        "status": decision.status,
        "rule": decision.rule,
        "why": decision.why,
        "due_at": decision.due_at.isoformat() if decision.due_at else None,
    }


class LifecycleService:
    """Terminates collaborations and withdraws terminations (RET-1, RET-2, RET-6)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def termination_texts(self, ctrl: Controller) -> dict[str, str | None]:
        """The termination's recipient and legal ground, opened (`[erased]` after deletion)."""
        term = ctrl.termination
        if term is None:
            return {"return_to": None, "legal_ground": None}
        return {
            "return_to": open_records_optional(
                self.proc.sealer, ctrl.ref, RETURN_TO, term.return_to
            ),
            "legal_ground": open_records_optional(
                self.proc.sealer, ctrl.ref, LEGAL_GROUND, term.legal_ground
            ),
        }

    def decision(self, ctrl: Controller, at: datetime) -> Decision:
        """Where the controller's data stands at `at`."""
        return decide(account_facts(self.proc, ctrl), at)

    def terminate(
        self,
        ref: str,
        effective: str,
        instruction: str | None = None,
        return_to: str | None = None,
        legal_ground: str | None = None,
        retain_until: str | None = None,
    ) -> dict[str, Any]:
        """Record the end of the collaboration and the instruction for the data."""
        self.s.authorize("controllers.terminate", command="controllers terminate", controller=ref)
        ctrl = find_controller(self.proc, ref)
        day = v.iso_date(effective, "effective date")
        if day < ctrl.registered_on.date().isoformat():
            raise InvalidInputError("the effective date is before the controller was registered")
        _check_instruction(instruction, return_to, legal_ground, retain_until, day)
        terms = self.proc.policies.editions.editions[ctrl.agreement]  # type: ignore[index]
        days = load_retention_policy().instructions
        instruction_days = {
            "delete": days.delete_after_days,
            "return": days.return_after_days,
        }.get(instruction or "", 0)
        with self.proc.using_clock():
            ctrl.terminate(
                actor=self.s.user_name,
                effective=day,
                instruction=instruction,
                return_to=seal_records_optional(
                    self.proc.sealer, ref, RETURN_TO, return_to.strip() if return_to else None
                ),
                legal_ground=seal_records_optional(
                    self.proc.sealer,
                    ref,
                    LEGAL_GROUND,
                    legal_ground.strip() if legal_ground else None,
                ),
                retain_until=v.iso_date(retain_until, "--retain-until") if retain_until else None,
                deletion_after_days=terms.deletion_after_termination_days,
                instruction_days=instruction_days,
                policy_version=decision_policy_version(self.proc.policies),
            )
            # Imported here: every contact use case imports this module for check_account_open.
            from processor.services.agreements import termination_flag

            # DPA18 §14: a late or missing instruction is accepted, flagged and told (RET-1).
            told = termination_flag(self.s, ctrl, terms, day, instruction)
            self.proc.commit(ctrl, *told)
        assert ctrl.termination is not None  # noqa: S101 - just recorded
        scheduled = self.decision(ctrl, ctrl.termination.effective_at)
        return {
            "controller": ref,
            "effective": day,
            "instruction": instruction or "none (RET-1 default)",
            **self.termination_texts(ctrl),
            "retain_until": str(ctrl.termination.retain_until or "") or None,
            "deletion_after_days": terms.deletion_after_termination_days,
            "recorded_by": self.s.user_name,
            "flagged": [n.title for n in told],
            "data": decision_dict(scheduled),
        }

    def withdraw(self, ref: str, reason: str) -> dict[str, Any]:
        """Withdraw a termination: nothing of the controller is due any more."""
        self.s.authorize(
            "controllers.terminate", command="controllers withdraw-termination", controller=ref
        )
        ctrl = find_controller(self.proc, ref)
        if not reason.strip():
            raise InvalidInputError("a withdrawal needs a reason (--reason)")
        with self.proc.using_clock():
            ctrl.withdraw_termination(
                actor=self.s.user_name,
                reason=seal_records(self.proc.sealer, ref, WITHDRAWAL_REASON, reason.strip()),
                policy_version=decision_policy_version(self.proc.policies),
            )
            self.proc.commit(ctrl)
        return {
            "controller": ref,
            "withdrawn_by": self.s.user_name,
            "withdrawn_at": ctrl.modified_on.isoformat(),
            "data": decision_dict(self.decision(ctrl, self.proc.now())),
        }


def _check_instruction(
    instruction: str | None,
    return_to: str | None,
    legal_ground: str | None,
    retain_until: str | None,
    effective: str,
) -> None:
    """The instruction's own options go with it, and only with it (RET-2, RET-6)."""
    if instruction is not None and instruction not in INSTRUCTIONS:
        raise InvalidInputError(f"unknown instruction {instruction!r}: delete, return or retain")
    if instruction == "retain":
        if not (legal_ground and legal_ground.strip()) or not retain_until:
            raise InvalidInputError(
                "--instruction retain needs --legal-ground and --retain-until (RET-6)"
            )
        if v.iso_date(retain_until, "--retain-until") <= effective:
            raise InvalidInputError("--retain-until must be after the effective date")
    elif legal_ground is not None or retain_until is not None:
        raise InvalidInputError("--legal-ground and --retain-until go with --instruction retain")
    if return_to is not None and (instruction != "return" or not return_to.strip()):
        raise InvalidInputError("--return-to names the recipient of --instruction return")
