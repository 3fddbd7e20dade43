"""The GDPA's audit report, assembled as one plain model the three renderers share (AUD-1).

`build_report` authorises the caller (`audit.read`; a controller's administrator only for its
own controller), counts the period's events (`evidence.collect`), verifies the ledger, asks the
sub-processor rules, the checks and the breach register for their state, and returns a dict of
names, counts, dates and rule names. No sealed value is opened on the way, so nothing in the
model can be a data subject's personal data; the renderers only format it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from processor.audit import deviations, evidence, userchanges
from processor.audit.coverage import index_tests
from processor.audit.evidence import EventFacts, collect
from processor.audit.mechanisms import MECHANISMS
from processor.audit.objectives import OBJECTIVES
from processor.kernel.errors import InvalidInputError
from processor.services.lookup import find_controller
from processor.services.security_policy import appointment
from processor.services.staff import StaffService
from processor.services.subprocessors import SubprocessorsService
from processor.verifications import record_check
from processor.versions import versions

if TYPE_CHECKING:
    from pathlib import Path

    from processor.app import Processor
    from processor.session import Session

COMMAND = "audit report"
# Findings over time are judged at month ends; a long period shows its latest months only.
MAX_FINDING_POINTS = 24


def _period(proc: Processor, start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """[start, end) as times: whole days in UTC; by default from the store's start until now."""
    first = proc.store_info().created_on
    begin = datetime.combine(start, time(), UTC) if start else first
    finish = (
        datetime.combine(end + timedelta(days=1), time(), UTC)
        if end
        else (proc.now() + timedelta(seconds=1)).replace(microsecond=0)
    )
    if finish <= begin:
        raise InvalidInputError("--from must be on or before --to")
    return begin, finish


def _authorise(session: Session, controller: str | None) -> None:
    """`audit.read`; a controller's users only ever for their own controller (ACC-9)."""
    user = session.authorize("audit.read", command=COMMAND, controller=controller)
    if user.controller is not None and controller is None:
        session.deny(
            COMMAND,
            None,
            "ControllerUsersSeeOnlyTheirOwn",
            "a controller's administrator runs the report for its own controller: "
            f"give --controller {user.controller}",
        )
    if controller is not None:
        find_controller(session.proc, controller)  # unknown id: exit 2


def _system(session: Session, facts: EventFacts) -> dict[str, Any]:
    proc = session.proc
    store = proc.store_info()
    profile = proc.policies.profiles.profiles[store.profile]
    editions = proc.policies.editions.editions
    backend = proc.settings.backend
    return {
        "processor": store.processor_name,
        "simulation": bool(store.simulation),
        "profile": store.profile,
        "staff_access": profile.staff_access,
        "staff_review_period_days": profile.review_period_days,
        "lockout_after_refusals": profile.lockout_attempts,
        "backend": backend,
        "key_store": "a separate database file"
        if backend == "sqlite"
        else "a separate PostgreSQL schema",
        "store_started": store.created_on.isoformat(),
        "events_in_store": facts.events_in_store,
        "controllers": [
            {
                "controller": ref,
                "edition": edition,
                "breach_notice_hours": editions[edition].breach_notice_hours,  # type: ignore[index]
                "deletion_after_termination_days": editions[
                    edition  # type: ignore[index]
                ].deletion_after_termination_days,
            }
            for ref, edition in sorted(facts.controllers.items())
        ],
        "description": (
            "An event-sourced core for a data processor under Art. 28 GDPR. Every change, "
            "access and refusal is an immutable event, recorded with its actor, channel and "
            "time, and a leaf of a signed, append-only Merkle ledger. Personal data is sealed "
            "per data subject; erasure destroys the subject's key. Support staff see "
            "pseudonyms and reveal identifying data only through an approved, time-limited, "
            "logged grant. Policies (agreement editions, retention, roles, transfers) are "
            "versioned data, and every decision records the versions it used."
        ),
    }


