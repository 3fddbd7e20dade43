"""Rules of the agreement and its instructions as small named objects (INSTR-2/5, RET-1/4).

Built on the kernel's `Rule` (`processor.kernel.rules`), like the sub-processor rules: a frozen
dataclass per rule, named after what it requires, carrying its obligation id and the dates it
judged; `enforce` turns a broken rule into one `RefusedError` whose rule name is the class name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from processor.kernel.rules import Rule


@dataclass(frozen=True)
class InstructionMustNotBeFlagged(Rule):
    """Processing waits on an instruction the processor flagged as infringing (INSTR-2).

    Until the controller confirms it (then processing may go ahead on its word) or withdraws it
    (then nothing may rest on it), anything that relies on the instruction is refused.
    """

    obligation: ClassVar[str] = "INSTR-2"
    controller: str
    number: int
    kind: str
    state: str | None

    def _broken(self) -> bool:
        return self.state in {"flagged", "withdrawn"}

    def _explain(self) -> str:
        if self.state == "withdrawn":
            return f"{self.kind} instruction {self.number} of {self.controller} was withdrawn"
        return (
            f"{self.kind} instruction {self.number} of {self.controller} is flagged as infringing "
            "the law (INSTR-2); processing on it waits until the controller confirms or "
            "withdraws it"
        )


@dataclass(frozen=True)
class TerminationNeedsTimelyInstruction(Rule):
    """Under the 2018 DPA the controller instructs at least 30 days before the end (RET-1).

    Broken rules of this kind do not refuse: the termination is accepted, flagged and the
    controller told, because the end of an agreement cannot be refused by the processor.
    """

    obligation: ClassVar[str] = "RET-1"
    controller: str
    edition: str
    instruction: str | None
    recorded_on: date
    effective: date
    days_required: int | None

    def _broken(self) -> bool:
        if self.days_required is None:
            return False
        late = (self.effective - self.recorded_on).days < self.days_required
        return self.instruction is None or late

    def _explain(self) -> str:
        given = (
            f"the instruction ({self.instruction}) came {self.recorded_on}"
            if self.instruction
            else f"no instruction for the data was given by {self.recorded_on}"
        )
        return (
            f"{self.controller}'s {self.edition} agreement asks for the controller's instruction "
            f"at least {self.days_required} days before the end ({self.effective}); {given}"
        )


@dataclass(frozen=True)
class AmendmentMustBeAcceptedAsPending(Rule):
    """An amendment takes effect only when the administrator accepts that very edition (INSTR-5)."""

    obligation: ClassVar[str] = "INSTR-5"
    controller: str
    pending: str | None
    accepting: str

    def _broken(self) -> bool:
        return self.pending != self.accepting

    def _explain(self) -> str:
        if self.pending is None:
            return f"{self.controller} has no pending amendment to accept"
        return f"{self.controller}'s pending amendment is {self.pending}, not {self.accepting}"


@dataclass(frozen=True)
class AgreementMustBeOnRecord(Rule):
    """Nothing is processed for a controller before its signed agreement is kept (INSTR-5).

    Art. 28(3) makes processing rest on a binding contract: adding, importing or changing
    contacts and sending wait until the agreement (edition, both signatories, dates, text hash)
    is recorded, so a processing never runs ahead of the document that allows it.
    """

    obligation: ClassVar[str] = "INSTR-5"
    controller: str
    edition: str
    documents: int

    def _broken(self) -> bool:
        return self.documents == 0

    def _explain(self) -> str:
        return (
            f"{self.controller} has no signed {self.edition} agreement on record; record it with "
            f"`processor controllers agreement {self.controller} --edition {self.edition}`"
        )


@dataclass(frozen=True)
class UpgradeNeedsTheControllersRequest(Rule):
    """The processor upgrades an account only on the controller's recorded request (RET-4)."""

    obligation: ClassVar[str] = "RET-4"
    controller: str
    number: int | None
    kind: str | None
    account_asked: str | None
    account: str
    done: bool

    def _broken(self) -> bool:
        return (
            self.number is None
            or self.kind != "upgrade-request"
            or self.account_asked != self.account
            or self.done
        )

    def _explain(self) -> str:
        if self.number is None:
            return (
                "cite the controller's request: an instruction of kind upgrade-request "
                "(--request N)"
            )
        if self.kind != "upgrade-request":
            return f"instruction {self.number} of {self.controller} is not an upgrade request"
        if self.done:
            return f"upgrade request {self.number} of {self.controller} was already carried out"
        return (
            f"upgrade request {self.number} of {self.controller} asks for "
            f"{self.account_asked!r}, not {self.account!r}"
        )
