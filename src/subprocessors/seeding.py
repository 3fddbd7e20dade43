# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Turning an edition's list into registry entries (SUB-1).

Kept apart from the domain so the aggregate never depends on the policy file format: the
file's row becomes plain `SubProcessorDetails`, and the aggregate validates it again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processor.kernel.errors import InvalidInputError
from subprocessors.details import SubProcessorDetails
from subprocessors.domain import SubProcessor
from subprocessors.facts import TransferInstruction, day_of

if TYPE_CHECKING:
    from datetime import date, datetime

    from subprocessors.policy import EditionList, SubProcessorEntry, TransferPolicy


def details_from_entry(entry: SubProcessorEntry) -> SubProcessorDetails:
    """Return the registry's view of one list row."""
    return SubProcessorDetails(
        name=entry.name,
        address=entry.address,
        country=entry.country,
        activities=tuple(entry.activities),
        basis=entry.basis,
        registration=entry.registration,
        data_locations=tuple(entry.data_locations),
        agreement_ref=entry.agreement_ref,
        agreement_date=entry.agreement_date,
        beneficiary_clause=entry.beneficiary_clause,
    )


def add_edition_list(
    edition: EditionList, *, actor: str, listed_from: date | None = None
) -> list[SubProcessor]:
    """Create one `SubProcessorAdded` aggregate per row of an edition's list.

    The list applies from the date the edition gives; an edition without one (the SCC
    edition applies from each controller's signature) needs `listed_from` from the caller,
    because guessing it would backdate or postdate every approval.
    """
    start = listed_from or edition.list_in_force_from
    if start is None:
        raise InvalidInputError(
            f"edition {edition.edition} gives no date for its list: pass listed_from"
        )
    return [
        SubProcessor.add(
            details_from_entry(entry), editions=[edition.edition], listed_from=start, actor=actor
        )
        for entry in edition.subprocessors
    ]


def signature_instructions(
    edition: EditionList, signed_at: datetime, policy: TransferPolicy
) -> tuple[TransferInstruction, ...]:
    """Return the transfer instructions a controller gave by signing an edition's list.

    A signed list that names a sub-processor outside the EEA, with its basis, is the
    controller's written word for that transfer (SCC C.6: an instruction "within these
    Clauses"; DPA18 §4: "skriftlige samtykke"). Whether the basis still holds is judged
    separately, so signing in 2018 for Privacy Shield never makes it valid in 2026.
    """
    day = day_of(signed_at)
    pairs = {
        (country, entry.basis, entry.name)
        for entry in edition.subprocessors
        for country in (entry.country, *entry.data_locations)
        if not policy.in_eea(country, day)
    }
    return tuple(
        TransferInstruction(
            country=country,
            basis=basis,
            given_at=signed_at,
            text=f"{edition.title}: approved list entry {name}",
        )
        for country, basis, name in sorted(pairs)
    )
