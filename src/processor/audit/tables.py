"""The report's tables as headings and rows, before any format is applied.

The Markdown and HTML renderers show the same tables; which columns a table has, and which of
the model's values fill them, is decided here once, so the two formats cannot disagree. Each
function returns `(headings, rows)`; the renderer only escapes and lays them out.
"""

from __future__ import annotations

from typing import Any

Table = tuple[list[str], list[list[object]]]


def system_facts(s: dict[str, Any]) -> Table:
    """The processor's own facts: name, access profile, review and lockout, storage."""
    return ["fact", "value"], [
        ["processor", s["processor"]],
        ["staff-access profile", f"{s['profile']} (staff access: {s['staff_access']})"],
        ["staff review period", f"{s['staff_review_period_days']} days"],
        ["lockout after", f"{s['lockout_after_refusals']} refused attempts"],
        ["storage", f"{s['backend']}; keys in {s['key_store']}"],
        ["events in the store", s["events_in_store"]],
    ]


def controllers(s: dict[str, Any]) -> Table:
    """Each controller with its agreement edition's breach-notice and deletion terms."""
    return ["controller", "edition", "breach notice (h)", "deletion after end (days)"], [
        [
            c["controller"],
            c["edition"],
            c["breach_notice_hours"],
            c["deletion_after_termination_days"],
        ]
        for c in s["controllers"]
    ]


def policy_versions(versions: dict[str, Any]) -> Table:
    """The processor, store schema and policy versions in force."""
    rows: list[list[object]] = [
        ["processor", versions["processor"]],
        ["store schema", versions["store_schema"]],
    ]
    rows += [[name, v] for name, v in versions["policies"].items()]
    return ["policy", "version"], rows


def obligations(o: dict[str, Any]) -> Table:
    """A control objective's obligation ids: duty, mechanism, tests and evidence."""
    return ["id", "duty", "mechanism", "tests", "evidence"], [
        [i["id"], i["duty"], i["mechanism"], i["tests"], i["evidence"]] for i in o["obligations"]
    ]


def evidence(o: dict[str, Any]) -> Table:
    """A control objective's evidence counts in the period."""
    return ["evidence in the period", "count"], [[e["label"], e["count"]] for e in o["evidence"]]


def breaches(b: dict[str, Any]) -> Table:
    """The breaches of the period, one row each."""
    return ["breach", "aware at", "status", "controllers", "measures", "reviewed"], [
        [
            r["reference"],
            r["aware_at"],
            r["status"],
            ", ".join(r["controllers"]),
            r["measures"],
            r["reviewed"],
        ]
        for r in b["breaches"]
    ]


def clocks(b: dict[str, Any]) -> Table:
    """The notification clocks in force, with where their hours come from."""
    return ["clock", "hours", "fixed by agreement or law", "source"], [
        [c["clock"], c["hours"], c["fixed_by_agreement"], c["source"]] for c in b["clocks"]
    ]
