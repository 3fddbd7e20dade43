"""A breach's notification clocks, from recorded times and the injected clock only (BR-1, BR-3).

Two clocks run per affected controller:

- **processor-to-controller** (BR-1): for the hours the controller's agreement edition gives
  (`policies/editions.toml`, `breach_notice`), from the moment that edition names (`starts`).
  The SCC (10.2) fix 24 h from when the breach *was discovered*: a later stated awareness does
  not move the clock (a discovery not recorded counts as made at awareness, the earliest time
  known). The 2018 DPA (§10) counts from the processor's awareness and says only "without undue
  delay", so the hours there are the processor's own policy choice, and every view says so
  (`fixed_by_agreement = false`).
- **controller-to-authority** (BR-3): 72 h (Art. 33(1), fixed by law, not by any agreement) from
  the time the processor's first notice says the controller became aware, i.e. when it was given.

A clock is *met* by the first notice (or recorded authority notification) at or before its due
time, *late* when met after it, *overdue* when unmet and `now` is past it, else *running*. `now`
is always passed in (the store's clock), never read from the wall.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from processor.policies import EditionsPolicy

PROCESSOR_TO_CONTROLLER: Final = "processor-to-controller"
CONTROLLER_TO_AUTHORITY: Final = "controller-to-authority"
AUTHORITY_HOURS: Final = 72  # GDPR Art. 33(1): fixed by law for every edition


@dataclass(frozen=True)
class Clock:
    """One deadline for one controller, and whether and when it was met."""

    controller: str
    clock: str
    started_at: datetime
    due: datetime
    met_at: datetime | None
    basis: str

    def state(self, now: datetime) -> str:
        """`met`, `late`, `overdue` or `running` at `now`."""
        if self.met_at is not None:
            return "met" if self.met_at <= self.due else "late"
        return "overdue" if now > self.due else "running"

    def view(self, now: datetime) -> dict[str, Any]:
        """The clock as shown (ISO times)."""
        return {
            "controller": self.controller,
            "clock": self.clock,
            "started_at": self.started_at.isoformat(),
            "due": self.due.isoformat(),
            "met_at": self.met_at.isoformat() if self.met_at else None,
            "state": self.state(now),
            "basis": self.basis,
        }


def processor_hours(editions: EditionsPolicy, edition: str) -> tuple[int, str]:
    """The hours the processor gives itself under `edition`, and where they come from."""
    term = editions.editions[edition].breach_notice  # type: ignore[index]
    hours = term.value if term.value is not None else 24
    if term.fixed_by_agreement:
        basis = f"{hours} h fixed by the agreement ({term.source}: {term.wording})"
    else:
        basis = (
            f"{hours} h: the processor's own policy choice; the agreement says only "
            f"{term.wording} ({term.source})"
        )
    return hours, f"{basis}, counted from the {term.starts}"


def processor_start(
    editions: EditionsPolicy, edition: str, *, discovered_at: datetime | None, aware_at: datetime
) -> datetime:
    """When the processor-to-controller clock starts under `edition` (BR-1).

    The discovery (SCC 10.2) or the awareness (DPA18 §10). An unrecorded discovery counts as
    made at awareness, and a discovery is never later than the awareness (the register refuses
    that).
    """
    term = editions.editions[edition].breach_notice  # type: ignore[index]
    if term.starts == "discovery" and discovered_at is not None:
        return min(discovered_at, aware_at)
    return aware_at


def policy_clocks(editions: EditionsPolicy) -> dict[str, str]:
    """Each edition's processor-to-controller clock, described for an auditor."""
    return {name: processor_hours(editions, name)[1] for name in editions.editions}


def clocks_for(
    *,
    controller: str,
    edition: str,
    discovered_at: datetime | None,
    aware_at: datetime,
    notices: list[datetime],
    authority_at: datetime | None,
    editions: EditionsPolicy,
) -> list[Clock]:
    """The controller's two clocks: to the controller, and (once notified) to the authority."""
    hours, basis = processor_hours(editions, edition)
    start = processor_start(editions, edition, discovered_at=discovered_at, aware_at=aware_at)
    first = min(notices) if notices else None
    found = [
        Clock(
            controller=controller,
            clock=PROCESSOR_TO_CONTROLLER,
            started_at=start,
            due=start + timedelta(hours=hours),
            met_at=first,
            basis=basis,
        )
    ]
    if first is not None:
        found.append(
            Clock(
                controller=controller,
                clock=CONTROLLER_TO_AUTHORITY,
                started_at=first,
                due=first + timedelta(hours=AUTHORITY_HOURS),
                met_at=authority_at,
                basis=f"{AUTHORITY_HOURS} h from the controller's awareness (GDPR Art. 33(1))",
            )
        )
    return found
