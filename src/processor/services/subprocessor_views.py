"""How the registry is shown: one dictionary per sub-processor, notice, finding or supervision.

Kept apart from the use cases so that a change of what a command prints never touches what it
decides. Every function here is pure: the service loads the facts, the policy and the notice
rules, and hands them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from processor.services.subprocessor_fixes import resolution
from subprocessors import approved_from
from subprocessors.facts import day_of
from subprocessors.transfer_rules import third_countries

if TYPE_CHECKING:
    from collections.abc import Mapping
    from uuid import UUID

    from subprocessors import (
        ControllerFacts,
        Finding,
        NoticeRule,
        SubProcessorFacts,
        Supervision,
        TransferPolicy,
    )


def iso(value: date | datetime | None) -> str | None:
    """A date or time as ISO text, None kept as None (JSON has no dates)."""
    return value.isoformat() if value is not None else None


def supervision_view(s: Supervision) -> dict[str, Any]:
    """One documented supervision (SUB-7), with who recorded it and when."""
    return {
        "on": s.on.isoformat(),
        "method": s.method,
        "finding": s.finding,
        "recorded_at": s.recorded_at.isoformat(),
        "recorded_by": s.actor,
    }


OBJECTION_REASON = "objection-reason"
SUPERVISION_FINDING = "supervision-finding"
RETIRE_REASON = "retire-reason"

OpenText = Callable[[str | None, str, str], str]


def opened(entry: dict[str, Any], open_text: OpenText, controller: str | None) -> dict[str, Any]:
    """The entry with its sealed free text opened (`[erased]` once its records key is gone).

    Objection reasons are the objecting controller's records; supervision findings are the
    processor's (RET-3, RET-5). `controller` is the controller whose view this is, if any.
    """
    for s in entry.get("supervisions", ()):
        s["finding"] = open_text(None, SUPERVISION_FINDING, s["finding"])
    for o in entry.get("objections", ()):
        o["reason"] = open_text(o["controller"], OBJECTION_REASON, o["reason"])
    if entry.get("objection") and controller is not None:
        objection = entry["objection"]
        objection["reason"] = open_text(controller, OBJECTION_REASON, objection["reason"])
    return entry


def finding_view(f: Finding, policy_version: str) -> dict[str, Any]:
    """One finding of `check`, as printed: who, which rule, which dates, why."""
    return {
        "subprocessor": f.subprocessor,
        "subprocessor_id": str(f.subprocessor_id),
        "controller": f.controller_id,
        "rule": f.rule,
        "obligation": f.obligation,
        "blocking": f.blocking,
        "at": f.at.isoformat(),
        "dates": {key: value.isoformat() for key, value in sorted(f.dates.items())},
        "message": f.message,
        "resolve": resolution(f.rule, f.subprocessor, f.controller_id),
        "policy_version": policy_version,
    }


def period_text(rule: NoticeRule) -> str:
    """Say how long a notice period is and whether the agreement or the processor fixed it."""
    if rule.fixed_by_agreement:
        return f"{rule.days} days, fixed by the agreement ({rule.reference})"
    return (
        f"{rule.days} days, the processor's policy: the agreement says only "
        f'"in advance" ({rule.reference})'
    )


def agreement_view(sp: SubProcessorFacts) -> dict[str, Any]:
    """The recorded sub-processor agreement (SUB-5); None where nothing is recorded yet."""
    return {
        "ref": sp.agreement_ref or None,
        "date": iso(sp.agreement_date),
        "beneficiary_clause": sp.beneficiary_clause,
    }


def agreement_copy_view(sp: SubProcessorFacts) -> dict[str, Any]:
    """The agreement as kept for a copy on request (SUB-5, SUB-9): its text's hash, amendments."""
    return {
        **agreement_view(sp),
        "text_sha256": sp.agreement_sha256 or None,
        "amendments": [
            {
                "ref": a.ref,
                "signed_on": a.signed_on.isoformat(),
                "text_sha256": a.text_sha256,
                "recorded_at": a.recorded_at.isoformat(),
            }
            for a in sp.amendments
        ],
    }


