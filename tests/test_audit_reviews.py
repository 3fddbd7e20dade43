"""The processor's risk assessment and IT-security policy reviews, with their clocks (AUD-6)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from support import login

from processor.audit import reviews
from processor.audit.checks_summary import checks_evidence
from processor.audit.events import RiskAssessmentReview, SecurityPolicyReview
from processor.audit.reading import event_class, stored_events
from processor.kernel.errors import AccessDeniedError, InvalidInputError


def test_reviews_are_events_with_their_next_due_date__AUD_6(proc, clock):
    """A risk review and a policy review are recorded as events; the clocks follow them."""
    grete = reviews.ReviewsService(login(proc, "grete").session)
    today = clock.now().date()
    risk = grete.record(reviews.RISK, "risks re-assessed; no change", today + timedelta(days=90))
    policy = grete.record(reviews.POLICY, "policy reviewed", None)
    assert risk["next_due"].startswith((today + timedelta(days=90)).isoformat())
    assert policy["next_due"].startswith((today + timedelta(days=365)).isoformat())
    recorded = stored_events(
        proc,
        event_class(RiskAssessmentReview, "RiskAssessmentReviewed"),
        event_class(SecurityPolicyReview, "SecurityPolicyReviewed"),
    )
    assert [type(e).__name__ for _, e in recorded] == [
        "RiskAssessmentReviewed",
        "SecurityPolicyReviewed",
    ]
    evidence = checks_evidence(proc, controller=None, start=None, end=None)
    assert evidence["risk_review"]["last"] == risk["reviewed_at"]
    assert evidence["risk_review"]["overdue"] is False


def test_an_overdue_review_is_flagged__AUD_6(proc, clock):
    """Past its next date a review is overdue; without any review, a year after init."""
    grete = reviews.ReviewsService(login(proc, "grete").session)
    grete.record(reviews.RISK, "assessed", clock.now().date() + timedelta(days=30))
    clock.advance(timedelta(days=31))
    evidence = checks_evidence(proc, controller=None, start=None, end=None)
    assert evidence["risk_review"]["overdue"] is True
    assert evidence["policy_review"]["overdue"] is False
    clock.advance(timedelta(days=366))
    assert (
        checks_evidence(proc, controller=None, start=None, end=None)["policy_review"]["overdue"]
        is True
    )


def test_the_security_policy_is_reviewed_at_least_yearly__AUD_6(proc, clock):
    """A next date beyond a year, in the past, or missing for the risk review is refused."""
    grete = reviews.ReviewsService(login(proc, "grete").session)
    today = clock.now().date()
    with pytest.raises(InvalidInputError, match="at most"):
        grete.record(reviews.POLICY, "reviewed", today + timedelta(days=400))
    with pytest.raises(InvalidInputError, match="after today"):
        grete.record(reviews.POLICY, "reviewed", date(2020, 1, 1))
    with pytest.raises(InvalidInputError, match="--next"):
        grete.record(reviews.RISK, "assessed", None)
    with pytest.raises(InvalidInputError, match="text"):
        grete.record(reviews.RISK, " ", today + timedelta(days=1))
    with pytest.raises(AccessDeniedError):
        reviews.ReviewsService(login(proc, "sam").session).record(reviews.POLICY, "x", None)
