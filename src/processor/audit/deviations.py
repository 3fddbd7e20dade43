"""Deviations: what the report must flag rather than leave for the auditor to spot (AUD-1).

Each deviation names the control objective and obligation it concerns, a stable `kind` a script
can act on, and one sentence. They come only from the report model (counts, states, rule
names), so a deviation can never carry a data subject's value.
"""

from __future__ import annotations

from typing import Any

from processor.audit.objectives import OBJECTIVES


def objective_of(obligation: str) -> str:
    """The first objective that covers `obligation` (`B` for an id no objective lists)."""
    for objective in OBJECTIVES:
        if obligation in objective.ids:
            return objective.key
    return "B"


def _dev(obligation: str, kind: str, text: str) -> dict[str, Any]:
    return {
        "objective": objective_of(obligation),
        "obligation": obligation,
        "kind": kind,
        "text": text,
    }


def _ledger(model: dict[str, Any]) -> list[dict[str, Any]]:
    checked = model["ledger"]["verification"]
    if checked["ok"]:
        return []
    return [
        _dev(
            "AUD-4",
            "ledger-verification-failed",
            f"ledger verification failed at position {checked['first_bad_position']}: "
            f"{checked['reason']}",
        )
    ]


def _staff(model: dict[str, Any]) -> list[dict[str, Any]]:
    overdue = model["staff"]["overdue_for_review"]
    if not overdue:
        return []
    return [
        _dev(
            "ACC-2",
            "staff-review-overdue",
            f"{overdue} of {model['staff']['staff']} staff members are overdue for their "
            "periodic review (see `processor users staff`)",
        )
    ]


def _gdpa(model: dict[str, Any]) -> list[dict[str, Any]]:
    """An expired (or unrecorded) GDPA appointment: the role must be filled for a term (ACC-16)."""
    gdpa = model.get("gdpa_appointment")
    if not gdpa or not gdpa["expired"]:
        return []
    when = f"expired on {gdpa['ends']}" if gdpa["ends"] else "is not on record"
    return [
        _dev(
            "ACC-16",
            "gdpa-appointment-expired",
            f"the GDPA's appointment {when} (renew it with `processor gdpa renew`)",
        )
    ]


def _user_changes(model: dict[str, Any]) -> list[dict[str, Any]]:
    changes = model.get("staff_user_changes", {})
    if not changes.get("unreviewed"):
        return []
    return [
        _dev(
            "ACC-13",
            "staff-user-change-unreviewed",
            f"{changes['unreviewed']} of {changes['changes']} changes processor staff made to a "
            "controller's users are not reviewed yet (`audit sample`, `audit review`)",
        )
    ]


def _checks(model: dict[str, Any]) -> list[dict[str, Any]]:
    return check_deviations(model["checks"])


def check_deviations(checks: dict[str, Any]) -> list[dict[str, Any]]:
    """The deviations of sample checks, reviews and inspections (`evidence.checks`).

    Shared with `status`, so that it lists what the report lists, in the same words.
    """
    if not checks.get("available"):
        return [
            _dev("ACC-7", "checks-unavailable", f"sample checks cannot be shown: {checks['note']}")
        ]
    found: list[dict[str, Any]] = []
    samples = checks.get("samples", {})
    if samples.get("unreviewed"):
        found.append(
            _dev(
                "ACC-7",
                "sample-unreviewed",
                f"{samples['unreviewed']} sampled access-log entries are not reviewed yet",
            )
        )
    if samples.get("deviations"):
        found.append(
            _dev(
                "ACC-7",
                "sample-deviation",
                f"{samples['deviations']} sampled entries deviate from their grant or instruction",
            )
        )
    if samples.get("overdue"):
        found.append(
            _dev(
                "ACC-7",
                "sample-overdue",
                f"a sample check is overdue (due {samples.get('next_due')})",
            )
        )
    for key, what in (
        ("risk_review", "risk assessment review"),
        ("policy_review", "IT-security policy review"),
    ):
        state = checks.get(key, {})
        if state.get("overdue"):
            found.append(
                _dev(
                    "AUD-6",
                    f"{key.replace('_', '-')}-overdue",
                    f"the {what} is overdue (due {state.get('next_due')})",
                )
            )
    inspected = checks.get("inspections", {})
    if inspected.get("deviations"):
        found.append(
            _dev(
                "AUD-7",
                "inspection-deviation",
                f"{inspected['deviations']} inspections in the period found deviations "
                "(`audit inspections` gives their findings)",
            )
        )
    return found


def _findings(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        _dev(
            g["obligation"]
            if g["obligation"] in {m for o in OBJECTIVES for m in o.ids}
            else "SUB-1",
            "subprocessor-finding",
            f"`subprocessors check`: {g['count']} x {g['rule']} ({g['blocking']} blocking)"
            + (f"; resolve: {g['resolve'][0]}" if g.get("resolve") else ""),
        )
        for g in model["subprocessor_findings"]["by_rule"]
    ]


def _breaches(model: dict[str, Any]) -> list[dict[str, Any]]:
    register = model["breaches"]
    if not register.get("available"):
        return []
    references = {str(b["id"]): b.get("reference") for b in register.get("breaches", [])}
    return [
        _dev(
            "BR-3" if c.get("clock") == "controller-to-authority" else "BR-1",
            "breach-clock-overdue",
            f"breach {c.get('breach')}: the {c.get('clock')} clock for {c.get('controller')} "
            f"was due {c.get('due')} and "
            + (f"met late at {c['met_at']}" if c.get("met_at") else "is not met"),
        )
        for c in [
            {**c, "breach": references.get(str(c.get("breach")), c.get("breach"))}
            for c in register.get("overdue_clocks", [])
        ]
    ]


def _coverage(model: dict[str, Any]) -> list[dict[str, Any]]:
    coverage = model["coverage"]
    found: list[dict[str, Any]] = []
    for row in coverage["ids"]:
        if not row["mechanism_present"]:
            found.append(
                _dev(
                    row["id"],
                    "mechanism-missing",
                    f"{row['id']}: its mechanism ({row['where']}) is not in this build",
                )
            )
        if coverage["tests_found"] and not row["tests"]:
            found.append(_dev(row["id"], "test-missing", f"{row['id']}: no test names this id"))
    return found


def find(model: dict[str, Any]) -> list[dict[str, Any]]:
    """Every deviation the model shows, in objective order."""
    found = (
        _ledger(model)
        + _staff(model)
        + _gdpa(model)
        + _user_changes(model)
        + _checks(model)
        + _findings(model)
        + _breaches(model)
        + _coverage(model)
    )
    return sorted(found, key=lambda d: (d["objective"], d["obligation"], d["kind"]))
