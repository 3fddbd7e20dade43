"""The register read back: every breach, whom each concerns, and its clocks (BR-1, BR-4).

No authorisation here: the service, `processor status` and the audit report call these inside
commands that authorised already. Nothing is recorded; `now` is always the caller's clock.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from processor.breaches.clocks import Clock, clocks_for
from processor.breaches.domain import REGISTER_ID, Breach, BreachRegister
from processor.domain.controllers import Controller
from processor.domain.ids import controller_id
from processor.kernel.errors import InvalidInputError

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor


def register_of(proc: Processor) -> list[Breach]:
    """Every breach, in the order opened (no authorisation: callers authorise)."""
    register = proc.find(REGISTER_ID)
    if not isinstance(register, BreachRegister):
        return []
    found = [proc.find(uuid.UUID(b)) for b in register.breaches]
    return [b for b in found if isinstance(b, Breach)]


def affected(breach: Breach) -> list[str]:
    """Controllers the breach concerns: in the latest impact, or already notified."""
    found = [c["controller"] for c in (breach.impact or {}).get("controllers", [])]
    found += [n["controller"] for n in breach.notifications]
    return sorted(set(found))


def breach_clocks(proc: Processor, breach: Breach) -> list[Clock]:
    """Every clock of the breach (none once it is found not to be a personal-data breach)."""
    if not breach.is_personal_data_breach:
        return []
    found: list[Clock] = []
    for ref in affected(breach):
        edition = edition_of(proc, breach, ref)
        authority = breach.authority_notices.get(ref)
        found += clocks_for(
            controller=ref,
            edition=edition,
            discovered_at=breach.discovered_at,
            aware_at=breach.aware_at,
            notices=[n["at"] for n in breach.notified(ref)],
            authority_at=authority["at"] if authority else None,
            editions=proc.policies.editions,
        )
    return found


def edition_of(proc: Processor, breach: Breach, ref: str) -> str:
    """The controller's agreement edition as the impact recorded it, else as it stands now."""
    for row in (breach.impact or {}).get("controllers", []):
        if row["controller"] == ref:
            return str(row["edition"])
    found = proc.find(controller_id(ref))
    return found.agreement if isinstance(found, Controller) else "scc"


def overdue_clocks(proc: Processor, now: datetime) -> list[tuple[Breach, Clock]]:
    """Every clock unmet past its due time, across the register (for `status` and alerting)."""
    return [
        (b, c)
        for b in register_of(proc)
        for c in breach_clocks(proc, b)
        if c.state(now) == "overdue"
    ]


def parse_window(text: str | None) -> tuple[datetime | None, datetime | None]:
    """`FROM..TO`, either side may be empty (unknown start, still ongoing)."""
    from processor.services.validation import iso_datetime

    if text is None:
        return None, None
    start, sep, end = text.partition("..")
    if not sep:
        raise InvalidInputError("--occurred takes FROM..TO (either side may be empty)")
    lo = iso_datetime(start, "--occurred start") if start.strip() else None
    hi = iso_datetime(end, "--occurred end") if end.strip() else None
    if lo and hi and hi < lo:
        raise InvalidInputError("--occurred ends before it starts")
    return lo, hi
