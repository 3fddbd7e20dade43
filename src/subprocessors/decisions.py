# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""The registry's two questions: may we process now, and what breaks a rule.

`may_process` answers for one controller, sub-processor and activity; `check` lists every
combination in use that breaks a rule, for the audit report. Both answers come from the
same rule objects over dated facts, so a decision taken live and the same decision
recomputed later "as of" that moment agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from processor.kernel.errors import InvalidInputError
from processor.kernel.rules import Rule, first_broken
from subprocessors import rules, transfer_rules
from subprocessors.facts import day_of, start_of

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import date, datetime
    from uuid import UUID

    from subprocessors.facts import ControllerFacts, SubProcessorFacts
    from subprocessors.policy import EditionList, NoticeRule, TransferPolicy


@dataclass(frozen=True)
class Decision:
    """The answer to "may we?": the first broken rule, or none; with the policy version used."""

    allowed: bool
    rule: str
    reason: str
    obligation: str
    policy_version: str


@dataclass(frozen=True)
class Finding:
    """A combination of controller and sub-processor that breaks a rule on a day.

    `blocking` is false for documentation gaps (agreement, beneficiary clause) that do not
    by themselves stop processing but must be fixed and reported.
    """

    subprocessor: str
    subprocessor_id: UUID
    controller_id: str
    rule: str
    obligation: str
    at: datetime
    dates: Mapping[str, date]
    message: str
    blocking: bool = True


def approved_from(controller: ControllerFacts, sp: SubProcessorFacts) -> datetime | None:
    """Return when `sp` joined the controller's approved list, or None if it never did.

    Three ways in: the edition's list the controller signed (from the later of the list's
    date and the signature), a notice whose period ran out before engagement, or signing
    after the sub-processor was engaged for the controller's edition.
    """
    ways: list[datetime] = []
    if sp.listed_from is not None and controller.edition in sp.editions:
        ways.append(max(sp.listed_from, controller.registered_at))
    if sp.engaged_at is not None:
        notice = sp.notices.get(controller.controller_id)
        if notice is not None:
            ways.append(max(sp.engaged_at, start_of(notice)))
        elif controller.edition in sp.editions and controller.registered_at >= sp.engaged_at:
            ways.append(controller.registered_at)
    return min(ways, default=None)


def _processing_rules(
    controller: ControllerFacts,
    sp: SubProcessorFacts,
    activity: str | None,
    at: datetime,
    policy: TransferPolicy,
) -> list[Rule]:
    """Build the rules for one controller, sub-processor and (optional) activity, in order."""
    on = day_of(at)
    cid = controller.controller_id
    objection = sp.objection_by(controller, at)
    approved = approved_from(controller, sp)
    abroad = transfer_rules.third_countries(sp.destinations, on, policy)
    found: list[Rule] = [
        rules.SubProcessorMustNotBeRetired(sp.name, sp.retired_at, at),
        rules.MustNotBeObjectedTo(sp.name, cid, objection.at if objection else None),
        rules.NoticePeriodMustHaveElapsed(sp.name, cid, sp.notices.get(cid), on),
    ]
    if sp.listed_from is None:
        found.append(rules.SubProcessorMustBeEngaged(sp.name, sp.engaged_at, at))
    found.append(rules.MustBeOnControllersList(sp.name, cid, approved, at))
    if activity is not None:
        found.append(rules.ActivityMustBeApproved(sp.name, activity, sp.activities))
    basis_kind = policy.basis(sp.basis).kind
    instructions = controller.transfer_instructions
    found += [
        transfer_rules.ThirdCountryNeedsTransferBasis(sp.name, abroad, sp.basis, basis_kind, on),
        transfer_rules.TransferBasisMustBeInForce(
            sp.name, sp.basis, abroad, sp.agreement_date, on, policy
        ),
        transfer_rules.ThirdCountryNeedsInstruction(
            sp.name, cid, abroad, sp.basis, instructions, at
        ),
    ]
    return found


