"""The report as Markdown: for a ticket, a wiki or a diff between two months' reports."""

from __future__ import annotations

from typing import Any

from processor.audit import tables


def cell(value: object) -> str:
    """A value safe inside a Markdown table cell (pipes escaped, one line)."""
    text = "-" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def table(head: list[str], rows: list[list[object]]) -> list[str]:
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _header(model: dict[str, Any]) -> list[str]:
    scope = model["scope"]["controller"] or "all controllers"
    period = model["period"]
    lines = [f"# {model['title']}", ""]
    if model["system"]["simulation"]:
        lines += ["**SIMULATION store: simulated time, not a production record.**", ""]
    lines += [
        f"- Scope: {scope}",
        f"- Period: {period['from']} to {period['to']} (end exclusive)",
        f"- Generated: {model['generated_at']} by {model['generated_by']}",
        f"- Deviations: {len(model['deviations'])}",
        f"- Ledger verification: {'passed' if model['ledger']['verification']['ok'] else 'FAILED'}",
        "",
    ]
    return lines


def _system(model: dict[str, Any]) -> list[str]:
    s = model["system"]
    lines = ["## System description", "", s["description"], ""]
    lines += table(*tables.system_facts(s))
    lines += table(*tables.controllers(s))
    return lines


def _ledger(model: dict[str, Any]) -> list[str]:
    head, checked = model["ledger"]["head"], model["ledger"]["verification"]
    lines = ["## Ledger", ""]
    lines += table(
        ["", ""],
        [
            ["tree size", head["size"]],
            ["root", head["root"]],
            ["signed at", head["signed_at"]],
            ["verification", "passed" if checked["ok"] else f"FAILED: {checked['reason']}"],
            ["records checked", checked["records_checked"]],
            ["checkpoints checked", checked["checkpoints_checked"]],
        ],
    )
    lines += ["Signed checkpoint:", "", "```text", head["checkpoint"].rstrip(), "```", ""]
    lines += ["## Policy versions in force", ""]
    lines += table(*tables.policy_versions(model["versions"]))
    return lines


def _objective(o: dict[str, Any], model: dict[str, Any]) -> list[str]:
    lines = [f"### {o['key']}. {o['title']}", "", o["aim"], ""]
    lines += table(*tables.obligations(o))
    lines += table(*tables.evidence(o))
    if o["key"] == "I":
        lines += _breaches(model)
    lines += ["Deviations:", ""]
    lines += [f"- {d['obligation']} ({d['kind']}): {d['text']}" for d in o["deviations"]] or [
        "- none"
    ]
    return [*lines, ""]


def _breaches(model: dict[str, Any]) -> list[str]:
    b = model["breaches"]
    lines: list[str] = []
    if not b.get("breaches"):
        lines += [b.get("note") or "No breaches recorded in the period.", ""]
    else:
        lines += table(*tables.breaches(b))
    lines += ["Notification clocks in force:", ""]
    lines += table(*tables.clocks(b))
    return lines


def _checks(model: dict[str, Any]) -> list[str]:
    checks = model["checks"]
    lines = ["## Checks: samples, reviews, contact persons", ""]
    if not checks.get("available"):
        return [*lines, checks["note"], ""]
    rows: list[list[object]] = []
    for key, value in checks.items():
        if key == "available":
            continue
        if isinstance(value, dict):
            rows += [[f"{key}: {k}", v] for k, v in value.items()]
        else:
            rows.append([key, value])
    return lines + table(["check", "value"], rows)


def _coverage(model: dict[str, Any]) -> list[str]:
    coverage = model["coverage"]
    lines = ["## Appendix: obligation coverage", ""]
    if not coverage["tests_found"]:
        lines += ["No test sources beside this installation: tests could not be listed.", ""]
    lines += table(
        ["id", "mechanism", "in this build", "tests", "evidence"],
        [
            [
                r["id"],
                r["mechanism"],
                "yes" if r["mechanism_present"] else "NO",
                f"{len(r['tests'])}"
                + (f" ({r['tests'][0].split('::')[-1]}, ...)" if r["tests"] else ""),
                r["evidence"],
            ]
            for r in coverage["ids"]
        ],
    )
    return lines


def render(model: dict[str, Any]) -> str:
    """The whole report as one Markdown document."""
    lines = _header(model) + _system(model) + _ledger(model)
    lines += ["## Control objectives", ""]
    for o in model["objectives"]:
        lines += _objective(o, model)
    lines += _checks(model)
    lines += ["## Deviations", ""]
    lines += [
        f"- {d['objective']} {d['obligation']} ({d['kind']}): {d['text']}"
        for d in model["deviations"]
    ] or ["- none"]
    lines += ["", *_coverage(model)]
    return "\n".join(lines).rstrip() + "\n"
