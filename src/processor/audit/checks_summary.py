"""What the audit report shows of the checks: samples, reviews, contact changes, challenges.

`checks_evidence` is the one call the report makes (ACC-7, SUB-7, SUB-8, AUD-5, AUD-6,
AUD-7). It
reads the ledger-covered events, authorises nobody (the report's command did that) and returns
counts and dates only: never a value of personal data, never a note's text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.audit import contactpersons, inspections, reviews
from processor.audit.challenges import challenges
from processor.audit.samples import entry_deviates, load_samples, next_due
from processor.domain.ids import PROCESSOR_PARTY

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor


def checks_evidence(
    proc: Processor,
    *,
    controller: str | None,
    start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:
    """Samples, reviews, contact-person changes and challenges for a period (and controller).

    With `controller`, sample entries count only when they concern it, and contact changes are
    its own and the processor's. The sample and review clocks are the processor's own, so they
    are the same for every controller.
    """
    every = load_samples(proc)
    in_period = load_samples(proc, start, end)
    entries = drawn = reviewed = deviations = 0
    for sample in in_period:
        mine = [e for e in sample.entries if controller is None or e["controller"] == controller]
        if controller is not None and not mine:
            continue
        drawn += 1
        entries += len(mine)
        reviewed += sum(1 for e in mine if e["entry"] in sample.reviews)
        deviations += sum(1 for e in mine if entry_deviates(sample, e))
    due = next_due(proc, every)
    now = proc.now()
    if controller is None:
        contact_changes = contactpersons.change_count(proc, None, start, end)
    else:
        contact_changes = contactpersons.change_count(
            proc, PROCESSOR_PARTY, start, end
        ) + contactpersons.change_count(proc, controller, start, end)
    return {
        "samples": {
            "drawn": drawn,
            "entries": entries,
            "reviewed": reviewed,
            "unreviewed": entries - reviewed,
            "deviations": deviations,
            "last_drawn": every[-1].created_on.isoformat() if every else None,
            "next_due": due.isoformat(),
            "overdue": now > due,
        },
        "risk_review": _clock(reviews.review_state(proc, reviews.RISK)),
        "policy_review": _clock(reviews.review_state(proc, reviews.POLICY)),
        "contact_changes": contact_changes,
        "challenges": len(challenges(proc, controller, start, end)),
        "inspections": inspections.summary(proc, controller, start, end),
    }


def _clock(state: dict[str, Any]) -> dict[str, Any]:
    return {"last": state["last"], "next_due": state["next_due"], "overdue": state["overdue"]}
