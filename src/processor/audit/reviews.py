"""The processor's own risk assessment and its reviews of the measures (AUD-6).

Each review is an event (`RiskAssessmentReviewed`, `SecurityPolicyReviewed`) with its sealed
text and the date the next one is due. The IT-security policy must be reviewed at least once a
year: a next date further away than the policy allows is refused. Without any review the first
is due the policy's interval after the store was initialised, so a new store is not "overdue"
on its first day, and one that never reviews becomes overdue.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from processor.audit.audit_policy import audit_policy
from processor.audit.events import RiskAssessmentReview, SecurityPolicyReview
from processor.audit.reading import event_class, stored_events
from processor.kernel.errors import InvalidInputError
from processor.keys import seal_records

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.session import Session

RISK: Final = "risk"
POLICY: Final = "policy"
_CLASSES: Final = {RISK: RiskAssessmentReview, POLICY: SecurityPolicyReview}
_EVENTS: Final = {RISK: "RiskAssessmentReviewed", POLICY: "SecurityPolicyReviewed"}
REVIEW_TEXT: Final = "measures-review"
TEXT_MAX: Final = 10_000  # a review is an account, not a way to bloat the store


def _interval(kind: str) -> timedelta:
    rhythm = audit_policy().rhythm
    days = rhythm.risk_review_every_days if kind == RISK else rhythm.policy_review_every_days
    return timedelta(days=days)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def review_state(proc: Processor, kind: str, until: datetime | None = None) -> dict[str, Any]:
    """The last review of `kind` up to `until`, when the next is due, and whether it is overdue."""
    now = until or proc.now()
    last: Any = None
    count = 0
    for _, e in stored_events(proc, event_class(_CLASSES[kind], _EVENTS[kind])):
        if e.timestamp <= now:
            last, count = e, count + 1
    if last is None:
        due = proc.store_info().created_on + _interval(kind)
    else:
        due = _midnight(date.fromisoformat(last.next_due))
    return {
        "last": last.timestamp.isoformat() if last is not None else None,
        "by": last.actor if last is not None else None,
        "next_due": due.isoformat(),
        "overdue": now > due,
        "reviews": count,
    }


class ReviewsService:
    """Record reviews of the risk assessment and of the IT-security policy (AUD-6)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def record(self, kind: str, text: str, next_due: date | None) -> dict[str, Any]:
        """Record a review; the next date is required for the risk assessment (its own plan)."""
        command = "audit risk-review" if kind == RISK else "audit policy-review"
        self.s.authorize("audit.review-measures", command=command)
        if not text.strip():
            raise InvalidInputError("a review needs its text (--text)")
        if len(text.strip()) > TEXT_MAX:
            raise InvalidInputError(f"--text is longer than {TEXT_MAX} characters")
        today = self.proc.now().date()
        latest = today + _interval(kind)
        if next_due is None:
            if kind == RISK:
                raise InvalidInputError("a risk review needs the date of the next one (--next)")
            next_due = latest
        if next_due <= today:
            raise InvalidInputError("--next must be a date after today")
        if next_due > latest:
            raise InvalidInputError(
                f"--next may be at most {latest.isoformat()} "
                f"(the audit policy: every {_interval(kind).days} days)"
            )
        with self.proc.using_clock():
            sealed = seal_records(self.proc.sealer, None, REVIEW_TEXT, text.strip())
            review = _CLASSES[kind](
                actor=self.s.user_name,
                text=sealed,
                next_due=next_due.isoformat(),
                policy_version=audit_policy().version,
            )
            self.proc.commit(review)
        return {
            "kind": kind,
            "reviewed_at": review.created_on.isoformat(),
            **review_state(self.proc, kind),
        }
