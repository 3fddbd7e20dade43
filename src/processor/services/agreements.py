"""The agreement kept, amendments accepted, instructions flagged, legal requirements told, upgrades.

INSTR-5: the signed agreement is recorded with the SHA-256 of its text (the text stays with the
parties) and who signed on each side; a later edition is an amendment that applies only once the
controller's administrator accepts it, so until then the old edition's terms keep applying.
INSTR-2: the GDPA flags an instruction the processor holds to infringe the law; the controller is
told at once, and everything that relies on the instruction waits for its confirmation or
withdrawal (`rely_on`, `usable`). INSTR-6: a processing or transfer the law requires is recorded
and told to the controller before it happens. RET-1: a 2018-DPA termination without a timely
instruction is accepted but flagged and told. RET-4: the trial's end is told with the offer to
upgrade; the upgrade is done only on the controller's recorded request.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Any, get_args

from processor.domain.controllers import FLAGGED, WITHDRAWN, Controller, Instruction
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.kernel.rules import enforce
from processor.keys import open_records, seal_records
from processor.notices.domain import (
    INSTRUCTION_FLAGGED,
    LEGAL_REQUIREMENT,
    TERMINATION_FLAGGED,
    TRIAL_END,
)
from processor.notices.post import new_notice
from processor.policies import Account, Edition
from processor.services import validation as v
from processor.services.agreement_rules import (
    AmendmentMustBeAcceptedAsPending,
    InstructionMustNotBeFlagged,
    TerminationNeedsTimelyInstruction,
    UpgradeNeedsTheControllersRequest,
)
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor
    from processor.notices.domain import Notice
    from processor.policies import EditionTerms
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session

UPGRADE_REQUEST = "upgrade-request"
SIGNATORY = "agreement-signatory"
FLAG_REASON = "instruction-flag-reason"
LEGAL_TEXT = "legal-requirement"
_RANK = {"demo": 0, "freemium": 1, "paying": 2}


# -- what processing may rely on (INSTR-2) ------------------------------------------------------


def usable(controller: Controller, kind: str) -> list[tuple[int, Instruction]]:
    """The instructions of `kind` processing may rest on: not flagged unsettled, not withdrawn."""
    return [(n, i) for n, i in controller.numbered(kind) if controller.may_rely_on(n)]


def waiting_rule(controller: Controller, kind: str) -> InstructionMustNotBeFlagged | None:
    """The broken rule when every instruction of `kind` waits on a flag, else None."""
    if usable(controller, kind):
        return None
    for number, _ in reversed(controller.numbered(kind)):
        state = controller.instruction_state(number)
        if state == FLAGGED:
            return InstructionMustNotBeFlagged(controller.ref, number, kind, state)
    return None


def check_kind(controller: Controller, kind: str) -> None:
    """Refuse when the only instructions of `kind` are flagged and unsettled (INSTR-2)."""
    rule = waiting_rule(controller, kind)
    if rule is not None:
        enforce(rule)


def rely_on(session: Session, controller: Controller, number: int, command: str) -> None:
    """Refuse (recorded) processing that cites instruction `number` while it waits on a flag."""
    if not 1 <= number <= len(controller.instructions):
        return
    kind = controller.instructions[number - 1].kind
    rule = InstructionMustNotBeFlagged(
        controller.ref, number, kind, controller.instruction_state(number)
    )
    if rule.is_broken():
        session.refuse_rule(command, controller.ref, rule.name, rule.message)


# -- hooks other use cases call ----------------------------------------------------------------


def termination_flag(
    session: Session,
    ctrl: Controller,
    terms: EditionTerms,
    effective: str,
    instruction: str | None,
) -> list[Notice]:
    """Flag and tell a termination the edition's terms call late (RET-1), or nothing.

    The caller has recorded the termination on `ctrl` and commits what this returns with it.
    """
    proc = session.proc
    rule = TerminationNeedsTimelyInstruction(
        controller=ctrl.ref,
        edition=ctrl.agreement,
        instruction=instruction,
        recorded_on=proc.now().date(),
        effective=date.fromisoformat(effective),
        days_required=terms.termination_instruction_days,
    )
    if not rule.is_broken():
        return []
    ctrl.flag_termination(
        actor=session.user_name,
        rule=rule.name,
        why=rule.message,
        policy_version=proc.policies.version,
    )
    notice = new_notice(
        proc,
        controller=ctrl.ref,
        kind=TERMINATION_FLAGGED,
        title="Termination recorded without a timely instruction",
        body=(
            f"{rule.message}. The termination is recorded; without another instruction your data "
            f"is deleted {terms.deletion_after_termination_days} days after the end "
            f"({terms.deletion_after_termination.source}). Instruct the processor now if you "
            "want it returned or kept."
        ),
        actor=session.user_name,
        about="termination",
    )
    return [notice]


def trial_end_notice(
    proc: Processor, ctrl: Controller, actor: str, ended: datetime, due: datetime
) -> Notice:
    """The notice that a demo trial ended, with the offer to upgrade (RET-4)."""
    return new_notice(
        proc,
        controller=ctrl.ref,
        kind=TRIAL_END,
        title="Your demo trial has ended",
        body=(
            f"The demo trial of {ctrl.ref} ended {ended.date()}. Its data is deleted "
            f"{due.date()} unless you upgrade: ask for it with an instruction of kind "
            f"{UPGRADE_REQUEST} (account freemium or paying). An upgraded account keeps its data."
        ),
        actor=actor,
        about="trial-end",
    )


def upgrade_details(account: str | None) -> dict[str, str]:
    """The details of an `upgrade-request` instruction, checked (RET-4)."""
    if account not in ("freemium", "paying"):
        raise InvalidInputError("an upgrade request needs --account freemium or paying")
    return {"account": account}


class AgreementsService:
    """Records agreements and amendments, flags instructions, tells legal requirements, upgrades."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    # -- INSTR-5 ---------------------------------------------------------------------------------

    def record(
        self,
        ref: str,
        edition: str,
        signed_on: str,
        text: bytes,
        processor_signatory: str,
        controller_signatory: str,
    ) -> dict[str, Any]:
        """Record a signed agreement; a second one is an amendment awaiting acceptance."""
        self.s.authorize("controllers.agreement", command="controllers agreement", controller=ref)
        ctrl = find_controller(self.proc, ref)
        if edition not in get_args(Edition):
            raise InvalidInputError(f"unknown agreement edition {edition!r}")
        day = v.iso_date(signed_on, "--signed-on")
        if day > self.proc.now().date().isoformat():
            raise InvalidInputError("--signed-on is in the future")
        if not text.strip():
            raise InvalidInputError("the agreement's text is empty")
        signatories = (processor_signatory.strip(), controller_signatory.strip())
        if not all(signatories):
            raise InvalidInputError("both signatories are needed (processor and controller side)")
        if ctrl.pending_amendment is not None:
            raise RefusedError(
                f"{ref} has a pending amendment ({ctrl.pending_amendment.edition}); "
                "it must be accepted first",
                rule="OneAmendmentIsPendingAtATime",
            )
        # The first document of the edition signed at registration is the agreement in force;
        # anything after it changes the terms and waits for the controller's acceptance.
        in_force = not ctrl.agreements and edition == ctrl.agreement
        digest = hashlib.sha256(text).hexdigest()
        with self.proc.using_clock():
            ctrl.record_agreement(
                actor=self.s.user_name,
                edition=edition,
                signed_on=day,
                text_sha256=digest,
                processor_signatory=seal_records(self.proc.sealer, ref, SIGNATORY, signatories[0]),
                controller_signatory=seal_records(self.proc.sealer, ref, SIGNATORY, signatories[1]),
                in_force=in_force,
                policy_version=self.proc.policies.version,
            )
            self.proc.commit(ctrl)
        return {
            "controller": ref,
            "edition": edition,
            "text_sha256": digest,
            "status": "in force" if in_force else "pending acceptance by the controller",
            **self.describe(ctrl),
        }

    def accept(self, ref: str, edition: str) -> dict[str, Any]:
        """The controller's administrator accepts the pending amendment: its terms now apply."""
        self.s.authorize("controllers.accept", command="controllers accept", controller=ref)
        ctrl = find_controller(self.proc, ref)
        pending = ctrl.pending_amendment
        rule = AmendmentMustBeAcceptedAsPending(ref, pending.edition if pending else None, edition)
        if rule.is_broken():
            self.s.refuse_rule("controllers accept", ref, rule.name, rule.message)
        assert pending is not None  # noqa: S101 - the rule above
        previous = ctrl.agreement
        with self.proc.using_clock():
            ctrl.accept_amendment(
                actor=self.s.user_name, edition=edition, text_sha256=pending.text_sha256
            )
            seeded = (
                self._subprocessors_service.seed_edition(edition) if edition != previous else []
            )
            self.proc.commit(ctrl, *seeded)
        return {"controller": ref, "previous": previous, **self.describe(ctrl)}

    def describe(self, ctrl: Controller) -> dict[str, Any]:
        """The agreement in force, its recorded documents and any pending amendment."""

        def doc(d: Any) -> dict[str, Any]:  # noqa: ANN401 - an AgreementDocument
            return {
                "edition": d.edition,
                "signed_on": d.signed_on.isoformat(),
                "text_sha256": d.text_sha256,
                "signed_by": {
                    "processor": open_records(
                        self.proc.sealer, ctrl.ref, SIGNATORY, d.processor_signatory
                    ),
                    "controller": open_records(
                        self.proc.sealer, ctrl.ref, SIGNATORY, d.controller_signatory
                    ),
                },
                "recorded_at": d.recorded_at.isoformat(),
                "recorded_by": d.recorded_by,
                "accepted_at": d.accepted_at.isoformat() if d.accepted_at else None,
                "accepted_by": d.accepted_by,
            }

        return {
            "agreement": ctrl.agreement,
            "agreement_documents": [doc(d) for d in ctrl.agreements],
            "pending_amendment": doc(ctrl.pending_amendment) if ctrl.pending_amendment else None,
        }

    # -- INSTR-2 ---------------------------------------------------------------------------------

    def _instruction(self, ctrl: Controller, number: int) -> Instruction:
        if not 1 <= number <= len(ctrl.instructions):
            raise InvalidInputError(f"{ctrl.ref} has no instruction {number}")
        return ctrl.instructions[number - 1]

    def flag(self, ref: str, number: int, reason: str) -> dict[str, Any]:
        """Flag an instruction as infringing the law, and tell the controller at once (INSTR-2)."""
        self.s.authorize(
            "controllers.flag-instruction", command="controllers flag-instruction", controller=ref
        )
        ctrl = find_controller(self.proc, ref)
        instruction = self._instruction(ctrl, number)
        if not reason.strip():
            raise InvalidInputError("a flag needs its reason (--reason)")
        if ctrl.instruction_state(number) in {FLAGGED, WITHDRAWN}:
            raise RefusedError(
                f"instruction {number} of {ref} is already {ctrl.instruction_state(number)}",
                rule="InstructionIsFlaggedOnce",
            )
        with self.proc.using_clock():
            ctrl.flag_instruction(
                actor=self.s.user_name,
                number=number,
                reason=seal_records(self.proc.sealer, ref, FLAG_REASON, reason.strip()),
                policy_version=self.proc.policies.version,
            )
            notice = new_notice(
                self.proc,
                controller=ref,
                kind=INSTRUCTION_FLAGGED,
                title=f"Instruction {number} flagged as infringing the law",
                body=(
                    f"In the processor's opinion your {instruction.kind} instruction {number} "
                    f"infringes data-protection law: {reason.strip()}. Processing that relies on "
                    "it waits until you confirm it (controllers confirm-instruction) or withdraw "
                    "it (controllers withdraw-instruction)."
                ),
                actor=self.s.user_name,
                about=f"instruction:{number}",
            )
            self.proc.commit(ctrl, notice)
        return {"controller": ref, "number": number, "kind": instruction.kind, "state": FLAGGED}

    def settle(self, ref: str, number: int, *, confirm: bool) -> dict[str, Any]:
        """The controller confirms or withdraws a flagged instruction."""
        command = f"controllers {'confirm' if confirm else 'withdraw'}-instruction"
        self.s.authorize("controllers.settle-instruction", command=command, controller=ref)
        ctrl = find_controller(self.proc, ref)
        instruction = self._instruction(ctrl, number)
        if ctrl.instruction_state(number) != FLAGGED:
            self.s.refuse_rule(
                command,
                ref,
                "InstructionMustBeFlagged",
                f"instruction {number} of {ref} is not awaiting confirmation "
                f"({ctrl.instruction_state(number) or 'never flagged'})",
            )
        with self.proc.using_clock():
            if confirm:
                ctrl.confirm_instruction(actor=self.s.user_name, number=number)
            else:
                ctrl.withdraw_instruction(actor=self.s.user_name, number=number)
            self.proc.commit(ctrl)
        return {
            "controller": ref,
            "number": number,
            "kind": instruction.kind,
            "state": ctrl.instruction_state(number),
        }

    # -- INSTR-6 ---------------------------------------------------------------------------------

    def legal_requirement(self, ref: str, text: str) -> dict[str, Any]:
        """Record and tell the controller of a processing or transfer the law requires (INSTR-6)."""
        self.s.authorize(
            "controllers.legal-requirement", command="controllers legal-requirement", controller=ref
        )
        ctrl = find_controller(self.proc, ref)
        if not text.strip():
            raise InvalidInputError("a legal requirement needs its text (--text)")
        with self.proc.using_clock():
            ctrl.record_legal_requirement(
                actor=self.s.user_name,
                text=seal_records(self.proc.sealer, ref, LEGAL_TEXT, text.strip()),
                policy_version=self.proc.policies.version,
            )
            notice = new_notice(
                self.proc,
                controller=ref,
                kind=LEGAL_REQUIREMENT,
                title="A processing required by law, before it happens",
                body=(
                    "The law requires the processor to carry out the following processing or "
                    f"transfer of your data without your instruction (SCC 8.2): {text.strip()}"
                ),
                actor=self.s.user_name,
                about="legal-requirement",
            )
            self.proc.commit(ctrl, notice)
        return {
            "controller": ref,
            "notice": str(notice.id),
            "notified_at": ctrl.modified_on.isoformat(),
        }

    # -- RET-4 -----------------------------------------------------------------------------------

    def upgrade(self, ref: str, account: str, request: int | None) -> dict[str, Any]:
        """Upgrade the account on the controller's recorded request: its data is kept (RET-4)."""
        command = "controllers upgrade"
        self.s.authorize("controllers.upgrade", command=command, controller=ref)
        ctrl = find_controller(self.proc, ref)
        if account not in get_args(Account):
            raise InvalidInputError(f"unknown account type {account!r}")
        if _RANK[account] <= _RANK[ctrl.account]:
            raise InvalidInputError(f"{ref} is {ctrl.account}: {account} is no upgrade")
        if ctrl.data_deleted_at is not None:
            self.s.refuse_rule(
                command, ref, "ControllerDataMustNotBeDeleted", f"{ref}'s data is deleted"
            )
        cited = (
            ctrl.instructions[request - 1]
            if request is not None and 1 <= request <= len(ctrl.instructions)
            else None
        )
        rule = UpgradeNeedsTheControllersRequest(
            controller=ref,
            number=request,
            kind=cited.kind if cited else None,
            account_asked=cited.details.get("account") if cited else None,
            account=account,
            done=request in ctrl.upgrade_requests_done,
        )
        if rule.is_broken():
            self.s.refuse_rule(command, ref, rule.name, rule.message)
        assert request is not None  # noqa: S101 - the rule above
        rely_on(self.s, ctrl, request, command)
        previous = ctrl.account
        with self.proc.using_clock():
            ctrl.upgrade_account(
                actor=self.s.user_name,
                previous=previous,
                account=account,
                request=request,
                policy_version=self.proc.policies.version,
            )
            self.proc.commit(ctrl)
        return {
            "controller": ref,
            "previous": previous,
            "account": account,
            "request": request,
            "upgraded_at": ctrl.modified_on.isoformat(),
            "data": "kept: an upgraded account is never swept as a demo (RET-4)",
        }
