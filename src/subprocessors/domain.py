# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The sub-processor aggregate: one event stream per sub-processor (SUB-1 to SUB-7).

A sub-processor enters the registry in one of two ways. `add` records an entry of an
edition's list that controllers approved when they signed (Appendix B / Bilag 1), so it is
engaged from `listed_from` on. `propose` starts the SUB-2 procedure: the application has
computed, per affected controller, the first day it may be engaged (its notice date), and
until that day the controller may object (SUB-3). Rules are checked here, before an event is
recorded; the event methods only change state, so replaying history never re-judges it.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Self

from eventsourcing.domain import event

from processor.kernel import clock
from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import InvalidInputError
from processor.kernel.rules import enforce
from subprocessors import rules
from subprocessors.details import SubProcessorDetails, parse_day, subprocessor_id
from subprocessors.facts import (
    AgreementAmendment,
    Objection,
    SubProcessorFacts,
    Supervision,
    day_of,
    start_of,
)
from subprocessors.vocabulary import SUPERVISION_METHODS

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from uuid import UUID


class SubProcessor(ProcessorAggregate):
    """A sub-processor, its approval per controller, its agreement and its supervision."""

    class SubProcessorAdded(ProcessorAggregate.Created):
        """An edition's list entry was registered: approved at signature, engaged already."""

        details: dict[str, Any]
        editions: list[str]
        listed_from: str
        actor: str

        def apply(self, aggregate: SubProcessor) -> None:
            """Mark the entry engaged from the day the edition's list took effect."""
            aggregate.listed_from = start_of(date.fromisoformat(self.listed_from))
            aggregate.engaged_at = aggregate.listed_from

    class SubProcessorProposed(ProcessorAggregate.Created):
        """A new or replacing sub-processor was proposed; each controller got a notice date."""

        details: dict[str, Any]
        editions: list[str]
        notices: dict[str, str]
        replaces: UUID | None
        actor: str

        def apply(self, aggregate: SubProcessor) -> None:
            """Record the proposal time and every controller's notice date."""
            aggregate.proposed_at = self.timestamp
            aggregate.replaces = self.replaces
            aggregate.notices = {c: date.fromisoformat(d) for c, d in self.notices.items()}

    @staticmethod
    def create_id(details: dict[str, Any]) -> UUID:
        """Derive the id from the name (see `subprocessor_id`)."""
        return subprocessor_id(details["name"])

    def __init__(self, *, details: dict[str, Any], editions: list[str], actor: str) -> None:
        self.details = SubProcessorDetails.from_event_fields(details)
        self.editions = frozenset(editions)
        self.registered_by = actor
        self.listed_from: datetime | None = None
        self.proposed_at: datetime | None = None
        self.replaces: UUID | None = None
        self.notices: dict[str, date] = {}
        self.objections: dict[str, Objection] = {}
        self.engaged_at: datetime | None = None
        self.engaged_by = ""
        self.retired_at: datetime | None = None
        self.retired_by = ""
        self.retired_reason = ""
        self.agreement_recorded_by = ""
        self.agreement_sha256 = ""
        self.amendments: list[AgreementAmendment] = []
        self.supervisions: list[Supervision] = []

    @classmethod
    def add(
        cls, details: SubProcessorDetails, *, editions: Iterable[str], listed_from: date, actor: str
    ) -> Self:
        """Register an entry of an edition's approved list (SUB-1), engaged from `listed_from`."""
        return cls._create(
            cls.SubProcessorAdded,
            details=details.validated().as_event_fields(),
            editions=sorted(editions),
            listed_from=listed_from.isoformat(),
            actor=actor,
        )

    @classmethod
    def propose(
        cls,
        details: SubProcessorDetails,
        *,
        notices: Mapping[str, date | str],
        actor: str,
        editions: Iterable[str] = (),
        replaces: UUID | None = None,
    ) -> Self:
        """Propose a sub-processor; `notices` maps each affected controller to its notice date.

        `editions` names the lists it joins once engaged, for controllers who sign later.
        """
        fields = details.validated().as_event_fields()
        today = day_of(clock.now())
        dated = {c: parse_day(d, f"notice date for {c}") for c, d in notices.items()}
        for controller_id, day in dated.items():
            enforce(rules.NoticeMustBeGivenInAdvance(details.name, controller_id, day, today))
        return cls._create(
            cls.SubProcessorProposed,
            details=fields,
            editions=sorted(editions),
            notices={c: d.isoformat() for c, d in dated.items()},
            replaces=replaces,
            actor=actor,
        )

    @property
    def name(self) -> str:
        """The sub-processor's name, which identifies it."""
        return self.details.name

    def object_to(self, controller_id: str, reason: str, *, actor: str) -> None:
        """Record a controller's objection during its notice period (SUB-3)."""
        if not reason.strip():
            raise InvalidInputError("an objection needs its reason (DPA18 §11 b: a justified one)")
        today = day_of(clock.now())
        self._enforce_not_retired()
        existing = self.objections.get(controller_id)
        objected_at = existing.at if existing else None
        enforce(rules.ObjectionIsRecordedOnce(self.name, controller_id, objected_at))
        notice = self.notices.get(controller_id)
        enforce(rules.ObjectionMustPrecedeNoticeDate(self.name, controller_id, notice, today))
        self._objected_to(controller_id=controller_id, reason=reason, actor=actor)

    def engage(self, *, actor: str) -> None:
        """Start using a proposed sub-processor once every notice period has run (SUB-2).

        Controllers that objected are not waited for: the objection already keeps their data
        away from it. The agreement must be on record first (Art. 28(4), SUB-5), with the
        beneficiary clause and its text kept (`record_agreement`): a reference alone given at
        `propose` could not produce the copy a controller may ask for.
        """
        today = day_of(clock.now())
        self._enforce_not_retired()
        enforce(rules.EngagementMustBePending(self.name, self.engaged_at))
        ref = self.details.agreement_ref
        enforce(rules.AgreementMustBeRecorded(self.name, ref))
        enforce(
            rules.BeneficiaryClauseMustBeIncluded(
                self.name, self.details.beneficiary_clause, "SCC 7.6"
            )
        )
        enforce(rules.AgreementTextMustBeKept(self.name, ref, self.agreement_sha256))
        for controller_id, notice in sorted(self.notices.items(), key=lambda item: item[1]):
            if controller_id not in self.objections:
                enforce(rules.NoticePeriodMustHaveElapsed(self.name, controller_id, notice, today))
        self._engaged(actor=actor)

    def retire(self, reason: str, *, actor: str) -> None:
        """Take the sub-processor off every list (a withdrawn proposal is retired too)."""
        self._enforce_not_retired()
        self._retired(reason=reason, actor=actor)

    def record_agreement(
        self,
        agreement_ref: str,
        *,
        agreement_date: date | None,
        beneficiary_clause: bool,
        text_sha256: str,
        actor: str,
    ) -> None:
        """Keep the sub-processor agreement so a copy can be produced on request (SUB-5, SUB-9).

        Kept with the SHA-256 of its text, so the copy a controller is given can be checked
        against what was signed; an agreement without the third-party-beneficiary clause
        (SCC 7.6) is refused, as the controller could not step in if the processor failed.
        """
        if not agreement_ref.strip():
            raise InvalidInputError("the agreement reference is empty")
        _check_sha256(text_sha256)
        enforce(rules.BeneficiaryClauseMustBeIncluded(self.name, beneficiary_clause, "SCC 7.6"))
        self._agreement_kept(
            agreement_ref=agreement_ref,
            agreement_date=agreement_date.isoformat() if agreement_date else None,
            beneficiary_clause=beneficiary_clause,
            text_sha256=text_sha256,
            actor=actor,
        )

    def amend_agreement(
        self, amendment_ref: str, *, signed_on: date, text_sha256: str, actor: str
    ) -> None:
        """Keep an amendment of the recorded agreement with its text's hash (SUB-5, SUB-9)."""
        enforce(rules.AgreementMustBeRecorded(self.name, self.details.agreement_ref))
        if not amendment_ref.strip():
            raise InvalidInputError("the amendment reference is empty")
        _check_sha256(text_sha256)
        if signed_on > day_of(clock.now()):
            raise InvalidInputError(f"an amendment signed on {signed_on} lies in the future")
        self._agreement_amended(
            amendment_ref=amendment_ref.strip(),
            signed_on=signed_on.isoformat(),
            text_sha256=text_sha256,
            actor=actor,
        )

    def supervise(self, on: date, method: str, finding: str, *, actor: str) -> None:
        """Document a supervision of the sub-processor and what it found (SUB-7, SCC C.8)."""
        if method not in SUPERVISION_METHODS:
            raise InvalidInputError(f"unknown supervision method {method!r}")
        if not finding.strip():
            raise InvalidInputError("a supervision must state its finding")
        if on > day_of(clock.now()):
            raise InvalidInputError(f"a supervision on {on} lies in the future")
        self._supervised(on=on.isoformat(), method=method, finding=finding, actor=actor)

    def facts(self) -> SubProcessorFacts:
        """Return the entry and its dated history for the rules."""
        d = self.details
        return SubProcessorFacts(
            subprocessor_id=self.id,
            name=d.name,
            registration=d.registration,
            address=d.address,
            country=d.country,
            data_locations=d.data_locations,
            activities=frozenset(d.activities),
            basis=d.basis,
            agreement_ref=d.agreement_ref,
            agreement_date=d.agreement_date,
            beneficiary_clause=d.beneficiary_clause,
            agreement_sha256=self.agreement_sha256,
            amendments=tuple(self.amendments),
            editions=self.editions,
            listed_from=self.listed_from,
            proposed_at=self.proposed_at,
            replaces=self.replaces,
            notices=dict(self.notices),
            objections=dict(self.objections),
            engaged_at=self.engaged_at,
            retired_at=self.retired_at,
            supervisions=tuple(self.supervisions),
        )

    def _enforce_not_retired(self) -> None:
        enforce(rules.SubProcessorMustNotBeRetired(self.name, self.retired_at, clock.now()))

    # The event methods below only change state. `timestamp` is filled in by the library from
    # the injected clock when the event is triggered, and handed back on every replay; it is
    # the one positional parameter because the library treats keyword-only ones as required.

    @event("SubProcessorObjectedTo")
    def _objected_to(
        self, timestamp: datetime | None = None, *, controller_id: str, reason: str, actor: str
    ) -> None:
        at = timestamp or self.modified_on
        self.objections[controller_id] = Objection(controller_id, self.id, at, reason, actor)

    @event("SubProcessorEngaged")
    def _engaged(self, timestamp: datetime | None = None, *, actor: str) -> None:
        self.engaged_at = timestamp or self.modified_on
        self.engaged_by = actor

    @event("SubProcessorRetired")
    def _retired(self, timestamp: datetime | None = None, *, reason: str, actor: str) -> None:
        self.retired_at = timestamp or self.modified_on
        self.retired_reason = reason
        self.retired_by = actor

    @event("SubProcessorAgreementRecorded")
    def _agreement_recorded(
        self,
        *,
        agreement_ref: str,
        agreement_date: str | None,
        beneficiary_clause: bool,
        actor: str,
    ) -> None:
        self._set_agreement(agreement_ref, agreement_date, beneficiary_clause, actor)

    def _set_agreement(
        self, agreement_ref: str, agreement_date: str | None, beneficiary_clause: bool, actor: str
    ) -> None:
        self.details = dataclasses.replace(
            self.details,
            agreement_ref=agreement_ref,
            agreement_date=date.fromisoformat(agreement_date) if agreement_date else None,
            beneficiary_clause=beneficiary_clause,
        )
        self.agreement_recorded_by = actor

    @event("SubProcessorAgreementKept")
    def _agreement_kept(
        self,
        *,
        agreement_ref: str,
        agreement_date: str | None,
        beneficiary_clause: bool,
        text_sha256: str,
        actor: str,
    ) -> None:
        self._set_agreement(agreement_ref, agreement_date, beneficiary_clause, actor)
        self.agreement_sha256 = text_sha256

    @event("SubProcessorAgreementAmended")
    def _agreement_amended(
        self,
        timestamp: datetime | None = None,
        *,
        amendment_ref: str,
        signed_on: str,
        text_sha256: str,
        actor: str,
    ) -> None:
        at = timestamp or self.modified_on
        self.amendments.append(
            AgreementAmendment(amendment_ref, date.fromisoformat(signed_on), text_sha256, at, actor)
        )

    @event("SubProcessorSupervised")
    def _supervised(
        self, timestamp: datetime | None = None, *, on: str, method: str, finding: str, actor: str
    ) -> None:
        recorded_at = timestamp or self.modified_on
        supervision = Supervision(date.fromisoformat(on), method, finding, recorded_at, actor)
        self.supervisions.append(supervision)


