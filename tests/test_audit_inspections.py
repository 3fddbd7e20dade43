"""Inspections of the processor and its sub-processors, recorded with their findings (AUD-7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support import login

from processor.audit.events import Inspection
from processor.audit.inspections import InspectionsService
from processor.audit.reading import event_class, stored_events
from processor.audit.report import build_report
from processor.kernel.errors import AccessDeniedError, InvalidInputError, NotFoundError
from processor.services.subprocessor_facts import SubprocessorRegistry


def _record(service: InspectionsService, **changes):
    fields = {
        "by": "auditor",
        "party": "acme",
        "inspector": "Ida Revisor, Revisionsfirma ApS",
        "of": None,
        "held_on": service.proc.now().date(),
        "outcome": "ok",
        "findings": "logging and access control as described",
    }
    return service.record(**{**fields, **changes})


def test_an_inspection_is_an_event_naming_inspector_party_and_findings__AUD_7(acme):
    """The GDPA records an inspection on the inspector's behalf: who, for whom, of what, when,
    outcome; the inspector and findings are sealed in the event and opened for the listing.
    """
    grete = InspectionsService(login(acme, "grete").session)
    sub = SubprocessorRegistry(login(acme, "grete").session).facts()[0].name
    done = _record(grete)
    _record(grete, by="authority", party="Datatilsynet", of=sub, outcome="deviation",
            findings="the sub-processor's backups were not tested")  # fmt: skip
    assert done["by"] == "auditor" and done["party"] == "acme" and done["of"] == "processor"
    events = [e for _, e in stored_events(acme, event_class(Inspection, "InspectionRecorded"))]
    assert [(e.by, e.party, e.of, e.outcome, e.actor) for e in events] == [
        ("auditor", "acme", "processor", "ok", "grete"),
        ("authority", "Datatilsynet", f"subprocessor:{sub}", "deviation", "grete"),
    ]
    assert "Ida" not in events[0].inspector and "backups" not in events[1].findings  # sealed
    listed = grete.inspections()
    assert listed[0]["inspector"] == "Ida Revisor, Revisionsfirma ApS"
    assert listed[1]["findings"] == "the sub-processor's backups were not tested"


def test_the_gdpas_report_shows_inspections_and_their_deviations__AUD_7(acme):
    """The report counts the period's inspections, lists who/what/when/outcome without the
    sealed text, and a deviation found is a report deviation under AUD-7.
    """
    grete_session = login(acme, "grete").session
    grete = InspectionsService(grete_session)
    _record(grete, by="controller", outcome="deviation", findings="secret-finding-text")
    report = build_report(grete_session)
    shown = report["checks"]["inspections"]
    assert shown["recorded"] == 1 and shown["deviations"] == 1
    assert shown["inspections"][0]["by"] == "controller"
    assert "secret-finding-text" not in str(report)
    assert "inspection-deviation" in {d["kind"] for d in report["deviations"]}
    objective_c = next(o for o in report["objectives"] if o["key"] == "C")
    assert "AUD-7" in [i["id"] for i in objective_c["obligations"]]
    labels = {e["label"]: e["count"] for e in objective_c["evidence"]}
    assert labels["inspections and audits recorded"] == 1


def test_only_the_gdpa_records_and_bad_input_is_refused__AUD_7(acme):
    """Others may not record; an unknown controller or sub-processor, an unknown kind or
    outcome, empty findings and a future date are refused.
    """
    grete = InspectionsService(login(acme, "grete").session)
    with pytest.raises(AccessDeniedError):
        _record(InspectionsService(login(acme, "alice").session))
    with pytest.raises(NotFoundError):
        _record(grete, party="nobody")
    with pytest.raises(NotFoundError):
        _record(grete, of="No Such Sub")
    for bad in ({"by": "neighbour"}, {"outcome": "fine"}, {"findings": " "},
                {"inspector": ""}, {"held_on": grete.proc.now().date() + timedelta(days=1)}):  # fmt: skip
        with pytest.raises(InvalidInputError):
            _record(grete, **bad)
    assert grete.inspections() == []