def entry_view(
    sp: SubProcessorFacts, names: Mapping[UUID, str], policy: TransferPolicy
) -> dict[str, Any]:
    """What staff and controllers alike see of a sub-processor; `names` resolves `replaces`."""
    return {
        "name": sp.name,
        "id": str(sp.subprocessor_id),
        "registration": sp.registration,
        "address": sp.address,
        "country": sp.country,
        "data_locations": list(sp.data_locations),
        "activities": sorted(sp.activities),
        "basis": sp.basis,
        "basis_title": policy.basis(sp.basis).title,
        "agreement": agreement_view(sp),
        "editions": sorted(sp.editions),
        "listed_from": iso(sp.listed_from),
        "proposed_at": iso(sp.proposed_at),
        "replaces": names.get(sp.replaces) if sp.replaces is not None else None,
        "engaged_at": iso(sp.engaged_at),
        "retired_at": iso(sp.retired_at),
        "supervisions": [supervision_view(s) for s in sp.supervisions],
    }


def staff_entry(
    sp: SubProcessorFacts, names: Mapping[UUID, str], policy: TransferPolicy
) -> dict[str, Any]:
    """The staff view: every controller's notice date and every objection, across controllers."""
    entry = entry_view(sp, names, policy)
    entry["notices"] = {c: d.isoformat() for c, d in sorted(sp.notices.items())}
    entry["objections"] = [
        {
            "controller": o.controller_id,
            "at": o.at.isoformat(),
            "reason": o.reason,
            "by": o.actor,
        }
        for o in sorted(sp.objections.values(), key=lambda o: o.at)
    ]
    return entry


def concerns(sp: SubProcessorFacts, controller: ControllerFacts, at: datetime) -> bool:
    """Whether a controller's own list shows the sub-processor: approved, noticed or objected."""
    return (
        approved_from(controller, sp) is not None
        or controller.controller_id in sp.notices
        or sp.objection_by(controller, at) is not None
    )


def notice_view(
    sp: SubProcessorFacts, controller: ControllerFacts, rules: Mapping[str, NoticeRule]
) -> dict[str, Any]:
    """The written notice a controller was given (SUB-2), with the period its edition sets."""
    notice = sp.notices[controller.controller_id]
    rule = rules.get(controller.edition)
    notified = day_of(sp.proposed_at) if sp.proposed_at is not None else None
    return {
        "controller": controller.controller_id,
        "edition": controller.edition,
        "notified_on": iso(notified),
        "engage_not_before": notice.isoformat(),
        "objections_until": (notice - timedelta(days=1)).isoformat(),
        "notice_days": rule.days if rule else None,
        "fixed_by_agreement": rule.fixed_by_agreement if rule else None,
        "period": period_text(rule) if rule else None,
    }


def controller_entry(
    sp: SubProcessorFacts,
    controller: ControllerFacts,
    at: datetime,
    names: Mapping[UUID, str],
    policy: TransferPolicy,
    rules: Mapping[str, NoticeRule],
) -> dict[str, Any]:
    """One controller's view of a sub-processor at `at`: its status for that controller only."""
    cid = controller.controller_id
    approved = approved_from(controller, sp)
    objection = sp.objection_by(controller, at)
    notice = sp.notices.get(cid)
    if sp.retired_at is not None and sp.retired_at <= at:
        status = "retired"
    elif objection is not None:
        status = "objected"
    elif approved is not None and approved <= at:
        status = "approved"
    elif notice is not None and day_of(at) < notice:
        status = "notice-period"
    elif notice is not None:
        status = "awaiting-engagement"
    else:
        status = "not-yet-approved"
    entry = entry_view(sp, names, policy)
    abroad = third_countries(sp.destinations, day_of(at), policy)
    entry.update(
        {
            "status": status,
            "approved_from": iso(approved),
            "notice": notice_view(sp, controller, rules) if notice is not None else None,
            "objection": (
                {
                    "at": objection.at.isoformat(),
                    "reason": objection.reason,
                    "by": objection.actor,
                }
                if objection is not None
                else None
            ),
            "third_countries": list(abroad),
            "transfer_instructed": all(
                any(
                    i.country == country and i.basis == sp.basis and i.given_at <= at
                    for i in controller.transfer_instructions
                )
                for country in abroad
            ),
        }
    )
    return entry
