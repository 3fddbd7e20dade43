"""The report as one self-contained HTML file: inline CSS and SVG, no script, no external asset.

A GDPA reads it on screen or on paper, so it has a print style sheet (A4, no page break inside a
table or chart, links spelled out), and every figure also has its numbers in a table or a
`<title>` per mark. Every value is escaped; the charts come from `charts` (ours) or, for breach
timelines, from the breach register (`timeline_svg`), accepted only as a bare `<svg>` element.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from processor.audit import charts, tables

CSS = """
:root { --ink: #1d1d1f; --muted: #5a5a60; --line: #d9d9de; --bad: #b3261e; --ok: #1e7b34; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       max-width: 1040px; margin: 0 auto; padding: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin-top: 36px;
  border-bottom: 2px solid var(--ink); } h3 { font-size: 16px; margin-top: 24px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left;
         vertical-align: top; }
th { background: #f3f3f5; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.banner { background: #fff4ce; border: 1px solid #e0c060; padding: 8px 12px; margin: 12px 0; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; margin: 16px 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
.tile b { display: block; font-size: 22px; } .bad { color: var(--bad); } .ok { color: var(--ok); }
figure.chart { margin: 12px 0 20px; break-inside: avoid; page-break-inside: avoid; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 12px; }
pre { background: #f6f6f8; padding: 8px; overflow-x: auto; font-size: 11px; white-space: pre-wrap; }
section.objective { break-inside: auto; }
ul.deviations li { color: var(--bad); }
details summary { cursor: pointer; color: var(--muted); }
@media print {
  @page { size: A4; margin: 14mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  h2 { break-before: auto; break-after: avoid; } h3 { break-after: avoid; }
  table, figure.chart, .tiles { break-inside: avoid; page-break-inside: avoid; }
  .tiles { grid-template-columns: repeat(4, 1fr); }
  details > *:not(summary) { display: block; }
  a { color: inherit; text-decoration: none; }
  a[href^="#"]::after { content: ""; }
}
"""

_SVG = re.compile(r"\A\s*<svg[\s>].*</svg>\s*\Z", re.DOTALL)
_UNSAFE = re.compile(
    r"<\s*(script|foreignObject|iframe|image|use)\b|\son\w+\s*=|href\s*=", re.IGNORECASE
)


def _e(value: object) -> str:
    return escape("-" if value is None else str(value))


_CODE = re.compile(r"`([^`]+)`")


def _cell(value: object) -> str:
    """An escaped cell, with Markdown-style `code` spans kept as code."""
    return _CODE.sub(r"<code>\1</code>", _e(value))


def _table(head: list[str], rows: list[list[object]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    th = "".join(
        f"<th{' class=num' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td{' class=num' if i in numeric else ''}>{_cell(v)}</td>" for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _figure(chart_id: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="chart" data-chart="{_e(chart_id)}">{svg}'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _chart(chart: dict[str, Any]) -> str:
    if chart.get("kind") == "clocks":
        rows = [(r["label"], float(r["deadline_hours"]), r["taken_hours"]) for r in chart["rows"]]
        svg = charts.clock_chart(chart["title"], rows, desc="hours from awareness")
        caption = "Blue: deadline. Green: met in time. Red: late or still open past its deadline."
    else:
        series = [(s["name"], s["values"]) for s in chart["series"]]
        svg = charts.bar_chart(
            chart["title"], chart["labels"], series, stacked=chart["stacked"], desc=chart["title"]
        )
        totals = ", ".join(f"{s['name']} {sum(s['values'])}" for s in chart["series"])
        caption = f"Totals in the period: {totals}."
    return _figure(chart["id"], svg, f"{chart['title']}. {caption}")


def _foreign_svg(svg: str) -> str | None:
    """A breach timeline from the register, if it is a bare, inert `<svg>` element."""
    if not _SVG.match(svg) or _UNSAFE.search(svg):
        return None
    return svg


def _header(model: dict[str, Any]) -> str:
    s, ledger = model["system"], model["ledger"]["verification"]
    scope = model["scope"]["controller"] or "all controllers"
    parts = [f"<h1>{_e(model['title'])}</h1>"]
    parts.append(
        f"<p>Scope: <b>{_e(scope)}</b>. Period: {_e(model['period']['from'])} to "
        f"{_e(model['period']['to'])} (end exclusive). Generated {_e(model['generated_at'])} "
        f"by {_e(model['generated_by'])}.</p>"
    )
    if s["simulation"]:
        parts.append(
            '<p class="banner">SIMULATION store: simulated time, not a production record.</p>'
        )
    verified = "passed" if ledger["ok"] else "FAILED"
    tiles = [
        ("deviations", len(model["deviations"]), "bad" if model["deviations"] else "ok"),
        ("ledger verification", verified, "ok" if ledger["ok"] else "bad"),
        ("events in the period", model["events_in_period"], ""),
        ("obligation ids", len(model["coverage"]["ids"]), ""),
    ]
    parts.append(
        '<div class="tiles">'
        + "".join(
            f'<div class="tile"><span>{_e(label)}</span><b class="{cls}">{_e(value)}</b></div>'
            for label, value, cls in tiles
        )
        + "</div>"
    )
    links = [("system", "System description"), ("ledger", "Ledger")]
    links += [(f"objective-{o['key']}", f"{o['key']}. {o['title']}") for o in model["objectives"]]
    links += [("checks", "Checks"), ("deviations", "Deviations"), ("coverage", "Coverage")]
    parts.append(
        "<nav><p>" + " · ".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in links) + "</p></nav>"
    )
    return "".join(parts)


def _system(model: dict[str, Any]) -> str:
    s = model["system"]
    return (
        '<section id="system"><h2>System description</h2>'
        f"<p>{_e(s['description'])}</p>{_table(*tables.system_facts(s))}"
        + _table(*tables.controllers(s), {2, 3})
        + "</section>"
    )


def _ledger(model: dict[str, Any]) -> str:
    head, checked = model["ledger"]["head"], model["ledger"]["verification"]
    verdict = (
        '<b class="ok">passed</b>'
        if checked["ok"]
        else f'<b class="bad">FAILED</b>: {_e(checked["reason"])}'
    )
    facts: list[list[object]] = [
        ["tree size", head["size"]],
        ["root", head["root"]],
        ["signed at", head["signed_at"]],
        ["records checked", checked["records_checked"]],
        ["checkpoints checked", checked["checkpoints_checked"]],
    ]
    versions = _table(*tables.policy_versions(model["versions"]))
    return (
        f'<section id="ledger"><h2>Ledger</h2><p>Verification: {verdict}</p>'
        f"{_table(['', ''], facts)}<p>Signed checkpoint:</p><pre>{_e(head['checkpoint'])}</pre>"
        f"<h3>Policy versions in force</h3>{versions}</section>"
    )


def _deviation_list(found: list[dict[str, Any]], with_objective: bool = False) -> str:
    if not found:
        return '<p class="ok">No deviations.</p>'
    items = "".join(
        f"<li>{_e(d['objective']) + ' ' if with_objective else ''}<b>{_e(d['obligation'])}</b> "
        f"({_e(d['kind'])}): {_cell(d['text'])}</li>"
        for d in found
    )
    return f'<ul class="deviations">{items}</ul>'


def _breaches(model: dict[str, Any]) -> str:
    b = model["breaches"]
    parts: list[str] = []
    if not b.get("breaches"):
        parts.append(f"<p>{_e(b.get('note') or 'No breaches recorded in the period.')}</p>")
    else:
        parts.append(_table(*tables.breaches(b)))
        for r in b["breaches"]:
            svg = _foreign_svg(b.get("timelines", {}).get(r["id"], ""))
            if svg is not None:
                parts.append(
                    _figure(f"breach-{r['reference']}", svg, f"Timeline of {r['reference']}")
                )
    parts.append("<p>Notification clocks in force:</p>")
    parts.append(_table(*tables.clocks(b)))
    return "".join(parts)


def _objective(o: dict[str, Any], model: dict[str, Any], figures: dict[str, str]) -> str:
    ids = _table(*tables.obligations(o), {3, 4})
    evidence = _table(*tables.evidence(o), {1})
    extra = _breaches(model) if o["key"] == "I" else ""
    charts_here = "".join(figures.get(c, "") for c in _CHARTS_OF.get(o["key"], ()))
    return (
        f'<section class="objective" id="objective-{_e(o["key"])}">'
        f"<h3>{_e(o['key'])}. {_e(o['title'])}</h3><p>{_e(o['aim'])}</p>{ids}{evidence}"
        f"{charts_here}{extra}<h4>Deviations</h4>{_deviation_list(o['deviations'])}</section>"
    )


# Which charts each objective shows (each chart appears once, beside the evidence it draws).
_CHARTS_OF = {
    "B": ("access-by-week", "refusals-lockouts"),
    "C": ("grants-vs-reveals",),
    "D": ("erasures-sweeps",),
    "F": ("subprocessors",),
    "I": ("breach-clocks",),
}


def _checks(model: dict[str, Any]) -> str:
    checks = model["checks"]
    if not checks.get("available"):
        return f'<section id="checks"><h2>Checks</h2><p>{_e(checks["note"])}</p></section>'
    rows: list[list[object]] = []
    for key, value in checks.items():
        if key == "available":
            continue
        if isinstance(value, dict):
            rows += [[f"{key}: {k}", v] for k, v in value.items()]
        else:
            rows.append([key, value])
    return (
        '<section id="checks"><h2>Checks: samples, reviews, contact persons</h2>'
        f"{_table(['check', 'value'], rows)}</section>"
    )


def _coverage(model: dict[str, Any]) -> str:
    coverage = model["coverage"]
    note = (
        ""
        if coverage["tests_found"]
        else ("<p>No test sources beside this installation: tests could not be listed.</p>")
    )
    rows = "".join(
        f"<tr><td>{_e(r['id'])}</td><td>{_cell(r['mechanism'])}<br><small>{_e(r['where'])}</small></td>"
        f"<td class={'ok' if r['mechanism_present'] else 'bad'}>"
        f"{'yes' if r['mechanism_present'] else 'NO'}</td>"
        f"<td class=num>{len(r['tests'])}"
        + (
            f"<details><summary>names</summary>{'<br>'.join(_e(t) for t in r['tests'])}</details>"
            if r["tests"]
            else ""
        )
        + f"</td><td class=num>{_e(r['evidence'])}</td></tr>"
        for r in coverage["ids"]
    )
    return (
        '<section id="coverage"><h2>Appendix: obligation coverage</h2>'
        "<p>Every obligation id with the mechanism that enforces it (checked present in this "
        "build), the tests that name it, and its evidence count for the period.</p>"
        f"{note}<table><thead><tr><th>id</th><th>mechanism</th><th>in this build</th>"
        f"<th class=num>tests</th><th class=num>evidence</th></tr></thead><tbody>{rows}"
        "</tbody></table></section>"
    )


def render(model: dict[str, Any]) -> str:
    """The whole report as one HTML document."""
    figures = {c["id"]: _chart(c) for c in model["charts"]}
    objectives = "".join(_objective(o, model, figures) for o in model["objectives"])
    title = f"{model['title']}: {model['scope']['controller'] or 'all controllers'}"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body>"
        f"<header>{_header(model)}</header><main>{_system(model)}{_ledger(model)}"
        f'<section id="objectives"><h2>Control objectives</h2>{objectives}</section>'
        f"{_checks(model)}"
        f'<section id="deviations"><h2>Deviations</h2>'
        f"{_deviation_list(model['deviations'], with_objective=True)}</section>"
        f"{_coverage(model)}</main></body></html>\n"
    )
