"""The GDPA's audit facts as aggregates with past-tense events (ACC-7, SUB-7/8, AUD-5/6).

Each fact the audit produces is an event, so it is sealed, ledger-covered and part of the
change log like everything else: a drawn sample with its entries and the check's findings, each
review of an entry, a review of the risk assessment or the IT-security policy, a change of a
contact person, and a controller's challenge of a sub-processor's supervision.

Free text (notes, review texts, contact details, reasons) arrives sealed: the services seal it
with a records key before it reaches an aggregate, as everywhere else (`processor.keys.freetext`).
This module imports nothing but `eventsourcing`, the shared kernel and the domain's ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID

from eventsourcing.domain import event

from processor.domain.ids import contact_persons_id
from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import InvalidInputError, NotFoundError

# @event methods' arguments become the event's attributes, read by the change log and checks.
# ruff: noqa: ARG002

OK: Final = "ok"
DEVIATION: Final = "deviation"
FINDINGS: Final = (OK, DEVIATION)


class AuditSample(ProcessorAggregate):
    """A recorded random sample of access entries, the check's findings and the GDPA's reviews.

    `entries` holds, per entry, only ids, kinds, actors, times and finding codes: never a value.
    """

    @event("AuditSampleDrawn")
    def __init__(
        self,
        actor: str,
        of: str,
        seed: int,
        start: str | None,
        end: str | None,
        population: int,
        entries: list[dict[str, Any]],
        deviations: int,
        policy_version: str,
    ) -> None:
        self.drawn_by = actor
        self.of = of
        self.seed = seed
        self.start = start
        self.end = end
        self.population = population
        self.entries = [dict(e) for e in entries]
        self.deviations = deviations
        self.policy_version = policy_version
        self.reviews: dict[str, dict[str, Any]] = {}

    def entry(self, entry_id: str) -> dict[str, Any]:
        """One entry of the sample, or NotFoundError."""
        for e in self.entries:
            if e["entry"] == entry_id:
                return e
        raise NotFoundError(f"sample {self.id} has no entry {entry_id[:40]!r}")

    def review(self, actor: str, entry: str, finding: str, note: str) -> None:
        """Record the GDPA's finding on one entry; a later review of it supersedes the earlier."""
        if finding not in FINDINGS:
            raise InvalidInputError(f"--finding must be one of {', '.join(FINDINGS)}")
        self.entry(entry)
        self._reviewed(actor=actor, entry=entry, finding=finding, note=note)

    @event("SampleEntryReviewed")
    def _reviewed(self, actor: str, entry: str, finding: str, note: str) -> None:
        self.reviews[entry] = {
            "finding": finding,
            "note": note,
            "by": actor,
            "at": self.modified_on.isoformat(),
        }

    @property
    def unreviewed(self) -> list[str]:
        """Ids of the entries the GDPA has not reviewed yet."""
        return [e["entry"] for e in self.entries if e["entry"] not in self.reviews]


class RiskAssessmentReview(ProcessorAggregate):
    """The processor's own risk assessment, reviewed, with when it is next due (AUD-6)."""

    @event("RiskAssessmentReviewed")
    def __init__(self, actor: str, text: str, next_due: str, policy_version: str) -> None:
        self.reviewed_by = actor
        self.text = text
        self.next_due = next_due
        self.policy_version = policy_version


class SecurityPolicyReview(ProcessorAggregate):
    """A review of the IT-security policy and whether the measures suffice (AUD-6)."""

    @event("SecurityPolicyReviewed")
    def __init__(self, actor: str, text: str, next_due: str, policy_version: str) -> None:
        self.reviewed_by = actor
        self.text = text
        self.next_due = next_due
        self.policy_version = policy_version


class ContactPersons(ProcessorAggregate):
    """A party's contact persons by role (AUD-5); each person's details arrive sealed."""

    @staticmethod
    def create_id(party: str, **_: object) -> UUID:
        """One per party, found from the party alone."""
        return contact_persons_id(party)

    @event("ContactPersonsOpened")
    def __init__(self, actor: str, party: str) -> None:
        self.party = party
        self.persons: dict[str, str] = {}
        self.changed_at: datetime | None = None

    @event("ContactPersonRecorded")
    def record(self, actor: str, role: str, details: str, replaced: bool) -> None:
        """Record (or replace) the contact person for `role`; `details` is sealed."""
        self.persons[role] = details
        self.changed_at = self.modified_on

    def remove(self, actor: str, role: str) -> None:
        """Remove the contact person for `role`."""
        if role not in self.persons:
            raise NotFoundError(f"no contact person with role {role!r} is recorded")
        self._removed(actor=actor, role=role)

    @event("ContactPersonRemoved")
    def _removed(self, actor: str, role: str) -> None:
        del self.persons[role]
        self.changed_at = self.modified_on


class SupervisionChallenge(ProcessorAggregate):
    """A controller's challenge of a sub-processor's supervision, asking for a new audit (SUB-7)."""

    @event("SupervisionChallenged")
    def __init__(
        self,
        actor: str,
        controller: str,
        subprocessor: str,
        supervision_on: str | None,
        reason: str,
        new_audit_requested: bool,
        policy_version: str,
    ) -> None:
        self.controller = controller
        self.subprocessor = subprocessor
        self.supervision_on = supervision_on
        self.reason = reason
        self.new_audit_requested = new_audit_requested
        self.challenged_by = actor


class Inspection(ProcessorAggregate):
    """An inspection or audit of the processor, or of one of its sub-processors (AUD-7).

    Held by a controller, an auditor it mandated or a supervisory authority (SCC 12.1-12.3,
    C.7, C.8, DPA18 Bilag 3); recorded by the GDPA on the inspector's behalf. `inspector` and
    `findings` arrive sealed (a person's name, an account in words); `outcome` is the finding
    code the report counts without opening them.
    """

    @event("InspectionRecorded")
    def __init__(
        self,
        actor: str,
        by: str,
        party: str,
        controller: str | None,
        inspector: str,
        of: str,
        held_on: str,
        outcome: str,
        findings: str,
        policy_version: str,
    ) -> None:
        self.recorded_by = actor
        self.by = by
        self.party = party
        self.controller = controller
        self.inspector = inspector
        self.of = of
        self.held_on = held_on
        self.outcome = outcome
        self.findings = findings
        self.policy_version = policy_version
