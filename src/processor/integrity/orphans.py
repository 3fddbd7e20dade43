"""Keys of no subject: subject keys that no event created a subject for (RET-5, AUD-4).

A subject's key is made before its first event is stored: an import makes the keys of up to
1,000 new contacts in one key-store transaction and then stores the batch's events, and a
message's key is made before its `MessageRecorded`. A process killed in between leaves keys
that seal nothing and that no erasure will ever destroy. They hold no personal data, but a key
store should hold only keys the events account for: among a pile of unexplained keys, a key
someone added by hand hides, and "how many keys are alive" means nothing.

`doctor` reports every such key older than `ORPHAN_AGE`, so the keys of an import still in
flight (made, its events not yet stored) are not flagged. `doctor --repair --confirm` records
`OrphanSubjectKeysDestroyed` with their ids (in the ledger-covered events, at most
`PER_EVENT` ids per event) and the projector destroys them when it applies the event, so a
repair that dies half-way completes itself like an erasure does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from processor.integrity.findings import Finding
from processor.integrity.keycheck import event_facts
from processor.storage.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor
    from processor.integrity.keycheck import EventFacts
    from processor.session import Session

ORPHAN: Final = "key of no subject (no event created a subject for it)"
ORPHAN_AGE: Final = timedelta(minutes=15)
"""Younger keys may belong to a command still running (an import between keys and events)."""
PER_EVENT: Final = 1000
"""Ids per `OrphanSubjectKeysDestroyed` event: one import batch's worth."""
REPAIR_PERMISSION: Final = "integrity.check"

# A Table (not a bare table clause) so that PostgreSQL's schema translation applies to it.
_meta = sa.MetaData()
_subject_keys = sa.Table(
    "subject_keys",
    _meta,
    sa.Column("subject_id", sa.String),
    sa.Column("created_at", UTCDateTime()),
)


@dataclass(frozen=True)
class OrphanKey:
    """A live subject key no event refers to, and when it was made."""

    subject_id: str
    created_at: datetime


def orphan_keys(proc: Processor, facts: EventFacts | None = None) -> list[OrphanKey]:
    """The live subject keys of no subject, made at least `ORPHAN_AGE` before the clock's now."""
    facts = facts or event_facts(proc.store)
    known = {subject for subject, _what, _gone in facts.expectations()}
    cutoff = proc.now() - ORPHAN_AGE
    with proc.keys.engine.connect() as conn:
        rows = conn.execute(
            sa.select(_subject_keys.c.subject_id, _subject_keys.c.created_at).order_by(
                _subject_keys.c.created_at, _subject_keys.c.subject_id
            )
        ).all()
    found: list[OrphanKey] = []
    for subject, created in rows:
        if str(subject) not in known and created <= cutoff:
            found.append(OrphanKey(str(subject), created))
    return found


def check_orphans(proc: Processor, facts: EventFacts | None = None) -> list[Finding]:
    """One `keystore` finding per key of no subject."""
    return [
        Finding(
            check="keystore",
            problem=ORPHAN,
            where="subject_keys",
            key=f"{orphan.subject_id} (made {orphan.created_at.isoformat()})",
            column="key",
            live="alive",
            expected="absent",
        )
        for orphan in orphan_keys(proc, facts)
    ]


def repair_orphans(session: Session, *, confirm: bool) -> dict[str, Any]:
    """Destroy the keys of no subject, each batch as an event; without `confirm`, only say so."""
    session.authorize(REPAIR_PERMISSION, command="doctor --repair")
    proc = session.proc
    orphans = [o.subject_id for o in orphan_keys(proc)]
    report: dict[str, Any] = {
        "orphan_keys": orphans,
        "older_than_minutes": int(ORPHAN_AGE.total_seconds() // 60),
        "confirmed": confirm,
        "destroyed": 0,
        "events": 0,
    }
    if not confirm or not orphans:
        return report
    with proc.using_clock():
        for start in range(0, len(orphans), PER_EVENT):
            batch = orphans[start : start + PER_EVENT]
            store = proc.store_info()
            store.record_orphan_keys_destroyed(
                actor=session.user_name,
                subject_ids=batch,
                keys=len(batch),
                older_than_minutes=report["older_than_minutes"],
            )
            # The commit's projector destroys the keys as it applies the event.
            proc.commit(store)
            report["events"] += 1
    report["destroyed"] = len(orphans)
    return report