def _ledger(proc: Processor) -> dict[str, Any]:
    head = proc.ledger.head()
    checked = proc.ledger.verify()
    record_check(proc, checked)  # `processor status` shows the report's verification too
    return {
        "head": {
            "origin": head["origin"],
            "size": head["size"],
            "root": head["root"],
            "signed_at": head["signed_at"],
            "checkpoint": head["checkpoint"],
        },
        "verification": {
            "ok": checked.ok,
            "records_checked": checked.records_checked,
            "checkpoints_checked": checked.checkpoints_checked,
            "first_bad_position": checked.first_bad_position,
            "reason": checked.reason,
        },
    }


def _findings(session: Session, controller: str | None, facts: EventFacts) -> dict[str, Any]:
    """`subprocessors check` now, grouped by rule; and the number found at each month end."""
    registry = SubprocessorsService(session)
    now_findings = registry.check(controller)["findings"]
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for f in now_findings:
        group = groups.setdefault(
            (f["rule"], f["obligation"]),
            {"rule": f["rule"], "obligation": f["obligation"], "count": 0, "blocking": 0,
             "resolve": []},
        )  # fmt: skip
        group["count"] += 1
        group["blocking"] += int(bool(f["blocking"]))
        if f["resolve"] not in group["resolve"]:
            group["resolve"].append(f["resolve"])
    now = session.proc.now()
    months = facts.months()[-MAX_FINDING_POINTS:]
    over_time = []
    for month in months:
        year, number = (int(part) for part in month.split("-"))
        following = date(year + number // 12, number % 12 + 1, 1)
        at = min(datetime.combine(following, time(), UTC) - timedelta(microseconds=1), now)
        found = registry.check(controller, at)["findings"]
        over_time.append({"month": month, "findings": len(found)})
    return {
        "total": len(now_findings),
        "blocking": sum(g["blocking"] for g in groups.values()),
        "by_rule": sorted(groups.values(), key=lambda g: (g["obligation"], g["rule"])),
        "over_time": over_time,
    }


def _staff(session: Session) -> dict[str, int]:
    states = StaffService(session).review_states()
    return {
        "staff": len(states),
        "overdue_for_review": sum(1 for s in states if s["overdue_for_review"]),
    }


def _user_changes(
    proc: Processor, controller: str | None, begin: datetime, finish: datetime
) -> dict[str, int]:
    """Staff changes to controllers' users in the period, and how many await review (ACC-13)."""

    def mine(found: list[dict[str, Any]]) -> int:
        return sum(1 for c in found if controller is None or c["controller"] == controller)

    return {
        "changes": mine(userchanges.staff_user_changes(proc, begin, finish)),
        "unreviewed": mine(userchanges.unreviewed(proc, begin, finish)),
    }


def _coverage(facts: EventFacts, tests_dir: Path | None) -> dict[str, Any]:
    index = index_tests(tests_dir)
    rows = [
        {
            "id": m.id,
            "duty": m.duty,
            "mechanism": m.mechanism,
            "where": m.where,
            "mechanism_present": m.present(),
            "tests": index.tests_of(m.id),
            "evidence": facts.count(*m.events) if m.events else None,
            "evidence_events": list(m.events),
        }
        for m in MECHANISMS
    ]
    return {"tests_found": index.found, "ids": rows}


MAX_CLOCK_ROWS = 10
MAX_WEEKS = 104


def _clock_rows(breaches: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Each breach clock as hours from its start: its deadline and the time taken (so far).

    The start is the clock's own (under the SCC the discovery, BR-1), not the awareness.
    """
    rows: list[dict[str, Any]] = []
    for b in breaches.get("breaches", []):
        for d in b.get("deadlines", []):
            aware = datetime.fromisoformat(d.get("started_at") or b["aware_at"])
            met = datetime.fromisoformat(d["met_at"]) if d.get("met_at") else now
            short = "to authority" if "authority" in d["clock"] else "to controller"
            rows.append(
                {
                    "label": f"{b['reference']} {d['controller']} {short}",
                    "deadline_hours": round(
                        (datetime.fromisoformat(d["due"]) - aware) / timedelta(hours=1), 1
                    ),
                    "taken_hours": round((met - aware) / timedelta(hours=1), 1),
                    "state": d.get("state"),
                }
            )
    if rows:
        return rows[-MAX_CLOCK_ROWS:]
    return [
        {"label": c["clock"], "deadline_hours": c["hours"], "taken_hours": None, "state": "policy"}
        for c in breaches["clocks"]
        if c["hours"] is not None
    ]


def _charts(
    facts: EventFacts, findings: dict[str, Any], breaches: dict[str, Any], now: datetime
) -> list[dict[str, Any]]:
    # Weekly bars for up to two years; a longer period is drawn per month so bars stay readable.
    if len(facts.weeks()) <= MAX_WEEKS:
        unit, weeks, per = "week", [w.strftime("%m-%d") for w in facts.weeks()], facts.weekly_series
    else:
        unit, weeks, per = "month", facts.months(), facts.monthly_series
    months = facts.months()
    changes = (
        "SubProcessorAdded",
        "SubProcessorProposed",
        "SubProcessorEngaged",
        "SubProcessorRetired",
    )
    found_by_month = {p["month"]: p["findings"] for p in findings["over_time"]}
    # Grants and reveals are drawn twice (among all access events, and against each other).
    grants = {"name": "grants approved", "values": per("AccessApproved")}
    reveals = {"name": "reveals", "values": per("PersonalDataRevealed")}
    return [
        {
            "id": "access-by-week",
            "title": f"Access events per {unit}, by kind",
            "labels": weeks,
            "stacked": True,
            "series": [
                {
                    "name": "support views and reads",
                    "values": per("PersonalDataViewed"),
                },
                {"name": "grant requests", "values": per("AccessRequested")},
                grants,
                reveals,
            ],
        },
        {
            "id": "grants-vs-reveals",
            "title": f"Grants approved against reveals, per {unit}",
            "labels": weeks,
            "stacked": False,
            "series": [grants, reveals],
        },
        {
            "id": "refusals-lockouts",
            "title": f"Refused attempts and lockouts, per {unit}",
            "labels": weeks,
            "stacked": False,
            "series": [
                {"name": "refusals", "values": per("AccessDenied")},
                {"name": "lockouts", "values": per("UserLocked")},
            ],
        },
        {
            "id": "erasures-sweeps",
            "title": "Erasures and sweep volumes, per month",
            "labels": months,
            "stacked": False,
            "series": [
                {"name": "subjects erased", "values": facts.monthly_series("ContactErased")},
                {"name": "contacts swept", "values": facts.monthly_sum("swept_contacts")},
            ],
        },
        {
            "id": "subprocessors",
            "title": "Sub-processor changes and check findings, per month",
            "labels": months,
            "stacked": False,
            "series": [
                {"name": "changes", "values": facts.monthly_series(*changes)},
                {"name": "objections", "values": facts.monthly_series("SubProcessorObjectedTo")},
                {"name": "supervisions", "values": facts.monthly_series("SubProcessorSupervised")},
                {
                    "name": "findings at month end",
                    "values": [found_by_month.get(m, 0) for m in months],
                },
            ],
        },
        {
            "id": "breach-clocks",
            "title": "Breach notification clocks: deadline against time taken (hours)"
            if breaches.get("breaches")
            else "Breach notification clocks in force (no breach recorded in the period)",
            "kind": "clocks",
            "rows": _clock_rows(breaches, now),
        },
    ]


def _extra_evidence(key: str, model: dict[str, Any], facts: EventFacts) -> list[dict[str, Any]]:
    """Figures that are states or other modules' counts rather than event counts."""
    checks = model["checks"]
    samples = checks.get("samples", {})
    findings = model["subprocessor_findings"]
    breaches = model["breaches"]
    rows: dict[str, list[tuple[str, Any]]] = {
        "B": [("ledger records verified", model["ledger"]["verification"]["records_checked"])],
        "C": [
            ("staff reviews overdue now", model["staff"]["overdue_for_review"]),
            ("sampled entries unreviewed", samples.get("unreviewed")),
            ("sampled entries deviating", samples.get("deviations")),
            ("contact-person changes", checks.get("contact_changes")),
            ("inspections that found deviations", checks.get("inspections", {}).get("deviations")),
        ],
        "D": [
            ("contacts swept", facts.sums["swept_contacts"]),
            ("messages swept", facts.sums["swept_messages"]),
        ],
        "E": [
            ("events recorded in the period", facts.events_in_scope),
            ("events in the store", facts.events_in_store),
        ],
        "F": [
            ("check findings now", findings["total"]),
            ("blocking findings now", findings["blocking"]),
            ("supervision challenges", checks.get("challenges")),
        ],
        "G": [
            (
                "transfer findings now (SUB-6)",
                sum(g["count"] for g in findings["by_rule"] if g["obligation"] == "SUB-6"),
            )
        ],
        "I": [
            ("breaches recorded", breaches.get("recorded", 0)),
            ("notification clocks overdue or late", len(breaches.get("overdue_clocks", []))),
        ],
    }
    return [
        {"label": label, "count": count, "events": []}
        for label, count in rows.get(key, [])
        if count is not None
    ]


def _objectives(
    facts: EventFacts, model: dict[str, Any], found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    by_id = {row["id"]: row for row in model["coverage"]["ids"]}
    objectives = []
    for o in OBJECTIVES:
        evidence = o.evidence_rows(facts)
        evidence += _extra_evidence(o.key, model, facts)
        objectives.append(
            {
                "key": o.key,
                "title": o.title,
                "aim": o.aim,
                "obligations": [
                    {
                        "id": i,
                        "duty": by_id[i]["duty"],
                        "mechanism": by_id[i]["mechanism"],
                        "tests": len(by_id[i]["tests"]),
                        "evidence": by_id[i]["evidence"],
                    }
                    for i in o.ids
                ],
                "evidence": evidence,
                "deviations": [d for d in found if d["objective"] == o.key],
            }
        )
    return objectives


def build_report(
    session: Session,
    *,
    controller: str | None = None,
    start: date | None = None,
    end: date | None = None,
    tests_dir: Path | None = None,
) -> dict[str, Any]:
    """The report model for [start, end] (whole days), for one controller or the processor."""
    _authorise(session, controller)
    proc = session.proc
    begin, finish = _period(proc, start, end)
    also = evidence.breach_ids(proc, controller) if controller else frozenset()
    facts = collect(proc, start=begin, end=finish, controller=controller, also=also)
    model: dict[str, Any] = {
        "title": "GDPR data-processor audit report",
        "generated_at": proc.now().isoformat(),
        "generated_by": session.user_name,
        "scope": {"controller": controller},
        "period": {"from": begin.isoformat(), "to": finish.isoformat(), "end_exclusive": True},
        "events_in_period": facts.events_in_scope,
        "system": _system(session, facts),
        "ledger": _ledger(proc),
        "versions": versions(),
        "staff": _staff(session),
        "gdpa_appointment": appointment(proc),  # ACC-16
        "staff_user_changes": _user_changes(proc, controller, begin, finish),
        "subprocessor_findings": _findings(session, controller, facts),
        "checks": evidence.checks(proc, controller, begin, finish),
        "breaches": evidence.breaches(proc, controller, begin, finish, facts.controllers),
        "coverage": _coverage(facts, tests_dir),
        "refusals_by_rule": dict(sorted(facts.refusal_rules.items())),
    }
    model["charts"] = _charts(facts, model["subprocessor_findings"], model["breaches"], proc.now())
    found = deviations.find(model)
    model["objectives"] = _objectives(facts, model, found)
    model["deviations"] = found
    return model
