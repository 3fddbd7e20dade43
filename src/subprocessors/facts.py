# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Plain, dated facts that the rules judge.

The rules never read aggregates or stores: the application fills these frozen records, and
`subprocessors.domain.facts_as_of` builds the sub-processor side from events. Every fact
carries its date, so the same rules answer "may we process now?" and "could we have
processed on 2019-01-01?" (as-of evaluation) without a second code path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from uuid import UUID


def day_of(at: datetime) -> date:
    """Return the UTC calendar day of `at`: notice periods and decisions are counted in days."""
    return at.astimezone(UTC).date()


def start_of(day: date) -> datetime:
    """Return midnight UTC at the start of `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class TransferInstruction:
    """A controller's documented instruction to transfer to a third country (SCC 8.1, C.6).

    It names the basis too, because SCC 8.4 makes the Chapter V basis part of the
    instruction: an instruction given for Privacy Shield does not cover a DPF transfer.
    """

    country: str
    basis: str
    given_at: datetime
    text: str


@dataclass(frozen=True)
class Objection:
    """A controller's objection to a sub-processor (SUB-3), dated so as-of checks can skip it."""

    controller_id: str
    subprocessor_id: UUID
    at: datetime
    reason: str
    actor: str = ""


@dataclass(frozen=True)
class ControllerFacts:
    """What the rules need to know about one controller, filled by the application."""

    controller_id: str
    edition: str
    registered_at: datetime
    transfer_instructions: tuple[TransferInstruction, ...] = ()
    objections: tuple[Objection, ...] = ()


@dataclass(frozen=True)
class Supervision:
    """One documented supervision of a sub-processor (SUB-7, SCC C.8)."""

    on: date
    method: str
    finding: str
    recorded_at: datetime
    actor: str


@dataclass(frozen=True)
class AgreementAmendment:
    """An amendment of a sub-processor agreement as kept (SUB-5, SUB-9).

    Its reference, the day it was signed and the SHA-256 of its text, so the copy given to a
    controller can be verified.
    """

    ref: str
    signed_on: date
    text_sha256: str
    recorded_at: datetime
    recorded_by: str


@dataclass(frozen=True)
class SubProcessorFacts:
    """A sub-processor's registry entry and its dated history, as of some moment.

    `listed_from` is set for entries seeded from an edition's list (approved at signature);
    `notices` maps each notified controller to the first day it may be engaged for it.
    """

    subprocessor_id: UUID
    name: str
    registration: str
    address: str
    country: str
    data_locations: tuple[str, ...]
    activities: frozenset[str]
    basis: str
    agreement_ref: str = ""
    agreement_date: date | None = None
    beneficiary_clause: bool | None = None
    agreement_sha256: str = ""
    amendments: tuple[AgreementAmendment, ...] = ()
    editions: frozenset[str] = frozenset()
    listed_from: datetime | None = None
    proposed_at: datetime | None = None
    replaces: UUID | None = None
    notices: Mapping[str, date] = field(default_factory=dict)
    objections: Mapping[str, Objection] = field(default_factory=dict)
    engaged_at: datetime | None = None
    retired_at: datetime | None = None
    supervisions: tuple[Supervision, ...] = ()

    @property
    def destinations(self) -> tuple[str, ...]:
        """Every country the data goes to: the sub-processor's own and its data locations."""
        return tuple(dict.fromkeys((self.country, *self.data_locations)))

    def objection_by(self, controller: ControllerFacts, at: datetime) -> Objection | None:
        """Return the controller's objection recorded by `at`, wherever it was recorded.

        Objections may come from this sub-processor's history or from the controller's own
        record; either one blocks, so a lost copy on one side cannot unblock processing.
        """
        here = self.objections.get(controller.controller_id)
        if here is not None and here.at <= at:
            return here
        for objection in controller.objections:
            if objection.subprocessor_id == self.subprocessor_id and objection.at <= at:
                return objection
        return None
