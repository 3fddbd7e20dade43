"""The record of processing activities carried out for each controller (AUD-3, Art. 30(2)).

Art. 30(2) asks for: (a) the name and contact details of the processor, of each controller,
of their representatives and of the data-protection officer; (b) the categories of processing
carried out on behalf of each controller; (c) transfers to a third country with their
safeguards; (d) a general description of the technical and organisational measures.

The record is built from the registry itself (controllers, their agreement and instructions,
the sub-processors on each controller's list and their transfer basis, the contact persons)
and from the audit policy (categories and measures). It names no data subject: categories of
data are field names, never values. `as_dpv` renders it as W3C DPV JSON-LD with an embedded
context, so it expands without fetching anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from processor.audit.audit_policy import audit_policy
from processor.domain.controllers import SENSITIVE_DATA
from processor.domain.ids import PROCESSOR_PARTY
from processor.services import contact_persons
from processor.services.lookup import find_controller
from processor.services.staff import StaffService
from processor.services.subprocessors import SubprocessorsService
from subprocessors.facts import day_of

if TYPE_CHECKING:
    from processor.session import Session

FORMATS: Final = ("json", "markdown", "dpv")
_IN_USE: Final = frozenset({"approved", "awaiting-engagement"})


def controller_entry(s: Session, ref: str) -> dict[str, Any]:
    """One controller's part of the record: who, what, which data, transfers, sub-processors."""
    proc = s.proc
    ctrl = find_controller(proc, ref)
    policy = audit_policy()
    registry = SubprocessorsService(s)
    listing = registry.listing(controller=ref)["subprocessors"]
    tp = registry.policy
    today = day_of(proc.now())
    used = [sp for sp in listing if sp.get("status") in _IN_USE]
    transfers = [
        {
            "subprocessor": sp["name"],
            "countries": [
                c
                for c in dict.fromkeys([sp["country"], *sp["data_locations"]])
                if not tp.in_eea(c, today)
            ],
            "basis": sp["basis"],
            "safeguard": sp["basis_title"],
        }
        for sp in used
    ]
    fields = proc.policies.fields
    return {
        "id": ref,
        "name": ctrl.name,
        "country": ctrl.country,
        "agreement": ctrl.agreement,
        "registered_on": ctrl.registered_on.date().isoformat(),
        "ended": ctrl.data_deleted_at is not None,
        "contact_persons": contact_persons.persons(proc, ref),
        "categories_of_processing": [
            *policy.processing.categories,
            *sorted({f"{a} (by a sub-processor)" for sp in used for a in sp["activities"]}),
        ],
        "purposes": list(policy.processing.purposes),
        "categories_of_data": {
            "fields": list(fields.standard),
            "custom_fields": True,
            "special_categories": ctrl.has_instruction(SENSITIVE_DATA),
        },
        "categories_of_subjects": list(policy.processing.subjects),
        "subprocessors": [
            {"name": sp["name"], "activities": sp["activities"], "country": sp["country"]}
            for sp in used
        ],
        "third_country_transfers": [t for t in transfers if t["countries"]],
    }


def build(s: Session, *, check: bool = True) -> dict[str, Any]:
    """The whole Art. 30(2) record (the GDPA's: `audit.record`)."""
    if check:
        s.authorize("audit.record", command="audit record")
    proc = s.proc
    policy = audit_policy()
    states = StaffService(s).review_states()
    gdpa = [u["name"] for u in states if u["role"] == "gdpa" and not u["revoked"]]
    return {
        "record": "Art. 30(2) GDPR record of processing activities (processor)",
        "at": proc.now().isoformat(),
        "processor": {
            "name": proc.store_info().processor_name,
            "contact_persons": contact_persons.persons(proc, PROCESSOR_PARTY),
        },
        "data_protection_administrator": {
            "users": gdpa,
            "contact": contact_persons.persons(proc, PROCESSOR_PARTY).get("data-protection"),
        },
        "technical_and_organisational_measures": [
            {"id": m.id, "description": m.text} for m in policy.measures
        ],
        "controllers": [
            controller_entry(s, ref) for ref in SubprocessorsService(s).controller_refs()
        ],
        "policy_versions": f"{proc.policies.version};{policy.version}",
    }


