"""`processor doctor`: everything outside the ledger, checked against the events (AUD-4, RET-5).

Five checks, each read-only towards the live stores:
* ledger: the events themselves verify against the signed checkpoints (the other checks trust
  the events, so a failure here is reported first);
* readmodels: a rebuild from the events equals the live read models, row by row;
* keystore: every destroyed key has its event, no erased subject keeps a key, and no key is of
  no subject (`integrity.orphans`; the repair is `integrity.orphans.repair_orphans`);
* snapshots: every snapshot row carries a valid MAC;
* duplicates: no two live contacts of a controller share one normalised e-mail (SUBJ-4); the
  repair is `integrity.duplicates.repair_duplicates`, run by the controller's administrator.
The report is clean only when every check finds nothing; the CLI then exits 0, else 3.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.integrity.duplicates import check_duplicates
from processor.integrity.findings import Finding
from processor.integrity.keycheck import check_keys, event_facts
from processor.integrity.orphans import check_orphans
from processor.integrity.rebuild import compare_read_models
from processor.integrity.snapshots import check_snapshots

if TYPE_CHECKING:
    from processor.session import Session

PERMISSION = "integrity.check"
CHECKS = ("ledger", "readmodels", "keystore", "snapshots", "duplicates")


def _ledger(session: Session) -> list[Finding]:
    report = session.proc.ledger.verify()
    if report.ok:
        return []
    return [
        Finding(
            check="ledger",
            problem=f"ledger verification failed: {report.reason}",
            where="ledger",
            key=str(report.first_bad_position),
        )
    ]


def run_doctor(session: Session) -> dict[str, Any]:
    """Run every check as the session's user (GDPA or system manager) and report."""
    session.authorize(PERMISSION, command="doctor")
    proc = session.proc
    ledger = _ledger(session)
    readmodels = compare_read_models(proc)
    facts = event_facts(proc.store)  # read once, for both key-store checks
    findings = [
        *ledger,
        *readmodels,
        *check_keys(proc.store, proc.keys, facts),
        *check_orphans(proc, facts),
        *check_snapshots(proc),
        *check_duplicates(proc),
    ]
    counts = {name: sum(1 for f in findings if f.check == name) for name in CHECKS}
    return {
        "ok": not findings,
        "checked": list(CHECKS),
        "counts": counts,
        "findings": [f.as_dict() for f in findings],
        "position": proc.projector.position(),
    }
