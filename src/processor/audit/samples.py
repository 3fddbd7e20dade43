"""Use cases of sample checks: draw and record a sample, review entries, list (ACC-7, SUB-8).

A sample is drawn from the ledger-covered access events (`sampling`), each entry is checked
(`samplecheck`), and the whole is recorded as one `AuditSampleDrawn` event before anything is
shown. The GDPA then records a finding on each entry (`SampleEntryReviewed`); the note is
sealed with the processor's records key. The audit policy says how often a sample is due.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from processor.audit import samplecheck, sampling, userchanges
from processor.audit.audit_policy import audit_policy
from processor.audit.events import AuditSample
from processor.audit.populations import STAFF, USER_CHANGES
from processor.audit.reading import event_class, in_period, stored_events
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.keys import open_records, seal_records

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.session import Session

REVIEW_NOTE = "sample-review-note"
TEXT_MAX = 10_000  # a note is a finding, not a document (and never a way to bloat the store)


def sample_ids(proc: Processor) -> list[uuid.UUID]:
    """Every recorded sample's id, oldest first."""
    drawn = event_class(AuditSample, "AuditSampleDrawn")
    return [e.originator_id for _, e in stored_events(proc, drawn)]


def load_samples(
    proc: Processor, start: datetime | None = None, end: datetime | None = None
) -> list[AuditSample]:
    """The recorded samples drawn in the period, oldest first."""
    found = [proc.find(i) for i in sample_ids(proc)]
    return [s for s in found if isinstance(s, AuditSample) and in_period(s.created_on, start, end)]


def next_due(proc: Processor, samples: list[AuditSample]) -> datetime:
    """When the next sample is due: the policy's interval after the last (or after init)."""
    every = timedelta(days=audit_policy().rhythm.sample_every_days)
    last = samples[-1].created_on if samples else proc.store_info().created_on
    return last + every


def entry_deviates(sample: AuditSample, entry: dict[str, Any]) -> bool:
    """An entry deviates when the check found something or the GDPA's review says so."""
    review = sample.reviews.get(entry["entry"])
    if review is not None:
        return bool(review["finding"] == "deviation")
    return bool(entry["findings"])


class SamplesService:
    """Draw, review and list sample checks of the access log."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def draw(
        self,
        size: int | None = None,
        seed: int | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        of: str = STAFF,
    ) -> dict[str, Any]:
        """Draw a reproducible sample, check each entry, record it with its findings."""
        self.s.authorize("audit.sample", command="audit sample")
        size = audit_policy().rhythm.sample_size if size is None else size
        if start is not None and end is not None and end <= start:
            raise InvalidInputError("--to must be after --from")
        entries = sampling.population(self.proc, of, start, end)
        chosen_seed = sampling.new_seed() if seed is None else seed
        chosen = sampling.draw(entries, size, chosen_seed)
        if of != USER_CHANGES:
            # Every sample carries every unreviewed staff change to a controller's users, so
            # none of them waits for a lucky draw (ACC-13).
            drawn = {e["entry"] for e in chosen}
            unseen = userchanges.unreviewed(self.proc, start, end)
            extra = [e for e in unseen if e["entry"] not in drawn]
            entries = entries + extra
            chosen = sorted(chosen + extra, key=lambda e: (e["position"], e["entry"]))
        checked = [{**e, "findings": samplecheck.check(self.s, e)} for e in chosen]
        deviations = sum(1 for e in checked if e["findings"])
        with self.proc.using_clock():
            sample = AuditSample(
                actor=self.s.user_name,
                of=of,
                seed=chosen_seed,
                start=start.isoformat() if start else None,
                end=end.isoformat() if end else None,
                population=len(entries),
                entries=checked,
                deviations=deviations,
                policy_version=f"{self.proc.policies.version};{audit_policy().version}",
            )
            self.proc.commit(sample)
        return self.describe(sample)

    def load(self, sample_id: str) -> AuditSample:
        """A recorded sample by id."""
        try:
            sid = uuid.UUID(sample_id)
        except ValueError:
            raise InvalidInputError(f"invalid sample id {sample_id[:40]!r}") from None
        found = self.proc.find(sid)
        if not isinstance(found, AuditSample):
            raise NotFoundError(f"unknown sample {sample_id}")
        return found

    def review(self, sample_id: str, entry: str, finding: str, note: str) -> dict[str, Any]:
        """Record the GDPA's finding on one entry of a sample."""
        self.s.authorize("audit.sample", command="audit review")
        sample = self.load(sample_id)
        if not note.strip():
            raise InvalidInputError("a review needs a note (--note)")
        if len(note.strip()) > TEXT_MAX:
            raise InvalidInputError(f"--note is longer than {TEXT_MAX} characters")
        sample.entry(entry)  # unknown entries are refused before anything is sealed
        with self.proc.using_clock():
            sealed = seal_records(self.proc.sealer, None, REVIEW_NOTE, note.strip())
            sample.review(actor=self.s.user_name, entry=entry, finding=finding, note=sealed)
            self.proc.commit(sample)
        return self.describe(sample)

    def list(self) -> dict[str, Any]:
        """Every sample with its counts, what is unreviewed, and when the next one is due."""
        self.s.authorize("audit.sample", command="audit samples")
        samples = load_samples(self.proc)
        due = next_due(self.proc, samples)
        return {
            "samples": [self.describe(s, entries=False) for s in samples],
            "unreviewed": sum(len(s.unreviewed) for s in samples),
            "next_due": due.isoformat(),
            "overdue": self.proc.now() > due,
        }

    def describe(self, sample: AuditSample, *, entries: bool = True) -> dict[str, Any]:
        """A sample as shown: ids, kinds, actors, findings and reviews; never a value."""
        shown: dict[str, Any] = {
            "sample": str(sample.id),
            "of": sample.of,
            "drawn_at": sample.created_on.isoformat(),
            "drawn_by": sample.drawn_by,
            "seed": sample.seed,
            "from": sample.start,
            "to": sample.end,
            "population": sample.population,
            "size": len(sample.entries),
            "deviations_found": sample.deviations,
            "deviations": sum(1 for e in sample.entries if entry_deviates(sample, e)),
            "reviewed": len(sample.entries) - len(sample.unreviewed),
            "unreviewed": len(sample.unreviewed),
        }
        if entries:
            shown["entries"] = [self._entry(sample, e) for e in sample.entries]
        return shown

    def _entry(self, sample: AuditSample, entry: dict[str, Any]) -> dict[str, Any]:
        review = sample.reviews.get(entry["entry"])
        keep = ("entry", "kind", "at", "actor", "controller", "findings", "grant", "subprocessor")
        shown = {k: entry[k] for k in keep if k in entry}
        shown["review"] = (
            None
            if review is None
            else {
                "finding": review["finding"],
                "by": review["by"],
                "at": review["at"],
                "note": open_records(self.proc.sealer, None, REVIEW_NOTE, review["note"]),
            }
        )
        return shown
