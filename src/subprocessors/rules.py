# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Business rules of the sub-processor registry, as small named objects.

Each rule is named after what it requires, knows the obligation it enforces, and explains
itself with the dates involved. The `Rule` base and `enforce` (which turns a broken rule into
`RefusedError`) are the kernel's (`processor.kernel.rules`). The aggregate checks the command
rules before it records an event; `decisions` checks the processing rules for `may_process`
and `check`. One place, one wording. The Chapter V rules live in `transfer_rules`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

from processor.kernel.rules import Rule


def moment(at: datetime | None) -> str:
    """Write an event time for a message: to the minute, in UTC, as recorded."""
    return at.isoformat(timespec="minutes") if at is not None else "never"


@dataclass(frozen=True)
class SubProcessorMustNotBeRetired(Rule):
    """A retired sub-processor is off every list (SUB-1): no processing, no objections."""

    obligation: ClassVar[str] = "SUB-1"
    subprocessor: str
    retired_at: datetime | None
    at: datetime

    def _broken(self) -> bool:
        return self.retired_at is not None and self.retired_at <= self.at

    def _explain(self) -> str:
        return f"{self.subprocessor} was retired at {moment(self.retired_at)}"


@dataclass(frozen=True)
class MustBeOnControllersList(Rule):
    """Only a sub-processor on the controller's approved list may process its data (SUB-1)."""

    obligation: ClassVar[str] = "SUB-1"
    subprocessor: str
    controller_id: str
    approved_from: datetime | None
    at: datetime

    def _broken(self) -> bool:
        return self.approved_from is None or self.approved_from > self.at

    def _explain(self) -> str:
        since = f" (it is from {moment(self.approved_from)})" if self.approved_from else ""
        return (
            f"{self.subprocessor} is not on the approved list of controller "
            f"{self.controller_id} at {moment(self.at)}{since}"
        )


@dataclass(frozen=True)
class NoticePeriodMustHaveElapsed(Rule):
    """A new sub-processor works for a controller only from its notice date (SUB-2)."""

    obligation: ClassVar[str] = "SUB-2"
    subprocessor: str
    controller_id: str
    engage_not_before: date | None
    on: date

    def _broken(self) -> bool:
        return self.engage_not_before is not None and self.on < self.engage_not_before

    def _explain(self) -> str:
        return (
            f"{self.subprocessor} may not be engaged for controller {self.controller_id} "
            f"before {self.engage_not_before} (today is {self.on})"
        )


@dataclass(frozen=True)
class NoticeMustBeGivenInAdvance(Rule):
    """A notice whose engagement date is not after the proposal gives no notice (SUB-2)."""

    obligation: ClassVar[str] = "SUB-2"
    subprocessor: str
    controller_id: str
    engage_not_before: date
    proposed_on: date

    def _broken(self) -> bool:
        return self.engage_not_before <= self.proposed_on

    def _explain(self) -> str:
        return (
            f"notice to controller {self.controller_id} of {self.subprocessor} on "
            f"{self.proposed_on} must name a later engagement date, not {self.engage_not_before}"
        )


@dataclass(frozen=True)
class EngagementMustBePending(Rule):
    """Only a proposed, not yet engaged sub-processor can be engaged."""

    obligation: ClassVar[str] = "SUB-2"
    subprocessor: str
    engaged_at: datetime | None

    def _broken(self) -> bool:
        return self.engaged_at is not None

    def _explain(self) -> str:
        return f"{self.subprocessor} is engaged since {moment(self.engaged_at)}"


@dataclass(frozen=True)
class SubProcessorMustBeEngaged(Rule):
    """A proposed sub-processor processes nothing until it is engaged (SUB-2)."""

    obligation: ClassVar[str] = "SUB-2"
    subprocessor: str
    engaged_at: datetime | None
    at: datetime

    def _broken(self) -> bool:
        return self.engaged_at is None or self.engaged_at > self.at

    def _explain(self) -> str:
        later = f" (engaged only from {moment(self.engaged_at)})" if self.engaged_at else ""
        return f"{self.subprocessor} was not engaged at {moment(self.at)}{later}"


@dataclass(frozen=True)
class MustNotBeObjectedTo(Rule):
    """An objection blocks the sub-processor for that controller's data, for good (SUB-3)."""

    obligation: ClassVar[str] = "SUB-3"
    subprocessor: str
    controller_id: str
    objected_at: datetime | None

    def _broken(self) -> bool:
        return self.objected_at is not None

    def _explain(self) -> str:
        return (
            f"controller {self.controller_id} objected to {self.subprocessor} "
            f"at {moment(self.objected_at)}"
        )


