"""Inspections and audits of the processor and its sub-processors, with their findings (AUD-7).

The controller, an auditor it mandates or the supervisory authority may inspect the processor,
and, per the agreed procedure, its sub-processors (SCC 12.1-12.3, C.7, C.8; DPA18 Bilag 3).
Each inspection is recorded by the GDPA on the inspector's behalf as an `InspectionRecorded`
event naming who inspected (the kind of party, the party and the inspector), what was
inspected, when, the outcome and the findings, so it is sealed, ledger-covered and in the
GDPA's report. The inspector's name and the findings are sealed free text; the report counts
outcomes and never opens them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final

from processor.audit.audit_policy import audit_policy
from processor.audit.events import DEVIATION, FINDINGS, Inspection
from processor.audit.reading import event_class, stored_events
from processor.kernel.errors import InvalidInputError
from processor.keys import open_records, seal_records
from processor.services.lookup import find_controller
from processor.services.subprocessor_facts import SubprocessorRegistry

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.session import Session

CONTROLLER: Final = "controller"
AUDITOR: Final = "auditor"
AUTHORITY: Final = "authority"
KINDS: Final = (CONTROLLER, AUDITOR, AUTHORITY)
PROCESSOR: Final = "processor"
SUBPROCESSOR_PREFIX: Final = "subprocessor:"
INSPECTOR: Final = "inspector"
FINDINGS_TEXT: Final = "inspection-findings"
TEXT_MAX: Final = 10_000
NAME_MAX: Final = 200


def _text(value: str, option: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise InvalidInputError(f"an inspection needs {option}")
    if len(text) > limit:
        raise InvalidInputError(f"{option} is longer than {limit} characters")
    return text


class InspectionsService:
    """Record inspections on the inspector's behalf and list them (AUD-7)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def record(
        self,
        *,
        by: str,
        party: str,
        inspector: str,
        of: str | None,
        held_on: date,
        outcome: str,
        findings: str,
    ) -> dict[str, Any]:
        """Record one inspection; `of` names a sub-processor, or None for the processor itself.

        A controller's or its auditor's inspection names the controller as `party` (it must
        exist); the authority's names the authority. An inspection of a sub-processor names one
        in the registry. The date may not be in the future: what is recorded has happened.
        """
        self.s.authorize("audit.record-inspection", command="audit inspection")
        if by not in KINDS:
            raise InvalidInputError(f"--by must be one of {', '.join(KINDS)}")
        if outcome not in FINDINGS:
            raise InvalidInputError(f"--outcome must be one of {', '.join(FINDINGS)}")
        name = _text(party, "the party (--party)", NAME_MAX)
        controller = find_controller(self.proc, name).ref if by != AUTHORITY else None
        subject = PROCESSOR
        if of is not None:
            subject = SUBPROCESSOR_PREFIX + SubprocessorRegistry(self.s).get(of).name
        if held_on > self.proc.now().date():
            raise InvalidInputError("--on must not be in the future")
        person = _text(inspector, "the inspector (--inspector)", NAME_MAX)
        text = _text(findings, "its findings (--findings)", TEXT_MAX)
        with self.proc.using_clock():
            inspection = Inspection(
                actor=self.s.user_name,
                by=by,
                party=name,
                controller=controller,
                inspector=seal_records(self.proc.sealer, None, INSPECTOR, person),
                of=subject,
                held_on=held_on.isoformat(),
                outcome=outcome,
                findings=seal_records(self.proc.sealer, None, FINDINGS_TEXT, text),
                policy_version=audit_policy().version,
            )
            self.proc.commit(inspection)
        return {"inspection_id": str(inspection.id), **_row(inspection)}

    def inspections(self) -> list[dict[str, Any]]:
        """Every recorded inspection with its inspector and findings opened (GDPA: audit.read)."""
        self.s.authorize("audit.read", command="audit inspections")
        sealer = self.proc.sealer
        return [
            {
                **_row(e),
                "inspector": open_records(sealer, None, INSPECTOR, e.inspector),
                "findings": open_records(sealer, None, FINDINGS_TEXT, e.findings),
            }
            for e in recorded(self.proc)
        ]


def _row(e: Any) -> dict[str, Any]:  # noqa: ANN401 - an Inspection or its created event
    return {
        "by": e.by,
        "party": e.party,
        "of": e.of,
        "held_on": e.held_on,
        "outcome": e.outcome,
        "recorded_by": getattr(e, "recorded_by", None) or getattr(e, "actor", None),
    }


def recorded(
    proc: Processor,
    controller: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Any]:
    """The `InspectionRecorded` events in [start, end) (recording time), for one controller.

    A controller sees its own and its auditor's inspections and the authority's (which concern
    the processing for every controller); not another controller's.
    """
    found = []
    for _, e in stored_events(proc, event_class(Inspection, "InspectionRecorded")):
        if start is not None and e.timestamp < start:
            continue
        if end is not None and e.timestamp >= end:
            continue
        if controller is not None and e.controller not in (None, controller):
            continue
        found.append(e)
    return found


def summary(
    proc: Processor, controller: str | None, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    """What the report shows: each inspection's who, what, when and outcome, never its text."""
    rows = [_row(e) for e in recorded(proc, controller, start, end)]
    return {
        "recorded": len(rows),
        "deviations": sum(1 for r in rows if r["outcome"] == DEVIATION),
        "inspections": rows,
    }
