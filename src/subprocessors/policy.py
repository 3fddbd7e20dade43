# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Validated shapes of the sub-processor and transfer policy files.

The TOML files under `policies/` are the single source of truth for the seed lists, the
notice periods and the Chapter V facts (who is in the EEA, which adequacy decisions exist,
when a transfer basis was valid). These models reject a file that is wrong in shape before
any rule relies on it, so that a typo cannot silently turn a transfer lawful. They hold
data and simple look-ups only; the judgements live in `rules`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from subprocessors.vocabulary import TRANSFER_BASES, Activity, TransferBasis

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2, upper case: the same code everywhere so look-ups cannot miss."""

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Frozen(BaseModel):
    """Policy data never changes after loading, and unknown keys are typos, not extensions."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoticeRule(_Frozen):
    """How long before engaging a new sub-processor each controller must be told (SUB-2).

    `fixed_by_agreement` separates a period the agreement itself fixes (SCC 7.3: 30 days)
    from one the processor chose because its agreement only says "in advance" (DPA18 §11),
    so that reports can say which of the two a deadline is.
    """

    days: Annotated[int, Field(ge=1)]
    fixed_by_agreement: bool
    wording: NonEmpty
    reference: NonEmpty

    def engage_not_before(self, notified_on: date) -> date:
        """Return the first day the sub-processor may be engaged after notice on `notified_on`."""
        return notified_on + timedelta(days=self.days)


class SubProcessorEntry(_Frozen):
    """One row of an agreement's sub-processor list, as transcribed from its seed (SUB-1).

    The `*_as_stated` fields keep the seed's own words next to the normalised ones, and
    `inferred` lists what the transcription had to decide, so an auditor can check both.
    """

    name: NonEmpty
    registration: str = ""
    address: NonEmpty
    country: CountryCode
    data_locations: tuple[CountryCode, ...] = ()
    activities: Annotated[tuple[Activity, ...], Field(min_length=1)]
    activity_as_stated: NonEmpty
    basis: TransferBasis
    basis_as_stated: NonEmpty
    agreement_ref: str = ""
    agreement_date: date | None = None
    beneficiary_clause: bool | None = None
    source: NonEmpty
    inferred: tuple[str, ...] = ()


class EditionList(_Frozen):
    """An agreement edition's approved sub-processor list and its notice rule."""

    version: NonEmpty
    edition: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")]
    title: NonEmpty
    source: NonEmpty
    list_in_force_from: date | None = None
    requires_beneficiary_clause: bool
    notice: NoticeRule
    subprocessors: Annotated[tuple[SubProcessorEntry, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _names_are_unique(self) -> Self:
        # The name is the sub-processor's identity (its id is derived from it).
        names = [entry.name for entry in self.subprocessors]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"sub-processor names must be unique, repeated: {duplicates}")
        return self


class EeaMember(_Frozen):
    """A state inside the EEA for a period: transfers to it are no Chapter V transfers."""

    country: CountryCode
    name: NonEmpty
    since: date
    until: date | None = None
    note: str = ""

    def member_on(self, day: date) -> bool:
        """Tell whether the state was in the EEA on `day` (`until` is the first day outside)."""
        return self.since <= day and (self.until is None or day < self.until)


class AdequacyDecision(_Frozen):
    """An Art. 45 decision (or its Directive 95/46 predecessor) for one country.

    `only_with_basis` narrows a decision to organisations under a named scheme: the US
    decision covers only Data Privacy Framework participants, so the record must say `dpf`.
    """

    country: CountryCode
    name: NonEmpty
    decision: NonEmpty
    adopted: date
    until: date | None = None
    scope: str = ""
    only_with_basis: TransferBasis | None = None

    def in_force_on(self, day: date) -> bool:
        """Tell whether the decision applied on `day` (`until` is the first day it did not)."""
        return self.adopted <= day and (self.until is None or day < self.until)


class Superseded(_Frozen):
    """Agreements signed before a date under an old version of a basis lapse on a later date.

    Models the SCC transition: the pre-2021 clauses lapsed on 2022-12-27 (Art. 4 of
    Commission Implementing Decision (EU) 2021/914).
    """

    signed_before: date
    invalid_from: date
    source: NonEmpty


BasisKind = Literal["eea", "adequacy", "scheme", "safeguard", "derogation", "none"]


class BasisRule(_Frozen):
    """When and where a transfer basis holds.

    `kind` says how it is judged: `eea` and `none` cover no third country, `adequacy` needs a
    decision for the destination, and schemes and safeguards hold inside their validity
    window (`invalid_from` is the first day they no longer held) for the listed countries.
    A `contractual` basis holds only from the day its agreement was signed.
    """

    kind: BasisKind
    title: NonEmpty
    source: NonEmpty
    valid_from: date | None = None
    invalid_from: date | None = None
    invalidated_by: str = ""
    countries: tuple[CountryCode, ...] = ()
    contractual: bool = False
    superseded: Superseded | None = None
    note: str = ""

    def valid_on(self, day: date) -> bool:
        """Tell whether the basis itself existed on `day` (not yet, or no longer)."""
        started = self.valid_from is None or self.valid_from <= day
        return started and (self.invalid_from is None or day < self.invalid_from)


class TransferPolicy(_Frozen):
    """The Chapter V facts: the EEA over time, adequacy decisions and transfer bases (SUB-6)."""

    version: NonEmpty
    eea: Annotated[tuple[EeaMember, ...], Field(min_length=1)]
    adequacy: tuple[AdequacyDecision, ...]
    bases: dict[TransferBasis, BasisRule]

    @model_validator(mode="after")
    def _every_basis_has_a_rule(self) -> Self:
        # A basis without a rule would be neither allowed nor refused: refuse the file instead.
        missing = sorted(TRANSFER_BASES - set(self.bases))
        if missing:
            raise ValueError(f"every transfer basis needs a rule, missing: {missing}")
        for name, kinds in (("eea", "eea"), ("adequacy", "adequacy"), ("none", "none")):
            if self.bases[name].kind != kinds:  # type: ignore[index]
                raise ValueError(f"basis {name!r} must have kind {kinds!r}")
        return self

    def in_eea(self, country: str, day: date) -> bool:
        """Tell whether `country` was an EEA state on `day`."""
        return any(m.country == country and m.member_on(day) for m in self.eea)

    def left_eea(self, country: str, day: date) -> EeaMember | None:
        """Return the membership `country` had lost by `day`, to explain why it is now outside."""
        past = [m for m in self.eea if m.country == country and m.until and m.until <= day]
        return max(past, key=lambda m: m.since, default=None)

    def adequacy_on(self, country: str, day: date) -> AdequacyDecision | None:
        """Return an adequacy decision for `country` in force on `day`, preferring unrestricted."""
        in_force = [d for d in self.adequacy if d.country == country and d.in_force_on(day)]
        in_force.sort(key=lambda d: d.only_with_basis is not None)
        return in_force[0] if in_force else None

    def basis(self, name: str) -> BasisRule:
        """Return the rule for a basis name (every name has one, see the validator)."""
        return self.bases[name]  # type: ignore[index]