def as_markdown(record: dict[str, Any]) -> str:
    """The record as Markdown, one section per controller."""
    lines = [f"# {record['record']}", "", f"As of {record['at']}.", ""]
    p = record["processor"]
    lines += ["## Processor", "", f"- Name: {p['name']}"]
    lines += _persons(p["contact_persons"])
    dpa = record["data_protection_administrator"]
    lines += ["", "## Data-protection administrator", "", f"- Users: {', '.join(dpa['users'])}"]
    lines += _persons({"contact": dpa["contact"]} if dpa["contact"] else {})
    lines += ["", "## Technical and organisational measures (general description)", ""]
    lines += [
        f"- **{m['id']}**: {m['description']}"
        for m in record["technical_and_organisational_measures"]
    ]
    for c in record["controllers"]:
        lines += ["", f"## Controller {c['id']}: {c['name']} ({c['country']})", ""]
        lines += [f"- Agreement: {c['agreement']}, registered {c['registered_on']}"]
        lines += _persons(c["contact_persons"])
        lines += ["", "Categories of processing:", ""]
        lines += [f"- {x}" for x in c["categories_of_processing"]]
        data = c["categories_of_data"]
        lines += [
            "",
            f"Categories of data: {', '.join(data['fields'])}; custom fields"
            + (
                "; special categories under instruction"
                if data["special_categories"]
                else "; no special categories"
            ),
            "",
        ]
        lines += [f"Categories of data subjects: {'; '.join(c['categories_of_subjects'])}", ""]
        lines += [
            "Sub-processors: "
            + (
                ", ".join(
                    f"{sp['name']} ({', '.join(sp['activities'])}; {sp['country']})"
                    for sp in c["subprocessors"]
                )
                or "none"
            )
        ]
        lines += [
            "",
            "Third-country transfers: "
            + (
                "; ".join(
                    f"{t['subprocessor']} to {', '.join(t['countries'])} under {t['safeguard']}"
                    for t in c["third_country_transfers"]
                )
                or "none"
            ),
        ]
    lines += ["", f"Policy versions: {record['policy_versions']}", ""]
    return "\n".join(lines)


def _persons(persons: dict[str, Any]) -> list[str]:
    if not persons:
        return ["- Contact persons: none recorded"]
    return [
        f"- {role}: " + ", ".join(str(v) for _, v in sorted(details.items()))
        for role, details in sorted(persons.items())
    ]


DPV_CONTEXT: Final = {
    "dpv": "https://w3id.org/dpv#",
    "pd": "https://w3id.org/dpv/pd#",
    "loc": "https://w3id.org/dpv/loc#",
    "dct": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dpv:hasDataController": {"@type": "@id"},
    "dpv:hasDataProcessor": {"@type": "@id"},
    "dpv:hasRecipient": {"@type": "@id"},
    "dpv:hasPersonalData": {"@type": "@id"},
    "dpv:hasCountry": {"@type": "@id"},
    "dpv:hasThirdCountry": {"@type": "@id"},
    "dpv:hasDataProtectionOfficer": {"@type": "@id"},
    "dct:created": {"@type": "xsd:dateTime"},
}
# The standard fields as DPV personal-data categories (the `pd` extension).
_PD: Final = {
    "email": "pd:EmailAddress",
    "phone": "pd:TelephoneNumber",
    "first_name": "pd:Name",
    "last_name": "pd:Name",
    "address": "pd:PhysicalAddress",
    "postal_code": "pd:PhysicalAddress",
    "city": "pd:PhysicalAddress",
    "country": "pd:Country",
    "gender": "pd:Gender",
    "birth_date": "pd:BirthDate",
    "interests": "pd:Interest",
    "reference": "pd:Identifier",
}


