# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""What the registry records about a sub-processor, and how it is identified.

Kept apart from the aggregate so the application and the seeding can build and validate
details without touching an event stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid5

from processor.kernel.errors import InvalidInputError
from subprocessors.vocabulary import ACTIVITIES, TRANSFER_BASES

SUBPROCESSOR_NAMESPACE = UUID("6f0c7a52-3b1e-5d55-9a51-2c1f4e0b7d10")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def subprocessor_id(name: str) -> UUID:
    """Derive the id from the name, so that the name identifies the sub-processor.

    Case and spacing are ignored, so "Dropbox Inc." typed twice cannot make two entries.
    """
    return uuid5(SUBPROCESSOR_NAMESPACE, " ".join(name.split()).casefold())


def parse_day(value: date | str, what: str) -> date:
    """Read an ISO date (events store dates as ISO text, which every transcoder keeps)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"{what} must be an ISO date (YYYY-MM-DD), not {value!r}") from None


@dataclass(frozen=True)
class SubProcessorDetails:
    """What SUB-1 requires the list to say about a sub-processor, plus its agreement (SUB-5)."""

    name: str
    address: str
    country: str
    activities: tuple[str, ...]
    basis: str
    registration: str = ""
    data_locations: tuple[str, ...] = ()
    agreement_ref: str = ""
    agreement_date: date | None = None
    beneficiary_clause: bool | None = None

    def validated(self) -> SubProcessorDetails:
        """Return self if every field uses the registry's vocabulary, else refuse the input."""
        countries = (self.country, *self.data_locations)
        problems = [
            "name is empty" if not self.name.strip() else "",
            "address is empty" if not self.address.strip() else "",
            *(f"country {c!r} is not ISO 3166 alpha-2" for c in countries if not _COUNTRY.match(c)),
            "at least one activity is needed" if not self.activities else "",
            *(f"unknown activity {a!r}" for a in self.activities if a not in ACTIVITIES),
            f"unknown transfer basis {self.basis!r}" if self.basis not in TRANSFER_BASES else "",
        ]
        found = [problem for problem in problems if problem]
        if found:
            raise InvalidInputError(f"sub-processor {self.name!r}: {'; '.join(found)}")
        return self

    def as_event_fields(self) -> dict[str, Any]:
        """Flatten to JSON-friendly event attributes (lists and ISO dates)."""
        return {
            "name": self.name,
            "registration": self.registration,
            "address": self.address,
            "country": self.country,
            "data_locations": list(self.data_locations),
            "activities": list(self.activities),
            "basis": self.basis,
            "agreement_ref": self.agreement_ref,
            "agreement_date": self.agreement_date.isoformat() if self.agreement_date else None,
            "beneficiary_clause": self.beneficiary_clause,
        }

    @classmethod
    def from_event_fields(cls, fields: dict[str, Any]) -> SubProcessorDetails:
        """Rebuild details from the attributes `as_event_fields` produced."""
        agreement_date = fields["agreement_date"]
        return cls(
            name=fields["name"],
            address=fields["address"],
            country=fields["country"],
            activities=tuple(fields["activities"]),
            basis=fields["basis"],
            registration=fields["registration"],
            data_locations=tuple(fields["data_locations"]),
            agreement_ref=fields["agreement_ref"],
            agreement_date=date.fromisoformat(agreement_date) if agreement_date else None,
            beneficiary_clause=fields["beneficiary_clause"],
        )