def may_process(
    controller: ControllerFacts,
    sp: SubProcessorFacts,
    activity: str,
    at: datetime,
    policy: TransferPolicy,
) -> Decision:
    """Decide whether `sp` may process `controller`'s data for `activity` at `at`.

    The first broken rule decides, in the order: retired, objected to (SUB-3), notice date
    (SUB-2), engaged, on the list (SUB-1), activity (SUB-4), Chapter V (SUB-6).
    """
    rule = first_broken(_processing_rules(controller, sp, activity, at, policy))
    if rule is not None:
        return Decision(
            allowed=False,
            rule=rule.name,
            reason=rule.message,
            obligation=rule.obligation,
            policy_version=policy.version,
        )
    reason = f"{sp.name} may process data of controller {controller.controller_id} for {activity}"
    return Decision(
        allowed=True, rule="", reason=reason, obligation="", policy_version=policy.version
    )


def in_use(controller: ControllerFacts, sp: SubProcessorFacts, at: datetime) -> bool:
    """Tell whether `sp` was processing `controller`'s data at `at` (approved, not blocked)."""
    approved = approved_from(controller, sp)
    retired = sp.retired_at is not None and sp.retired_at <= at
    objected = sp.objection_by(controller, at) is not None
    return approved is not None and approved <= at and not retired and not objected


def check(
    controllers: Iterable[ControllerFacts],
    subprocessors: Iterable[SubProcessorFacts],
    at: datetime,
    policy: TransferPolicy,
    *,
    editions: Mapping[str, EditionList] | None = None,
) -> list[Finding]:
    """Flag every rule broken at `at` by a sub-processor in use for a controller.

    Only combinations in use are judged: a blocked one (objected to, not yet engaged)
    processes nothing and so breaks nothing. With `editions`, the edition's demand for a
    third-party-beneficiary clause is checked too.
    """
    sps = list(subprocessors)
    findings: list[Finding] = []
    for controller in controllers:
        for sp in sps:
            if not in_use(controller, sp, at):
                continue
            judged = _processing_rules(controller, sp, None, at, policy)
            documentation: list[Rule] = [rules.AgreementMustBeRecorded(sp.name, sp.agreement_ref)]
            edition = (editions or {}).get(controller.edition)
            if edition is not None and edition.requires_beneficiary_clause:
                documentation.append(
                    rules.BeneficiaryClauseMustBeIncluded(
                        sp.name, sp.beneficiary_clause, f"edition {edition.edition}"
                    )
                )
            for blocking, group in ((True, judged), (False, documentation)):
                findings.extend(
                    Finding(
                        sp.name,
                        sp.subprocessor_id,
                        controller.controller_id,
                        rule.name,
                        rule.obligation,
                        at,
                        rule.dates(),
                        rule.message,
                        blocking=blocking,
                    )
                    for rule in group
                    if rule.is_broken()
                )
    return findings


def recipients(
    controller: ControllerFacts, subprocessors: Iterable[SubProcessorFacts], at: datetime
) -> list[SubProcessorFacts]:
    """Return the sub-processors that may hold the controller's data at `at` (SUBJ-5).

    Retired ones count if they were approved before they retired: they received data and
    must hear of a rectification, erasure or restriction too (Art. 19).
    """
    found = []
    for sp in subprocessors:
        approved = approved_from(controller, sp)
        objection = sp.objection_by(controller, at)
        if approved is None or approved > at or (objection and objection.at <= approved):
            continue
        if sp.retired_at is not None and sp.retired_at <= approved:
            continue
        found.append(sp)
    return found


def notice_dates(
    controllers: Iterable[ControllerFacts],
    notified_on: date,
    notice_rules: Mapping[str, NoticeRule],
) -> dict[str, str]:
    """Compute each affected controller's notice date under its edition's rule (SUB-2, INSTR-4)."""
    dates = {}
    for controller in controllers:
        rule = notice_rules.get(controller.edition)
        if rule is None:
            raise InvalidInputError(f"no notice rule for edition {controller.edition!r}")
        dates[controller.controller_id] = rule.engage_not_before(notified_on).isoformat()
    return dates
