"""What the audit report asks of the breach register: evidence and the timeline picture.

Both read the register's aggregates and the store's clock; neither authorises (the report's own
command does) nor records anything. Everything returned is JSON-serialisable and holds no
personal data: counts, categories, times, controller ids.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from processor.breaches import timeline
from processor.breaches.clocks import policy_clocks
from processor.breaches.domain import Breach
from processor.breaches.register import affected, breach_clocks, register_of
from processor.kernel.errors import NotFoundError

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor


def breach_evidence(
    proc: Processor, *, controller: str | None, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """The register's evidence (BR-1 to BR-5), scoped to a controller, filtered on awareness."""
    now = proc.now()
    rows: list[dict[str, Any]] = []
    overdue: list[dict[str, Any]] = []
    for breach in register_of(proc):
        concerned = affected(breach)
        if controller is not None and controller not in concerned:
            continue
        if (start and breach.aware_at < start) or (end and breach.aware_at > end):
            continue
        clocks = [c for c in breach_clocks(proc, breach) if controller in (None, c.controller)]
        deadlines = [
            {
                "controller": c.controller,
                "clock": c.clock,
                "started_at": c.started_at.isoformat(),
                "due": c.due.isoformat(),
                "met_at": c.met_at.isoformat() if c.met_at else None,
                "state": c.state(now),
            }
            for c in clocks
        ]
        overdue += [
            {
                "breach": str(breach.id),
                **{k: d[k] for k in ("controller", "clock", "due", "met_at")},
            }
            for d in deadlines
            if d["state"] in ("overdue", "late")
        ]
        rows.append(
            {
                "id": str(breach.id),
                "reference": f"BR-{breach.number:04d}",
                "opened_at": breach.created_on.isoformat(),
                "aware_at": breach.aware_at.isoformat(),
                "status": breach.status,
                "phase": breach.phase,
                "kinds": list(breach.kinds),
                "controllers": [c for c in concerned if controller in (None, c)],
                "deadlines": deadlines,
                "measures": len(breach.measures),
                "key_rotations": len(breach.key_rotations),
                "reviewed": breach.closed_at is not None,
            }
        )
    notices = sum(
        1
        for breach in register_of(proc)
        if any(r["id"] == str(breach.id) for r in rows)
        for n in breach.notifications
        if controller in (None, n["controller"])
    )
    return {
        "recorded": len(rows),
        "by_status": dict(Counter(r["status"] for r in rows)),
        "not_a_breach": sum(1 for r in rows if r["status"] == "not-a-breach"),
        "notices_given": notices,
        "overdue_clocks": overdue,
        "breaches": rows,
        "policy_clocks": policy_clocks(proc.policies.editions),
    }


def timeline_svg(proc: Processor, breach_id: str, controller: str | None = None) -> str:
    """The breach's timeline as a self-contained `<svg>` (marks and deadline lines).

    With `controller`, only that controller's steps and clocks (its own report, ACC-9).
    """
    try:
        found = proc.find(uuid.UUID(breach_id))
    except ValueError:
        found = None
    if not isinstance(found, Breach):
        raise NotFoundError(f"unknown breach {breach_id[:40]!r}")
    clocks = [c for c in breach_clocks(proc, found) if controller in (None, c.controller)]
    return timeline.as_svg(found, clocks, proc.now(), controller)
