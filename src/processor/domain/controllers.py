"""Controllers: the processor's customers, with their agreement and documented instructions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eventsourcing.domain import event

from processor.domain.base import ProcessorAggregate
from processor.domain.ids import controller_id

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

    @event("InstructionRecorded")
    def record_instruction(self, actor: str, kind: str, text: str, details: dict[str, str]) -> None:
        """Record a documented instruction (INSTR-1); its event's time is its date."""
        self.instructions.append(Instruction(kind, text, self.modified_on, actor, dict(details)))

    @event("DataExported")
    def record_export(
        self, actor: str, scope: str, contacts: int, data_format: str, sha256: str
    ) -> None:
        """Record that personal data left the processor in an export (SUBJ-6, RET-2)."""
        self.exports += 1

    def has_instruction(self, kind: str) -> bool:
        """Tell whether an instruction of `kind` was ever recorded."""
        return any(i.kind == kind for i in self.instructions)

    @property
    def registered_on(self) -> datetime:
        """When the controller was registered."""
        return self.created_on