@dataclass(frozen=True)
class ObjectionMustPrecedeNoticeDate(Rule):
    """A controller may object only while its notice period runs (SUB-3, SCC 7.3)."""

    obligation: ClassVar[str] = "SUB-3"
    subprocessor: str
    controller_id: str
    engage_not_before: date | None
    on: date

    def _broken(self) -> bool:
        return self.engage_not_before is None or self.on >= self.engage_not_before

    def _explain(self) -> str:
        if self.engage_not_before is None:
            return (
                f"controller {self.controller_id} was not notified of {self.subprocessor}: "
                "it is on the list the controller approved when it signed, or not offered to it"
            )
        last_day = self.engage_not_before - timedelta(days=1)
        return (
            f"the notice period of controller {self.controller_id} for {self.subprocessor} "
            f"ended on {self.engage_not_before}; objections were possible until {last_day} "
            f"(today is {self.on})"
        )


@dataclass(frozen=True)
class ObjectionIsRecordedOnce(Rule):
    """A second objection adds nothing and would blur the date the first one counts from."""

    obligation: ClassVar[str] = "SUB-3"
    subprocessor: str
    controller_id: str
    objected_at: datetime | None

    def _broken(self) -> bool:
        return self.objected_at is not None

    def _explain(self) -> str:
        return (
            f"controller {self.controller_id} already objected to {self.subprocessor} "
            f"at {moment(self.objected_at)}"
        )


@dataclass(frozen=True)
class ActivityMustBeApproved(Rule):
    """A sub-processor is used only for the activities it was approved for (SUB-4)."""

    obligation: ClassVar[str] = "SUB-4"
    subprocessor: str
    activity: str
    approved: frozenset[str]

    def _broken(self) -> bool:
        return self.activity not in self.approved

    def _explain(self) -> str:
        approved = ", ".join(sorted(self.approved))
        return f"{self.subprocessor} is approved for {approved}, not for {self.activity}"


@dataclass(frozen=True)
class AgreementMustBeRecorded(Rule):
    """The sub-processor agreement must be on record, to produce it on request (SUB-5).

    Art. 28(4) requires the contract before engagement, so `engage` enforces it; for
    entries seeded from a list it is a documentation finding of `check`.
    """

    obligation: ClassVar[str] = "SUB-5"
    subprocessor: str
    agreement_ref: str

    def _broken(self) -> bool:
        return not self.agreement_ref.strip()

    def _explain(self) -> str:
        return f"no sub-processor agreement with {self.subprocessor} is recorded"


@dataclass(frozen=True)
class AgreementTextMustBeKept(Rule):
    """The agreement's text must be kept, not only its reference, before engagement (SUB-5).

    A reference given at `propose` names the agreement but cannot produce its copy on request;
    `subprocessors agreement` keeps the text's SHA-256, which proves which text a copy is.
    """

    obligation: ClassVar[str] = "SUB-5"
    subprocessor: str
    agreement_ref: str
    agreement_sha256: str

    def _broken(self) -> bool:
        return not self.agreement_sha256

    def _explain(self) -> str:
        ref = self.agreement_ref.strip()
        held = f"only its reference {ref} is on record" if ref else "nothing is on record"
        command = (
            f"subprocessors agreement {shlex.quote(self.subprocessor)} "
            f"--ref {shlex.quote(ref) if ref else 'REF'} --text-file FILE --beneficiary-clause"
        )
        return (
            f"the text of the agreement with {self.subprocessor} is not kept ({held}); "
            f"keep it first: {command}"
        )


@dataclass(frozen=True)
class BeneficiaryClauseMustBeIncluded(Rule):
    """The agreement must name the controller third-party beneficiary (SUB-5, SCC 7.6)."""

    obligation: ClassVar[str] = "SUB-5"
    subprocessor: str
    beneficiary_clause: bool | None
    required_by: str

    def _broken(self) -> bool:
        return self.beneficiary_clause is not True

    def _explain(self) -> str:
        state = "is not known to" if self.beneficiary_clause is None else "does not"
        return (
            f"the agreement with {self.subprocessor} {state} name the controller as "
            f"third-party beneficiary, which {self.required_by} requires"
        )
