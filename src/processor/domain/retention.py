"""Retention: when a controller's personal data is due for deletion, and the sweep that deletes it.

The decision is a pure function of recorded facts (registration, termination, return, deletion)
and the terms in force when they were recorded, evaluated at a given time, so `retention due
--at DATE` and the sweep can never disagree, and a property test can check it against a model.

Rules, in order of precedence:
- RET-6 legal retention overrides everything: due only once `retain_until` has passed.
- RET-2 `return`: due when the collaboration ends, but held until a complete return was made.
- RET-2 `delete`: due when the collaboration ends.
- RET-1 no instruction: due `deletion_after_days` (120) after the effective date.
- RET-4 demo account: the trial ends 30 days after registration, data due 90 days after that.
Without legal retention or a pending return, the earliest applicable due date wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import RefusedError

INSTRUCTIONS = ("delete", "return", "retain")
Status = Literal["open", "scheduled", "held", "due", "deleted"]


def start_of(day: date) -> datetime:
    """Midnight UTC at the start of `day`: dates in terminations mean the whole day."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Termination:
    """The end of the collaboration and the controller's instruction for its data (RET-1/2/6).

    The day counts are those in force when the termination was recorded, so a later policy change
    never moves a deadline already communicated.
    """

    effective: date
    instruction: str | None
    return_to: str | None
    legal_ground: str | None
    retain_until: date | None
    deletion_after_days: int
    instruction_days: int
    recorded_at: datetime
    recorded_by: str
    policy_version: str

    @property
    def effective_at(self) -> datetime:
        """When the collaboration ends."""
        return start_of(self.effective)


@dataclass(frozen=True)
class DemoTerms:
    """The demo account's trial and retention days (RET-4); None for other accounts."""

    trial_days: int | None
    retention_after_trial_days: int | None


@dataclass(frozen=True)
class AccountFacts:
    """What the retention rules need to know about one controller."""

    ref: str
    account: str
    registered_at: datetime
    termination: Termination | None
    returned_at: datetime | None
    deleted_at: datetime | None
    demo: DemoTerms
    # Set when a demo (or freemium) account was upgraded on the controller's request (RET-4).
    upgraded: str | None = None

    @property
    def trial_ends_at(self) -> datetime | None:
        """When a demo trial ends (None for other accounts)."""
        if self.demo.trial_days is None:
            return None
        return later(self.registered_at, self.demo.trial_days)

    @property
    def returned_after_termination(self) -> bool:
        """Whether a complete return was made after the current termination was recorded."""
        term = self.termination
        return bool(term and self.returned_at and self.returned_at >= term.recorded_at)


def later(at: datetime, days: int) -> datetime:
    """`days` after `at`, or the last representable moment when that is past year 9999.

    Input dates are bounded (validation.MAX_YEAR) so this never clamps for new data; a store
    that recorded a date near 9999 before that bound existed must still answer (issue 12).
    """
    try:
        return at + timedelta(days=days)
    except OverflowError:
        return datetime.max.replace(tzinfo=at.tzinfo)


@dataclass(frozen=True)
class Decision:
    """Where a controller stands at a given time, and why."""

    status: Status
    rule: str
    why: str
    due_at: datetime | None = None

    @property
    def is_due(self) -> bool:
        """Whether the sweep deletes the controller's data now."""
        return self.status == "due"


def _demo_due(facts: AccountFacts) -> Decision | None:
    ends = facts.trial_ends_at
    if ends is None or facts.demo.retention_after_trial_days is None:
        return None
    due = later(ends, facts.demo.retention_after_trial_days)
    return Decision(
        "scheduled",
        "RET-4",
        f"demo account: the trial ends {ends.date()} ({facts.demo.trial_days} days), data is "
        f"kept {facts.demo.retention_after_trial_days} days after it",
        due,
    )


def _termination_due(term: Termination) -> Decision:
    if term.instruction == "retain" and term.retain_until is not None:
        return Decision(
            "held",
            "RET-6",
            # The ground itself is sealed free text: the decision (and the events that copy its
            # `why`) only points to it.
            f"retention required by law (the legal ground on record) until {term.retain_until}",
            start_of(term.retain_until),
        )
    if term.instruction in {"delete", "return"}:
        verb = "deletion" if term.instruction == "delete" else "return, then deletion"
        return Decision(
            "scheduled",
            "RET-2",
            f"the controller instructed {verb} at the end of the collaboration ({term.effective})",
            later(term.effective_at, term.instruction_days),
        )
    return Decision(
        "scheduled",
        "RET-1",
        f"no other instruction: deleted {term.deletion_after_days} days after the "
        f"collaboration ended ({term.effective})",
        later(term.effective_at, term.deletion_after_days),
    )


