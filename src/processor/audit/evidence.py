"""Live evidence for an audit period, counted from the events themselves (AUD-1).

The report's numbers must be ones an auditor can trust, so they come from the ledger-covered
event store, not from the read models (which are caches for display and can be edited by
whoever holds the database). One pass over the log, in order, counts every event by its name
within the period, by ISO week and by month, and remembers which controller each aggregate
belongs to, so that a controller's report counts only events about that controller.

Only names, counts and times are read: no sealed value is opened, so no personal data can
reach the report from here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from processor.app import Processor

_PAGE = 2000

# Registry events that concern every controller the registry serves: a controller's report
# shows them too, since its data may go to any sub-processor on its edition's list.
_REGISTRY_WIDE = frozenset(
    {
        "SubProcessorAdded",
        "SubProcessorEngaged",
        "SubProcessorRetired",
        "SubProcessorAgreementRecorded",
        "SubProcessorSupervised",
    }
)


def week_of(day: date) -> date:
    """The Monday that starts the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def month_of(day: date) -> str:
    """`YYYY-MM` of `day`."""
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class EventFacts:
    """What the events of one period say, as counts (never values)."""

    start: datetime
    end: datetime
    controller: str | None
    counts: Counter[str] = field(default_factory=Counter)
    weekly: defaultdict[str, Counter[date]] = field(default_factory=lambda: defaultdict(Counter))
    monthly: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    # Quantities an event carries (contacts swept per batch), summed per month and in total.
    sums: Counter[str] = field(default_factory=Counter)
    sums_monthly: defaultdict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    refusal_rules: Counter[str] = field(default_factory=Counter)
    controllers: dict[str, str] = field(default_factory=dict)  # ref -> agreement edition
    events_in_store: int = 0
    events_in_scope: int = 0

    def count(self, *names: str) -> int:
        """The number of events of these names in the period."""
        return sum(self.counts[n] for n in names)

    def weeks(self) -> list[date]:
        """Every week start from the period's first week to its last."""
        first, last = week_of(self.start.date()), week_of(self.end.date())
        return [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]

    def months(self) -> list[str]:
        """Every month of the period, as `YYYY-MM`."""
        year, month = self.start.year, self.start.month
        found: list[str] = []
        while (year, month) <= (self.end.year, self.end.month):
            found.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)  # noqa: PLR2004 - December
        return found

    def weekly_series(self, *names: str) -> list[int]:
        """Per week of the period, the events of these names."""
        return [sum(self.weekly[n][w] for n in names) for w in self.weeks()]

    def monthly_series(self, *names: str) -> list[int]:
        """Per month of the period, the events of these names."""
        return [sum(self.monthly[n][m] for n in names) for m in self.months()]

    def monthly_sum(self, quantity: str) -> list[int]:
        """Per month of the period, the summed quantity."""
        return [self.sums_monthly[quantity][m] for m in self.months()]


def _notifications(proc: Processor) -> Iterator[Any]:
    """Every stored event in log order, decoded, a page at a time (memory stays flat)."""
    start = 1
    while True:
        notes = proc.store.recorder.select_notifications(start=start, limit=_PAGE)
        if not notes:
            return
        for note in notes:
            yield proc.store.mapper.to_domain_event(note)
        start = notes[-1].id + 1


class _Owners:
    """Which controller each aggregate belongs to, learnt from creation events in log order."""

    def __init__(self) -> None:
        self.of: dict[UUID, str | None] = {}

    def controller_of(self, e: Any, name: str) -> str | None:  # noqa: ANN401 - any event
        direct = getattr(e, "controller", None)
        if direct is None:
            direct = getattr(e, "controller_id", None)
        if name == "ControllerRegistered":
            direct = e.ref
        if e.originator_version == 1 or name in {"ControllerRegistered", "RecipientOutboxOpened"}:
            self.of.setdefault(e.originator_id, direct if isinstance(direct, str) else None)
        if isinstance(direct, str):
            return direct
        return self.of.get(e.originator_id)


def _concerns(e: Any, name: str, owner: str | None, ref: str) -> bool:  # noqa: ANN401
    """Whether an event belongs in controller `ref`'s report."""
    if owner == ref:
        return True
    if name == "SubProcessorProposed":
        return ref in e.notices
    return name in _REGISTRY_WIDE


