# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The Chapter V rules (SUB-6): where data may go, on which basis, on whose instruction.

Three separate rules, because they fail for different reasons and call for different
fixes: no basis at all (a data processing agreement is not one), a basis that does not hold
on the day (Privacy Shield after Schrems II), and a missing instruction from the controller
(SCC 8.1, DPA18 §4: outside the EEA only on the controller's written word).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from processor.kernel.rules import Rule
from subprocessors.rules import moment

if TYPE_CHECKING:
    from datetime import date, datetime

    from subprocessors.facts import TransferInstruction
    from subprocessors.policy import BasisRule, TransferPolicy


def third_countries(
    destinations: tuple[str, ...], on: date, policy: TransferPolicy
) -> tuple[str, ...]:
    """Return the destinations that were outside the EEA on `on`."""
    return tuple(country for country in destinations if not policy.in_eea(country, on))


@dataclass(frozen=True)
class ThirdCountryNeedsTransferBasis(Rule):
    """Data leaves the EEA only under a Chapter V basis; a processing agreement is none."""

    obligation: ClassVar[str] = "SUB-6"
    subprocessor: str
    third_countries: tuple[str, ...]
    basis: str
    basis_kind: str
    on: date

    def _broken(self) -> bool:
        return bool(self.third_countries) and self.basis_kind in {"eea", "none"}

    def _explain(self) -> str:
        return (
            f"on {self.on} {self.subprocessor} processes in {', '.join(self.third_countries)}, "
            f"outside the EEA, but its basis {self.basis!r} is no Chapter V transfer basis"
        )


@dataclass(frozen=True)
class TransferBasisMustBeInForce(Rule):
    """The basis a record names must hold on the day, for each destination.

    This flags Privacy Shield from 2020-07-16 and Safe Harbour from 2015-10-06. Only
    transfers are judged: a sub-processor whose data stays in the EEA needs no basis, so
    whatever its record names cannot make its processing unlawful.
    """

    obligation: ClassVar[str] = "SUB-6"
    subprocessor: str
    basis: str
    third_countries: tuple[str, ...]
    agreement_date: date | None
    on: date
    policy: TransferPolicy

    @property
    def _rule(self) -> BasisRule:
        return self.policy.basis(self.basis)

    def problems(self) -> list[str]:
        """List every way the basis fails on the day (empty when it holds)."""
        rule = self._rule
        if not self.third_countries or rule.kind in {"eea", "none"}:
            return []  # no basis at all is ThirdCountryNeedsTransferBasis's finding
        if rule.kind == "adequacy":
            gaps = (self._adequacy_gap(country) for country in self.third_countries)
            return [gap for gap in gaps if gap]
        found = []
        if not rule.valid_on(self.on):
            ended = f", invalidated by {rule.invalidated_by}" if rule.invalidated_by else ""
            start = rule.valid_from or "the start"
            found.append(
                f"{rule.title} is not valid on {self.on} "
                f"(valid from {start} until {rule.invalid_from or 'now'}{ended})"
            )
        if rule.contractual and self.agreement_date and self.agreement_date > self.on:
            found.append(f"the agreement was signed only on {self.agreement_date}")
        lapse = rule.superseded
        signed_old = lapse is not None and (
            self.agreement_date is None or self.agreement_date < lapse.signed_before
        )
        if lapse is not None and signed_old and self.on >= lapse.invalid_from:
            signed = self.agreement_date or "an unrecorded date"
            found.append(
                f"the agreement signed on {signed} uses clauses that lapsed on "
                f"{lapse.invalid_from} ({lapse.source})"
            )
        found.extend(
            f"{rule.title} does not cover {country}"
            for country in self.third_countries
            if rule.countries and country not in rule.countries
        )
        return found

    def _adequacy_gap(self, country: str) -> str:
        decision = self.policy.adequacy_on(country, self.on)
        if decision is None:
            return f"no adequacy decision for {country} is in force on {self.on}"
        if decision.only_with_basis:
            scope = decision.scope or decision.only_with_basis
            return (
                f"the adequacy decision for {country} ({decision.decision}) covers only "
                f"{scope}: name basis {decision.only_with_basis!r}"
            )
        return ""

    def _broken(self) -> bool:
        return bool(self.problems())

    def _explain(self) -> str:
        return f"{self.subprocessor}: {'; '.join(self.problems())}"

    def dates(self) -> dict[str, date]:
        """Return the day, the agreement date and the basis's validity window."""
        window = {"valid_from": self._rule.valid_from, "invalid_from": self._rule.invalid_from}
        found = {**super().dates(), **window}
        return {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class ThirdCountryNeedsInstruction(Rule):
    """No transfer to a third country without the controller's documented instruction.

    The instruction must name the same basis (SCC 8.4): consent to a Privacy Shield
    transfer in 2018 is no instruction for a DPF transfer in 2024.
    """

    obligation: ClassVar[str] = "SUB-6"
    subprocessor: str
    controller_id: str
    third_countries: tuple[str, ...]
    basis: str
    instructions: tuple[TransferInstruction, ...]
    at: datetime

    def missing(self) -> tuple[str, ...]:
        """Return the destinations that no instruction given by the day covers."""
        covered = {
            instruction.country
            for instruction in self.instructions
            if instruction.basis == self.basis and instruction.given_at <= self.at
        }
        return tuple(country for country in self.third_countries if country not in covered)

    def _broken(self) -> bool:
        return bool(self.missing())

    def _explain(self) -> str:
        return (
            f"controller {self.controller_id} had given no documented instruction by "
            f"{moment(self.at)} to transfer to {', '.join(self.missing())} under {self.basis!r} "
            f"(needed for {self.subprocessor})"
        )
