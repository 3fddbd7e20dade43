"""The breach register's aggregates: one `Breach` per security incident, and the register.

Every step of a breach is a past-tense event on its `Breach` (BR-4, Art. 33(5)): opened, impact
assessed, controller notified, measure taken, authority notified, subjects' notice decided,
contacts exported, keys rotated, closed with a review. Free text (nature, cause, how it was
found, consequences, measures, reasons, review) arrives sealed: the events hold tokens only.

No read-model table is added for breaches: the `BreachRegister` aggregate, with an id derived
from a fixed name, lists every breach id in the order they were opened, so the register is one
aggregate load, and each breach one more.

This module imports only the kernel (base aggregate, rules): no SQL, files or CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Final
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.rules import Rule, enforce

KINDS: Final = ("confidentiality", "integrity", "availability")
PHASES: Final = ("initial", "follow-up", "final")
STATUSES: Final = ("suspected", "confirmed", "contained", "closed", "not-a-breach")
OPEN_STATUSES: Final = ("suspected", "confirmed", "contained")
MEASURE_KINDS: Final = ("contain", "restore", "change-keys", "investigate", "other")
SUBJECT_EXCEPTIONS: Final = {
    "a": "Art. 34(3)(a): the data were unintelligible to anyone not authorised (e.g. encrypted)",
    "b": "Art. 34(3)(b): later measures ensure the high risk is no longer likely to materialise",
    "c": "Art. 34(3)(c): it would involve disproportionate effort; a public communication instead",
}
REGISTER_ID: Final = uuid5(NAMESPACE_URL, "processor:breach-register")


@dataclass(frozen=True)
class BreachMustBeOpen(Rule):
    """Rule: a closed breach, or one found not to be a personal-data breach, takes no new steps."""

    obligation: ClassVar[str] = "BR-4"
    status: str

    def _broken(self) -> bool:
        return self.status not in OPEN_STATUSES

    def _explain(self) -> str:
        return f"the breach is {self.status}; no further steps are recorded"


class Breach(ProcessorAggregate):
    """One security incident, from the processor's first awareness to the closing review."""

    @event("BreachOpened")
    def __init__(
        self,
        actor: str,
        number: int,
        kinds: list[str],
        nature: str,
        cause: str,
        discovery: str,
        discovered_at: datetime | None,
        aware_at: datetime,
        occurred_from: datetime | None,
        occurred_to: datetime | None,
        systems: list[str],
        contact_point: str,
        policy_version: str,
    ) -> None:
        self.number = number
        self.opened_by = actor
        self.kinds = list(kinds)
        self.nature = nature
        self.cause = cause
        self.discovery = discovery
        self.discovered_at = discovered_at
        self.aware_at = aware_at
        self.occurred_from = occurred_from
        self.occurred_to = occurred_to
        self.systems = list(systems)
        self.contact_point = contact_point
        self.policy_version = policy_version
        self.phase = "initial"
        self.status = "suspected"
        self.status_reason = ""
        self.assessments: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.measures: list[dict[str, Any]] = []
        self.authority_notices: dict[str, dict[str, Any]] = {}
        self.subject_notices: dict[str, dict[str, Any]] = {}
        self.exports: list[dict[str, Any]] = []
        self.key_rotations: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.review = ""
        self.closed_at: datetime | None = None

    # -- what is known ----------------------------------------------------------------------

    @property
    def impact(self) -> dict[str, Any] | None:
        """The latest impact assessment, or None before the first."""
        return self.assessments[-1] if self.assessments else None

    def notified(self, controller: str) -> list[dict[str, Any]]:
        """The notices given to `controller`, oldest first."""
        return [n for n in self.notifications if n["controller"] == controller]

    @property
    def is_personal_data_breach(self) -> bool:
        """False once the breach is found not to be a personal-data breach (no clocks then)."""
        return self.status != "not-a-breach"

    # -- commands ---------------------------------------------------------------------------

    def update(
        self,
        actor: str,
        *,
        phase: str | None,
        status: str | None,
        reason: str,
        occurred_from: datetime | None,
        occurred_to: datetime | None,
        systems: list[str] | None,
        cause: str,
    ) -> None:
        """Record what became known (Art. 33(4)): phase, status with reasons, window, systems."""
        enforce(BreachMustBeOpen(self.status))
        self._updated(
            actor=actor,
            phase=phase,
            status=status,
            reason=reason,
            occurred_from=occurred_from,
            occurred_to=occurred_to,
            systems=systems,
            cause=cause,
        )

    @event("BreachUpdated")
    def _updated(
        self,
        actor: str,
        phase: str | None,
        status: str | None,
        reason: str,
        occurred_from: datetime | None,
        occurred_to: datetime | None,
        systems: list[str] | None,
        cause: str,
    ) -> None:
        if phase:
            self.phase = phase
        if status:
            self.status = status
            self.status_reason = reason
        if occurred_from is not None:
            self.occurred_from = occurred_from
        if occurred_to is not None:
            self.occurred_to = occurred_to
        if systems:
            self.systems = list(systems)
        if cause:
            self.cause = cause
        self.updates.append(
            {"at": self.modified_on, "actor": actor, "phase": phase, "status": status}
        )

    @event("ImpactAssessed")
    def assess(self, actor: str, assessment: dict[str, Any]) -> None:
        """Record an impact assessment (counts and categories per controller, BR-2)."""
        self.assessments.append({**assessment, "at": self.modified_on.isoformat(), "actor": actor})

    def record_notification(
        self,
        actor: str,
        controller: str,
        notice_id: str,
        phase: str,
        due_at: datetime | None,
        content_sha256: str,
        consequences: str,
        measures: str,
    ) -> None:
        """Record that `controller` was given notice `notice_id` (BR-1), committed with it."""
        enforce(BreachMustBeOpen(self.status))
        self._controller_notified(
            actor=actor,
            controller=controller,
            notice_id=notice_id,
            phase=phase,
            due_at=due_at,
            content_sha256=content_sha256,
            consequences=consequences,
            measures=measures,
        )

    @event("BreachNotifiedToController")
    def _controller_notified(
        self,
        actor: str,
        controller: str,
        notice_id: str,
        phase: str,
        due_at: datetime | None,
        content_sha256: str,
        consequences: str,
        measures: str,
    ) -> None:
        self.notifications.append(
            {
                "controller": controller,
                "notice_id": notice_id,
                "phase": phase,
                "at": self.modified_on,
                "due_at": due_at,
                "actor": actor,
                "content_sha256": content_sha256,
                "consequences": consequences,
                "measures": measures,
            }
        )

    def take_measure(self, actor: str, kind: str, text: str, at: datetime) -> None:
        """Record a measure (contain, restore, change keys...) with its time (BR-5)."""
        enforce(BreachMustBeOpen(self.status))
        self._measure_taken(actor=actor, kind=kind, text=text, at=at)

    @event("BreachMeasureTaken")
    def _measure_taken(self, actor: str, kind: str, text: str, at: datetime) -> None:
        self.measures.append(
            {"kind": kind, "text": text, "at": at, "recorded_at": self.modified_on, "actor": actor}
        )

    def record_authority_notice(
        self,
        actor: str,
        controller: str,
        at: datetime,
        authority: str,
        reference: str,
        delay_reason: str,
        *,
        required: bool = True,
    ) -> None:
        """Record the controller's notification of the supervisory authority (BR-3, Art. 33(1)).

        `required=False` records the controller's documented decision that the breach is unlikely
        to result in a risk (Art. 33(1), 33(5)): `delay_reason` then holds its justification.
        """
        self._authority_notified(
            actor=actor,
            controller=controller,
            at=at,
            authority=authority,
            reference=reference,
            delay_reason=delay_reason,
            required=required,
        )

    @event("AuthorityNotificationRecorded")
    def _authority_notified(
        self,
        actor: str,
        controller: str,
        at: datetime,
        authority: str,
        reference: str,
        delay_reason: str,
        required: bool = True,
    ) -> None:
        self.authority_notices[controller] = {
            "at": at,
            "required": required,
            "authority": authority,
            "reference": reference,
            "delay_reason": delay_reason,
            "recorded_at": self.modified_on,
            "actor": actor,
        }

    @event("SubjectsNoticeDecided")
    def record_subjects_decision(
        self,
        actor: str,
        controller: str,
        notified: bool,
        channel: str,
        at: datetime | None,
        exception: str,
        justification: str,
    ) -> None:
        """Record the controller's decision on telling the data subjects (BR-3, Art. 34)."""
        self.subject_notices[controller] = {
            "notified": notified,
            "channel": channel,
            "at": at,
            "exception": exception,
            "justification": justification,
            "recorded_at": self.modified_on,
            "actor": actor,
        }

    @event("AffectedContactsExported")
    def record_export(self, actor: str, controller: str, subjects: int, fields: list[str]) -> None:
        """Record that the controller's administrator exported affected subjects' contact data."""
        self.exports.append(
            {
                "controller": controller,
                "subjects": subjects,
                "fields": list(fields),
                "at": self.modified_on,
                "actor": actor,
            }
        )

    @event("BreachKeysRotated")
    def record_key_rotation(self, actor: str, what: str, detail: dict[str, Any]) -> None:
        """Record that key material was replaced because of this breach (BR-5)."""
        self.key_rotations.append(
            {"what": what, "detail": dict(detail), "at": self.modified_on, "actor": actor}
        )

    def close(self, actor: str, review: str) -> None:
        """Close with the review: causes, measures, lessons (BR-4)."""
        enforce(BreachMustBeOpen(self.status))
        self._closed(actor=actor, review=review)

    @event("BreachClosed")
    def _closed(self, actor: str, review: str) -> None:
        self.status = "closed"
        self.closed_by = actor
        self.phase = "final"
        self.review = review
        self.closed_at = self.modified_on


class BreachRegister(ProcessorAggregate):
    """The list of every breach id, in the order opened (Art. 33(5): the documentation)."""

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:  # noqa: ANN401
        """One register per store, at a fixed id."""
        return REGISTER_ID

    @event("BreachRegisterStarted")
    def __init__(self, actor: str) -> None:
        self.started_by = actor
        self.breaches: list[str] = []

    @event("BreachRegistered")
    def register(self, actor: str, breach_id: str) -> None:
        """Add a breach to the register."""
        self.last_registered_by = actor
        self.breaches.append(breach_id)
