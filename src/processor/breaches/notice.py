"""The processor-to-controller breach notice: the Art. 33(3) content known so far (BR-1, BR-2).

The content is a plain dict (the JSON form) and its Markdown rendering; the notice body carries
both, so the controller can read it and copy the fields across. Field names follow the Danish
authority's breach form (Datatilsynet, "Anmeldelse af brud på persondatasikkerheden") and EDPB
Guidelines 9/2022 where they fit. It never holds a personal value: only counts, categories,
times and the processor's own account of what happened.
"""

from __future__ import annotations

import json
from typing import Any

FORM: str = "Datatilsynet breach form / EDPB Guidelines 9/2022, Art. 33(3) GDPR"
PHASE_WORDS = {
    "initial": "initial (foreløbig anmeldelse)",
    "follow-up": "follow-up (opfølgende anmeldelse, Art. 33(4))",
    "final": "final (endelig anmeldelse)",
}
KIND_WORDS = {
    "confidentiality": "confidentiality breach (fortrolighedsbrud)",
    "integrity": "integrity breach (integritetsbrud)",
    "availability": "availability breach (tilgængelighedsbrud)",
}


def content(
    *,
    breach: dict[str, Any],
    controller: str,
    impact: dict[str, Any] | None,
    consequences: str,
    measures: str,
    recorded_measures: list[dict[str, Any]],
    phase: str,
    given_at: str,
    authority_due: str,
) -> dict[str, Any]:
    """The notice's JSON content for one controller (times are ISO strings)."""
    mine = None
    if impact is not None:
        mine = next((c for c in impact["controllers"] if c["controller"] == controller), None)
    return {
        "form": FORM,
        "breach_reference": breach["reference"],
        "breach_id": breach["id"],
        "notification_type": phase,
        "controller": controller,
        "processor_became_aware_at": breach["aware_at"],
        "discovered_at": breach["discovered_at"],
        "how_discovered": breach["discovery"],
        "breach_period": {"from": breach["occurred_from"], "to": breach["occurred_to"]},
        "ongoing": breach["occurred_to"] is None,
        "nature_of_breach": {
            "types": breach["kinds"],
            "description": breach["nature"],
            "cause": breach["cause"],
            "systems": breach["systems"],
        },
        "categories_of_data_subjects": ["the controller's contacts (data subjects it holds)"],
        "approximate_number_of_data_subjects": mine["subjects"] if mine else 0,
        "categories_of_personal_data": mine["categories"] if mine else [],
        "approximate_number_of_personal_data_records": mine["records"] if mine else 0,
        "data_unintelligible": bool(impact and impact["unintelligible"]),
        "unintelligible_note": impact["note"] if impact else "",
        "likely_consequences": consequences,
        "measures_taken_or_proposed": {
            "account": measures,
            "measures": recorded_measures,
        },
        "contact_point": breach["contact_point"],
        "controller_became_aware_at": given_at,
        "authority_notification_due": authority_due,
        "assessed_at": impact["at"] if impact else None,
    }


def _line(label: str, value: object) -> str:
    shown = "not known yet" if value in (None, "", []) else value
    return f"- **{label}:** {shown}"


def markdown(data: dict[str, Any]) -> str:
    """The notice as Markdown, the JSON content following it in a fenced block."""
    nature = data["nature_of_breach"]
    period = data["breach_period"]
    lines = [
        f"# Personal-data breach {data['breach_reference']}: notice to {data['controller']}",
        "",
        f"Under {data['form']}.",
        "",
        _line("Notification type", PHASE_WORDS.get(data["notification_type"], "")),
        _line("Processor became aware", data["processor_became_aware_at"]),
        _line("Discovered", data["discovered_at"]),
        _line("How it was discovered", data["how_discovered"]),
        _line("Breach period", f"{period['from'] or 'unknown'} to {period['to'] or 'ongoing'}"),
        _line("Nature", ", ".join(KIND_WORDS.get(k, k) for k in nature["types"])),
        _line("Description", nature["description"]),
        _line("Cause", nature["cause"]),
        _line("Systems", ", ".join(nature["systems"])),
        _line("Approximate number of data subjects", data["approximate_number_of_data_subjects"]),
        _line("Categories of personal data", ", ".join(data["categories_of_personal_data"])),
        _line("Approximate number of records", data["approximate_number_of_personal_data_records"]),
    ]
    if data["data_unintelligible"]:
        lines.append(_line("Data unintelligible", data["unintelligible_note"]))
    lines += [
        _line("Likely consequences", data["likely_consequences"]),
        _line("Measures taken or proposed", data["measures_taken_or_proposed"]["account"]),
    ]
    lines += [
        f"  - {m['at']} ({m['kind']}): {m['text']}"
        for m in data["measures_taken_or_proposed"]["measures"]
    ]
    lines += [
        _line("Contact point", data["contact_point"]),
        _line("You became aware (this notice)", data["controller_became_aware_at"]),
        _line("Your notification to the authority is due", data["authority_notification_due"]),
        "",
        "```json",
        json.dumps(data, indent=2, ensure_ascii=False),
        "```",
    ]
    return "\n".join(lines)
