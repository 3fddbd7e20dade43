"""A breach's timeline: every recorded step against its deadlines, as text, JSON and SVG.

The SVG is self-contained (no scripts, no external references, no fonts to fetch), so the audit
report can embed it inline. Drawn steps carry `class="mark"`, deadline lines `class="deadline"`.
Nothing here reads a clock: the caller passes `now`, the store's time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

if TYPE_CHECKING:
    from processor.breaches.clocks import Clock
    from processor.breaches.domain import Breach

WIDTH, ROW, LEFT, RIGHT, TOP = 960, 22, 250, 30, 40


def steps(breach: Breach, scope: str | None = None) -> list[dict[str, Any]]:
    """Every step, oldest first: (time, what, for whom). No free text, no personal data.

    With `scope` (a controller's own view), another controller's steps and the subject counts
    of other controllers are left out (ACC-9).
    """
    found: list[dict[str, Any]] = []

    def add(at: datetime | None, step: str, controller: str | None = None) -> None:
        if at is not None and controller in (None, scope or controller):
            found.append({"at": at, "step": step, "controller": controller})

    def assessed(a: dict[str, Any]) -> int:
        if scope is None:
            return int(a["subjects"])
        return sum(c["subjects"] for c in a.get("controllers", []) if c["controller"] == scope)

    add(breach.occurred_from, "breach began (window start)")
    add(breach.occurred_to, "breach ended (window end)")
    add(breach.discovered_at, "discovered")
    add(breach.aware_at, "processor became aware")
    add(breach.created_on, f"opened as BR-{breach.number:04d}")
    for a in breach.assessments:
        add(datetime.fromisoformat(a["at"]), f"impact assessed: {assessed(a)} subjects")
    for u in breach.updates:
        changes = ", ".join(f"{k} {u[k]}" for k in ("phase", "status") if u.get(k))
        add(u["at"], f"updated: {changes or 'window, systems or cause'}")
    for m in breach.measures:
        add(m["at"], f"measure: {m['kind']}")
    for n in breach.notifications:
        add(n["at"], f"controller notified ({n['phase']})", n["controller"])
    for ref, a in breach.authority_notices.items():
        what = (
            f"authority notified: {a['authority']}"
            if a.get("required", True)
            else "authority notice judged not required"
        )
        add(a["at"], what, ref)
    for ref, d in breach.subject_notices.items():
        what = (
            "subjects notified"
            if d["notified"]
            else f"subjects not told: exception {d['exception']}"
        )
        add(d["at"] or d["recorded_at"], what, ref)
    for e in breach.exports:
        add(e["at"], f"affected contacts exported ({e['subjects']})", e["controller"])
    for k in breach.key_rotations:
        add(k["at"], f"keys rotated: {k['what']}")
    add(breach.closed_at, "closed with review")
    found.sort(key=lambda s: s["at"])
    return found


def as_json(
    breach: Breach, clocks: list[Clock], now: datetime, scope: str | None = None
) -> dict[str, Any]:
    """The timeline as a JSON-ready dict (ISO times); `scope`: one controller's view."""
    return {
        "breach": str(breach.id),
        "reference": f"BR-{breach.number:04d}",
        "now": now.isoformat(),
        "steps": [{**s, "at": s["at"].isoformat()} for s in steps(breach, scope)],
        "deadlines": [c.view(now) for c in clocks],
    }


def as_text(breach: Breach, clocks: list[Clock], now: datetime, scope: str | None = None) -> str:
    """The timeline as lines: steps, then each deadline with its state."""
    lines = [f"BR-{breach.number:04d} ({breach.status}, {breach.phase}); now {now.isoformat()}"]
    for s in steps(breach, scope):
        who = f" [{s['controller']}]" if s["controller"] else ""
        lines.append(f"  {s['at'].isoformat()}  {s['step']}{who}")
    for c in clocks:
        met = f", met {c.met_at.isoformat()}" if c.met_at else ""
        lines.append(f"  DUE {c.due.isoformat()}  {c.clock} [{c.controller}]: {c.state(now)}{met}")
    return "\n".join(lines)


def as_svg(breach: Breach, clocks: list[Clock], now: datetime, scope: str | None = None) -> str:
    """A self-contained SVG: one row per step, one vertical line per deadline."""
    rows = steps(breach, scope)
    times = [s["at"] for s in rows] + [c.due for c in clocks] + [now]
    lo, hi = min(times), max(times)
    span = max((hi - lo).total_seconds(), 1.0)
    height = TOP + ROW * (len(rows) + 2) + 20

    def x(at: datetime) -> float:
        return float(round(LEFT + (WIDTH - LEFT - RIGHT) * (at - lo).total_seconds() / span, 1))

    title = f"Timeline of breach BR-{breach.number:04d}"
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label={quoteattr(title)} '
            'font-family="sans-serif" font-size="11">'
        ),
        f"<title>{escape(title)}</title>",
        f'<text x="10" y="18" font-size="14" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{LEFT}" y1="{TOP - 6}" x2="{WIDTH - RIGHT}" y2="{TOP - 6}" stroke="#888"/>',
        f'<text x="{LEFT}" y="{TOP - 10}">{escape(lo.isoformat(timespec="minutes"))}</text>',
        (
            f'<text x="{WIDTH - RIGHT}" y="{TOP - 10}" text-anchor="end">'
            f"{escape(hi.isoformat(timespec='minutes'))}</text>"
        ),
    ]
    for i, s in enumerate(rows):
        y = TOP + ROW * i + 10
        label = s["step"] + (f" [{s['controller']}]" if s["controller"] else "")
        when = s["at"].isoformat(timespec="minutes")
        parts.append(f'<text x="10" y="{y + 4}">{escape(label)}</text>')
        parts.append(
            f'<circle class="mark" cx="{x(s["at"])}" cy="{y}" r="5" fill="#1f5fa8">'
            f"<title>{escape(f'{when} {label}')}</title></circle>"
        )
    bottom = TOP + ROW * len(rows) + 10
    colours = {"met": "#2e7d32", "running": "#f0a000", "late": "#c62828", "overdue": "#c62828"}
    for j, c in enumerate(clocks):
        state = c.state(now)
        at = x(c.due)
        label = f"{c.clock} [{c.controller}] due {c.due.isoformat(timespec='minutes')}: {state}"
        parts.append(
            f'<line class="deadline" x1="{at}" y1="{TOP - 6}" x2="{at}" y2="{bottom}" '
            f'stroke="{colours[state]}" stroke-width="2" stroke-dasharray="6 3">'
            f"<title>{escape(label)}</title></line>"
        )
        parts.append(
            f'<text x="{at}" y="{bottom + 14 + 12 * (j % 2)}" text-anchor="middle" '
            f'fill="{colours[state]}">{escape(f"{c.clock} {c.controller}: {state}")}</text>'
        )
    now_x = x(now)
    parts.append(
        f'<line x1="{now_x}" y1="{TOP - 6}" x2="{now_x}" y2="{bottom}" stroke="#555" '
        'stroke-width="1"><title>now</title></line>'
    )
    parts.append("</svg>")
    return "\n".join(parts)