def decide(facts: AccountFacts, at: datetime) -> Decision:
    """Where the controller's data stands at `at` under the retention rules."""
    if facts.deleted_at is not None:
        return Decision("deleted", "RET-3", f"deleted {facts.deleted_at.isoformat()}")
    term = facts.termination
    candidates = [d for d in (_demo_due(facts),) if d is not None]
    if term is not None:
        by_termination = _termination_due(term)
        if by_termination.rule == "RET-6" or term.instruction == "return":
            candidates = [by_termination]  # legal retention and a pending return override
        else:
            candidates.append(by_termination)
    if not candidates:
        if facts.upgraded is not None:
            return Decision(
                "open", "RET-4", f"{facts.upgraded}: the data is kept, never swept as a demo"
            )
        return Decision("open", "", "the collaboration continues")
    chosen = min(candidates, key=lambda d: d.due_at or at)
    assert chosen.due_at is not None  # noqa: S101 - every candidate above has a date
    if at < chosen.due_at:
        return chosen
    if term is not None and term.instruction == "return" and not facts.returned_after_termination:
        recipient = "the recipient on record" if term.return_to else "the controller"
        return Decision(
            "held",
            "RET-2",
            f"awaiting a complete return to {recipient} (export --all --out DIR) before deletion",
            chosen.due_at,
        )
    return Decision("due", chosen.rule, chosen.why, chosen.due_at)


def closed_reason(facts: AccountFacts, now: datetime) -> str | None:
    """Why the account no longer takes new or changed contacts at `now`, or None while open."""
    if facts.deleted_at is not None:
        return "the controller's personal data was deleted at the end of the collaboration"
    term = facts.termination
    if term is not None and now >= term.effective_at:
        return f"the collaboration ended on {term.effective} (terminated)"
    ends = facts.trial_ends_at
    if ends is not None and now >= ends:
        return f"the demo trial ended on {ends.date()}"
    return None


def check_can_terminate(current: Termination | None, deleted_at: datetime | None) -> None:
    """A collaboration ends once: withdraw a termination before recording another."""
    if deleted_at is not None:
        raise RefusedError(
            "the controller's data is already deleted", rule="ControllerDataMustNotBeDeleted"
        )
    if current is not None:
        raise RefusedError(
            f"the controller is already terminated (effective {current.effective}); "
            "withdraw that termination first",
            rule="TerminationIsRecordedOnce",
        )


def check_can_withdraw(current: Termination | None, deleted_at: datetime | None) -> None:
    """Only a termination whose data still exists can be withdrawn."""
    if deleted_at is not None:
        raise RefusedError(
            "the controller's data is already deleted", rule="ControllerDataMustNotBeDeleted"
        )
    if current is None:
        raise RefusedError("the controller is not terminated", rule="TerminationMustExist")


class SweepRun(ProcessorAggregate):
    """One run of the retention sweep: what it set out to do and what it did, per controller.

    Each batch's `SweepBatchCompleted` is saved in the same transaction as the batch's
    `ContactErased` / `MessageContentShredded` events, so its counts are exact even when the run
    is killed: a batch either happened with its count or not at all.
    """

    @event("SweepStarted")
    def __init__(
        self,
        actor: str,
        at: datetime,
        planned: list[dict[str, Any]],
        resumes: list[str],
        policy_version: str,
    ) -> None:
        self.at = at
        self.planned = list(planned)
        self.resumes = list(resumes)
        self.policy_version = policy_version
        self.completed = False
        self.contacts = 0
        self.messages = 0
        self.controllers: list[str] = []

    @event("SweepBatchCompleted")
    def record_batch(
        self,
        actor: str,
        controller: str,
        rule: str,
        scope: str,
        contacts: int,
        contact_events: int,
        messages: int,
    ) -> None:
        """Record one committed batch (its erasures are in the same transaction)."""
        self.contacts += contacts
        self.messages += messages

    @event("ControllerSwept")
    def record_controller(
        self,
        actor: str,
        controller: str,
        rule: str,
        due_at: datetime,
        subjects: int,
        messages: int,
    ) -> None:
        """Record that every personal datum of `controller` is now unreadable."""
        self.controllers.append(controller)

    @event("SweepSuperseded")
    def supersede(self, actor: str, by: str) -> None:
        """Mark an interrupted run as finished by a later run."""
        self.completed = True

    @event("SweepCompleted")
    def complete(
        self, actor: str, controllers: int, contacts: int, messages: int, trials_ended: int
    ) -> None:
        """Record the end of the run with its totals."""
        self.completed = True