def effective_at(domain_event: object) -> datetime:
    """Return when an event took effect: a list entry from its list date, others when recorded."""
    if isinstance(domain_event, SubProcessor.SubProcessorAdded):
        return start_of(date.fromisoformat(domain_event.listed_from))
    timestamp: datetime = getattr(domain_event, "timestamp")  # noqa: B009 - any event type
    return timestamp


def facts_as_of(events: Iterable[Any], at: datetime | None = None) -> SubProcessorFacts | None:
    """Replay a sub-processor's events up to `at` and return its facts then (None: unknown yet).

    Events are replayed in order and the replay stops at the first one later than `at`, so
    the answer is what the registry said on that day, judged by today's rules.
    """
    aggregate: SubProcessor | None = None
    for domain_event in events:
        if at is not None and effective_at(domain_event) > at:
            break
        aggregate = domain_event.mutate(aggregate)
    return aggregate.facts() if aggregate is not None else None


_SHA256_HEX = 64


def _check_sha256(text_sha256: str) -> None:
    """Refuse a text hash that is not 64 hex digits (the service hashes the text it was given)."""
    if len(text_sha256) != _SHA256_HEX or any(c not in "0123456789abcdef" for c in text_sha256):
        raise InvalidInputError("the agreement's text is needed to keep its SHA-256")