def collect(
    proc: Processor,
    *,
    start: datetime,
    end: datetime,
    controller: str | None = None,
    also: frozenset[UUID] = frozenset(),
) -> EventFacts:
    """Count the events of [start, end), for one controller or the whole processor.

    `also` names aggregates that concern the controller without naming it on every event (a
    breach that affects several controllers): their events count in its report too.
    """
    facts = EventFacts(start=start, end=end, controller=controller)
    owners = _Owners()
    for e in _notifications(proc):
        facts.events_in_store += 1
        name = type(e).__name__
        owner = controller if e.originator_id in also else owners.controller_of(e, name)
        if name == "ControllerRegistered" and (controller is None or e.ref == controller):
            facts.controllers[e.ref] = e.agreement
        if controller is not None and not _concerns(e, name, owner, controller):
            continue
        at: datetime = e.timestamp
        if not start <= at < end:
            continue
        facts.events_in_scope += 1
        facts.counts[name] += 1
        day = at.date()
        facts.weekly[name][week_of(day)] += 1
        facts.monthly[name][month_of(day)] += 1
        if name == "SweepBatchCompleted":
            facts.sums["swept_contacts"] += e.contacts
            facts.sums_monthly["swept_contacts"][month_of(day)] += e.contacts
            facts.sums["swept_messages"] += e.messages
        elif name == "AccessDenied":
            facts.refusal_rules[e.rule] += 1
    return facts


# -- the checks and the breach register, from the modules that own them -------------------------

CHECKS_MODULE = "processor.audit.checks_summary"
BREACHES_MODULE = "processor.breaches.report"


def _module(name: str) -> Any | None:  # noqa: ANN401 - a module
    """The named module, or None when this build does not have it (never another error)."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def checks(
    proc: Processor, controller: str | None, start: datetime, end: datetime
) -> dict[str, Any]:
    """Samples, reviews, contact changes and challenges (`checks_summary.checks_evidence`)."""
    source = _module(CHECKS_MODULE)
    if source is None:
        return {"available": False, "note": f"{CHECKS_MODULE} is not part of this build"}
    found: dict[str, Any] = source.checks_evidence(
        proc, controller=controller, start=start, end=end
    )
    return {"available": True, **found}


def policy_clocks(proc: Processor, editions_in_scope: dict[str, str]) -> list[dict[str, Any]]:
    """The breach-notice clocks the policies set, per edition in scope, and the authority's."""
    editions = proc.policies.editions.editions
    used = sorted(set(editions_in_scope.values())) or sorted(editions)
    clocks: list[dict[str, Any]] = [
        {
            "clock": f"processor to controller ({edition})",
            "hours": editions[edition].breach_notice_hours,  # type: ignore[index]
            "fixed_by_agreement": editions[edition].breach_notice_fixed_by_agreement,  # type: ignore[index]
            "source": editions[edition].breach_notice.source,  # type: ignore[index]
        }
        for edition in used
    ]
    clocks.append(
        {
            "clock": "controller to supervisory authority",
            "hours": 72,
            "fixed_by_agreement": True,
            "source": "GDPR Art. 33(1)",
        }
    )
    return clocks


def breach_ids(proc: Processor, controller: str) -> frozenset[UUID]:
    """The breaches that affect `controller`, from the register (none without one)."""
    from uuid import UUID

    source = _module(BREACHES_MODULE)
    if source is None:
        return frozenset()
    found = source.breach_evidence(proc, controller=controller, start=None, end=None)
    return frozenset(UUID(str(b["id"])) for b in found.get("breaches", []))


def breaches(
    proc: Processor,
    controller: str | None,
    start: datetime,
    end: datetime,
    editions_in_scope: dict[str, str],
) -> dict[str, Any]:
    """The breach register's evidence and each breach's timeline (`breaches.report`)."""
    clocks = policy_clocks(proc, editions_in_scope)
    source = _module(BREACHES_MODULE)
    if source is None:
        return {
            "available": False,
            "note": "no breaches recorded: the breach register is not part of this build",
            "clocks": clocks,
            "recorded": 0,
            "overdue_clocks": [],
            "breaches": [],
            "timelines": {},
        }
    found: dict[str, Any] = source.breach_evidence(
        proc, controller=controller, start=start, end=end
    )
    timelines = {
        str(b["id"]): str(source.timeline_svg(proc, str(b["id"]), controller))
        for b in found.get("breaches", [])
    }
    return {"available": True, "clocks": clocks, **found, "timelines": timelines}
