"""`audit inspection` and `audit inspections`: audits and inspections with their findings (AUD-7).

The GDPA records each inspection of the processor, or of one of its sub-processors, on the
inspector's behalf: who held it (a controller, its auditor or the supervisory authority), the
party, the inspector, what was inspected, when, the outcome and the findings (sealed).
"""

from __future__ import annotations

from datetime import date

import click

from processor.audit.events import FINDINGS
from processor.audit.inspections import KINDS, InspectionsService
from processor.services.validation import iso_date

from .output import emit, printable
from .state import state


@click.command("inspection")
@click.option("--by", "by", required=True, type=click.Choice(KINDS), help="Who inspected.")
@click.option(
    "--party",
    required=True,
    help="The controller (for controller and auditor) or the supervisory authority's name.",
)
@click.option("--inspector", required=True, help="The person who inspected (sealed).")
@click.option("--subprocessor", "of", metavar="NAME", help="Inspected a sub-processor, not us.")
@click.option("--on", "held_on", required=True, metavar="DATE", help="When it was held.")
@click.option("--outcome", required=True, type=click.Choice(FINDINGS))
@click.option("--findings", required=True, help="What the inspection found (sealed).")
@click.pass_context
def inspection(
    ctx: click.Context,
    by: str,
    party: str,
    inspector: str,
    of: str | None,
    held_on: str,
    outcome: str,
    findings: str,
) -> None:
    """Record an inspection or audit and its findings, on the inspector's behalf (AUD-7)."""
    st = state(ctx)
    data = InspectionsService(st.session()).record(
        by=by,
        party=party,
        inspector=inspector,
        of=of,
        held_on=date.fromisoformat(iso_date(held_on, "--on")),
        outcome=outcome,
        findings=findings,
    )
    text = f"inspection by {by} {data['party']} of {data['of']} on {data['held_on']}: {outcome}"
    emit(data, as_json=st.as_json, text=printable(text))


@click.command("inspections")
@click.pass_context
def inspections(ctx: click.Context) -> None:
    """Every recorded inspection, with its inspector and findings (AUD-7)."""
    st = state(ctx)
    rows = InspectionsService(st.session()).inspections()
    lines = [
        printable(
            f"{r['held_on']}  {r['by']:<10} {r['party']}  of {r['of']}  {r['outcome']}"
            f"  ({r['inspector']}): {r['findings']}"
        )
        for r in rows
    ]
    emit({"inspections": rows}, as_json=st.as_json, text="\n".join(lines) or "no inspections")


def attach(group: click.Group) -> None:
    """Attach the inspections' commands to the `audit` group."""
    group.add_command(inspection)
    group.add_command(inspections)