def as_dpv(record: dict[str, Any]) -> dict[str, Any]:
    """The record as W3C DPV JSON-LD (embedded context; compact IRIs only)."""
    base = f"urn:processor:{record['processor']['name']}"
    processor_id = f"{base}:processor"
    nodes: list[dict[str, Any]] = [
        {
            "@id": processor_id,
            "@type": "dpv:DataProcessor",
            "schema:name": record["processor"]["name"],
            **_dpv_contacts(record["processor"]["contact_persons"]),
        }
    ]
    processes: list[dict[str, Any]] = []
    measures = [
        {
            "@id": f"{base}:measure:{m['id']}",
            "@type": "dpv:TechnicalOrganisationalMeasure",
            "dct:description": m["description"],
        }
        for m in record["technical_and_organisational_measures"]
    ]
    for c in record["controllers"]:
        cid = f"{base}:controller:{c['id']}"
        nodes.append(
            {
                "@id": cid,
                "@type": "dpv:DataController",
                "schema:name": c["name"],
                "dpv:hasCountry": f"loc:{c['country']}",
                **_dpv_contacts(c["contact_persons"]),
            }
        )
        recipients = []
        for sp in c["subprocessors"]:
            sid = f"{base}:subprocessor:{sp['name'].replace(' ', '-')}"
            recipients.append(sid)
            nodes.append(
                {
                    "@id": sid,
                    "@type": "dpv:DataSubProcessor",
                    "schema:name": sp["name"],
                    "dpv:hasCountry": f"loc:{sp['country']}",
                }
            )
        processes.append(
            {
                "@id": f"{base}:process:{c['id']}",
                "@type": "dpv:Process",
                "dct:title": f"Processing on behalf of {c['id']}",
                "dpv:hasDataController": cid,
                "dpv:hasDataProcessor": processor_id,
                "dpv:hasPurpose": [
                    {"@type": "dpv:Purpose", "dct:description": p} for p in c["purposes"]
                ],
                "dpv:hasProcessing": [
                    *(
                        {"@type": "dpv:Processing", "dct:description": x}
                        for x in c["categories_of_processing"]
                    ),
                    *(_dpv_transfer(base, t) for t in c["third_country_transfers"]),
                ],
                "dpv:hasPersonalData": sorted(
                    {_PD[f] for f in c["categories_of_data"]["fields"] if f in _PD}
                ),
                "dpv:hasDataSubject": [
                    {"@type": "dpv:DataSubject", "dct:description": x}
                    for x in c["categories_of_subjects"]
                ],
                "dpv:hasRecipient": recipients,
                "dpv:hasTechnicalOrganisationalMeasure": [{"@id": m["@id"]} for m in measures],
            }
        )
    return {
        "@context": DPV_CONTEXT,
        "@id": f"{base}:ropa",
        "@type": "dpv:RecordsOfActivities",
        "dct:title": record["record"],
        "dct:created": record["at"],
        "@graph": [*nodes, *measures, *processes],
    }


def _dpv_transfer(base: str, t: dict[str, Any]) -> dict[str, Any]:
    """A third-country transfer: `dpv:Transfer` to the recipient, its countries and safeguard."""
    return {
        "@type": "dpv:Transfer",
        "dct:description": f"to {t['subprocessor']}",
        "dpv:hasRecipient": f"{base}:subprocessor:{t['subprocessor'].replace(' ', '-')}",
        "dpv:hasThirdCountry": [f"loc:{x}" for x in t["countries"]],
        "dpv:hasLegalBasis": {
            "@type": "dpv:DataTransferLegalBasis",
            "dct:description": t["safeguard"],
        },
    }


def _dpv_contacts(persons: dict[str, dict[str, str]]) -> dict[str, Any]:
    if not persons:
        return {}
    return {
        "schema:contactPoint": [
            {
                "@type": "schema:ContactPoint",
                "schema:contactType": role,
                **{f"schema:{'telephone' if k == 'phone' else k}": v for k, v in sorted(d.items())},
            }
            for role, d in sorted(persons.items())
        ]
    }
