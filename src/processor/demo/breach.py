"""The demo's breach chapter: a sub-processor breach, its impact, notices, clocks and timeline.

Nordmail ApS, engaged for nordic-shoes and objected to by fjord-books, reports that a support
account was phished. The GDPA opens the breach on the sub-processor; the impact, found by time
travel over the events, reaches nordic-shoes' subjects only (fjord-books' objection kept its data
away); the notice goes out within the SCC's 24 hours; nordic-shoes' administrator records its
notice to Datatilsynet; the timeline is drawn; the breach is closed with its review (BR-1..BR-5).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from processor.breaches.register import breach_clocks
from processor.breaches.responses import BreachResponsesService
from processor.breaches.service import BreachesService
from processor.breaches.timeline import as_svg
from processor.demo.cast import cast_login

if TYPE_CHECKING:
    from pathlib import Path

    from processor.app import Processor
    from processor.kernel.clock import FixedClock

SHOES = "nordic-shoes"


def tell_breach(
    proc: Processor, clock: FixedClock, work: Path, story: list[str], out: dict[str, Any]
) -> None:
    """Append the breach chapter to the demo's story."""
    grete = BreachesService(cast_login(proc, "grete").session)
    anna = BreachResponsesService(cast_login(proc, "anna").session)
    clock.advance(timedelta(days=2))
    now = clock.now()
    opened = grete.open(
        kinds=["confidentiality"],
        nature="A Nordmail ApS support account was phished; its campaign database was read",
        cause="Phishing of a sub-processor employee",
        discovery="Nordmail ApS told us by e-mail",
        discovered_at=now - timedelta(hours=2),
        aware_at=now,
        occurred_from=now - timedelta(days=3),
        occurred_to=now - timedelta(hours=3),
        systems=["subprocessor:Nordmail ApS"],
        contact_point="grete (GDPA), privacy@demo-processor.example",
    )
    impact = opened["impact"]
    reached = ", ".join(
        f"{c['controller']} {c['subjects']} subjects (~{c['records']} records: "
        f"{', '.join(c['categories'])})"
        for c in impact["controllers"]
    )
    story.append(
        f"breach {opened['reference']} opened on sub-processor Nordmail ApS; impact by time "
        f"travel: {reached}; fjord-books objected to Nordmail, so none of its data (BR-2, BR-4)"
    )
    clock.advance(timedelta(hours=1))
    grete.update(
        opened["id"],
        status="confirmed",
        measures=["Nordmail ApS revoked the account's sessions and reset its password"],
        measure_kind="contain",
    )
    clock.advance(timedelta(hours=4))
    given = grete.notify(
        opened["id"],
        all_affected=True,
        consequences="Targeted phishing of the subjects using their names and e-mail addresses",
        measures="Account locked, sessions revoked, Nordmail's access logs under review",
    )["notices"]
    story.append(
        "notified "
        + ", ".join(
            f"{n['controller']} at {n['given_at']} (due {n['due']}, "
            f"{'on time' if n['on_time'] else 'LATE'})"
            for n in given
        )
        + " with the Art. 33(3) content in Markdown and JSON (BR-1)"
    )
    clock.advance(timedelta(hours=30))
    anna.authority_notice(
        opened["id"],
        controller=SHOES,
        at=clock.now() - timedelta(hours=1),
        authority="Datatilsynet",
        reference="2026-441-0042",
    )
    anna.subjects_notice(
        opened["id"], controller=SHOES, notified=True, channel="e-mail", at=clock.now()
    )
    story.append(
        "nordic-shoes recorded its notice to Datatilsynet within its 72 hours and told its "
        "subjects by e-mail (BR-3)"
    )
    clock.advance(timedelta(days=3))
    grete.update(opened["id"], phase="final", status="contained")
    closed = grete.close(
        opened["id"],
        "Cause: phishing at a sub-processor. Measures: sessions revoked, password reset. "
        "Lesson: require hardware keys of sub-processors' support staff.",
    )
    breach = grete.get(opened["id"])
    svg = work / "breach-timeline.svg"
    svg.write_text(as_svg(breach, breach_clocks(proc, breach), clock.now()), encoding="utf-8")
    clocks = {f"{c['controller']} {c['clock']}": c["state"] for c in closed["clocks"]}
    story.append(
        f"closed {opened['reference']} with its review; clocks: "
        + ", ".join(f"{k} {v}" for k, v in clocks.items())
        + f"; timeline drawn to {svg.name} (BR-4, BR-5)"
    )
    out["breach"] = {
        "id": opened["id"],
        "reference": opened["reference"],
        "affected": {c["controller"]: c["subjects"] for c in impact["controllers"]},
        "notices_on_time": all(n["on_time"] for n in given),
        "clocks": clocks,
        "timeline_svg": str(svg),
    }
