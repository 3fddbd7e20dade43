"""What a controller is given on request: the information pack and the DPIA pack.

The controller pack (AUD-2, SUB-7) answers DPA18 §5 free of charge: the controller's
representative at the processor, its sub-processors with their supervision results (and any
challenge it recorded), the data-protection administrator's contact, the categories of
processing and a description of the security measures.

The DPIA pack (SUBJ-9) gives what the controller needs for its impact assessment and any
prior consultation of the supervisory authority: the processing described, the risks the
processor assessed with the measures against each, and when the processor last reviewed them.

A controller's administrator may ask for its own packs; the GDPA for any controller's. Neither
pack holds a data subject's value: the processing is described by categories.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.audit import record, reviews
from processor.audit.audit_policy import audit_policy
from processor.audit.challenges import challenges
from processor.domain.ids import PROCESSOR_PARTY
from processor.services import contact_persons
from processor.services.lookup import find_controller
from processor.services.staff import StaffService
from processor.services.subprocessors import SubprocessorsService

if TYPE_CHECKING:
    from processor.session import Session


def _authorized(s: Session, ref: str, command: str) -> None:
    s.authorize("audit.pack", command=command, controller=ref)
    find_controller(s.proc, ref)


def _dpa_contact(s: Session) -> dict[str, Any]:
    processor = contact_persons.persons(s.proc, PROCESSOR_PARTY)
    return {
        "contact": processor.get("data-protection"),
        "users": [
            u["name"]
            for u in StaffService(s).review_states()
            if u["role"] == "gdpa" and not u["revoked"]
        ],
    }


def controller_pack(s: Session, ref: str) -> dict[str, Any]:
    """The controller information pack (AUD-2, SUB-7), free of charge."""
    _authorized(s, ref, "audit controller-pack")
    entry = record.controller_entry(s, ref)
    listing = SubprocessorsService(s).listing(controller=ref)["subprocessors"]
    mine = challenges(s.proc, ref)
    processor = contact_persons.persons(s.proc, PROCESSOR_PARTY)
    return {
        "pack": "controller information (DPA18 §5, SCC C.8)",
        "controller": ref,
        "at": s.proc.now().isoformat(),
        "charge": "none",
        "representative_at_processor": processor.get("representative"),
        "data_protection_administrator": _dpa_contact(s),
        "subprocessors": [
            {
                "name": sp["name"],
                "status": sp.get("status"),
                "activities": sp["activities"],
                "country": sp["country"],
                "basis": sp["basis_title"],
                "supervisions": sp.get("supervisions", []),
                "challenges": [c for c in mine if c["subprocessor"] == sp["name"]],
            }
            for sp in listing
        ],
        "categories_of_processing": entry["categories_of_processing"],
        "security_measures": [{"id": m.id, "description": m.text} for m in audit_policy().measures],
        "how_to_challenge": "processor subprocessors challenge NAME --reason TEXT",
    }


def dpia_pack(s: Session, ref: str) -> dict[str, Any]:
    """What the controller needs for a DPIA and a prior consultation (SUBJ-9)."""
    _authorized(s, ref, "audit dpia-pack")
    policy = audit_policy()
    entry = record.controller_entry(s, ref)
    risk = reviews.review_state(s.proc, reviews.RISK)
    return {
        "pack": "data-protection impact assessment support (SCC 9.2, DPA18 §13)",
        "controller": ref,
        "at": s.proc.now().isoformat(),
        "processing": {
            "categories_of_processing": entry["categories_of_processing"],
            "purposes": entry["purposes"],
            "categories_of_data": entry["categories_of_data"],
            "categories_of_subjects": entry["categories_of_subjects"],
            "subprocessors": entry["subprocessors"],
            "third_country_transfers": entry["third_country_transfers"],
        },
        "risks": [
            {
                "id": r.id,
                "risk": r.text,
                "likelihood": r.likelihood,
                "impact": r.impact,
                "measures": [{"id": m, "description": policy.measure(m).text} for m in r.measures],
            }
            for r in policy.risks
        ],
        "risk_assessment": {
            "last_reviewed": risk["last"],
            "next_due": risk["next_due"],
            "overdue": risk["overdue"],
        },
        "data_protection_administrator": _dpa_contact(s),
        "policy_version": policy.version,
    }
