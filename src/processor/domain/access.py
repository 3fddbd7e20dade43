"""Staff access to a controller's personal data: grants, reveals and logged views (ACC-4..ACC-7).

A grant is requested by a processor staff member with a reason, approved by the controller (or
automatically under its standing instruction), limited in time and scope, and can be revoked.
Every reveal is an event on the grant, stored *before* anything is shown.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import RefusedError

PENDING, APPROVED, DENIED, REVOKED = "pending", "approved", "denied", "revoked"


class AccessGrant(ProcessorAggregate):
    """A reasoned, time-limited permission for one staff member to see identifying data."""

    @event("AccessRequested")
    def __init__(
        self,
        actor: str,
        controller: str,
        reason: str,
        contacts: list[str],
        hours: int,
        policy_version: str,
    ) -> None:
        self.staff = actor
        self.controller = controller
        self.reason = reason
        self.contacts = list(contacts)
        self.hours = hours
        self.state = PENDING
        self.approved_at: datetime | None = None
        self.decided_by: str | None = None
        self.automatic = False
        self.reveals = 0

    def _must_be(self, *states: str) -> None:
        if self.state not in states:
            raise RefusedError(
                f"the grant is {self.state}, not {' or '.join(states)}", rule="GrantState"
            )

    def approve(self, actor: str, automatic: bool, instruction: str) -> None:
        """Approve a pending request (by the controller, or by its standing instruction)."""
        self._must_be(PENDING)
        self._approved(actor=actor, automatic=automatic, instruction=instruction)

    @event("AccessApproved")
    def _approved(self, actor: str, automatic: bool, instruction: str) -> None:
        self.state = APPROVED
        self.approved_at = self.modified_on
        self.decided_by = actor
        self.automatic = automatic

    def deny(self, actor: str, reason: str) -> None:
        """Deny a pending request."""
        self._must_be(PENDING)
        self._denied(actor=actor, reason=reason)

    @event("AccessRequestDenied")
    def _denied(self, actor: str, reason: str) -> None:
        self.state = DENIED
        self.decided_by = actor

    def revoke(self, actor: str, reason: str) -> None:
        """Revoke a pending or approved grant."""
        self._must_be(PENDING, APPROVED)
        self._revoked(actor=actor, reason=reason)

    @event("AccessGrantRevoked")
    def _revoked(self, actor: str, reason: str) -> None:
        self.state = REVOKED

    @property
    def expires_at(self) -> datetime | None:
        """When an approved grant stops working."""
        return None if self.approved_at is None else self.approved_at + timedelta(hours=self.hours)

    def is_active(self, at: datetime) -> bool:
        """Approved, not revoked, and not yet expired at `at`."""
        expires = self.expires_at
        return self.state == APPROVED and expires is not None and at < expires

    def covers(self, contact_id: str) -> bool:
        """Whether the grant's scope includes the contact (empty scope: the whole controller)."""
        return not self.contacts or contact_id in self.contacts

    @event("PersonalDataRevealed")
    def record_reveal(
        self, actor: str, controller: str, contact: str, fields: list[str], reason: str
    ) -> None:
        """Log a reveal: staff member, controller, contact, fields, grant, reason, time (ACC-6)."""
        self.reveals += 1


class DataAccessRecord(ProcessorAggregate):
    """One logged read of personal data outside a grant.

    A pseudonymised support view, or a controller user's read of a single subject. One aggregate
    per read keeps writes cheap and no aggregate grows without bound. A support view names the
    controller's support case it serves and the staff member's reason, sealed with the
    controller's records key (ACC-4, ACC-6: date, reason and representative); records from
    before they were asked for have neither, hence the defaults.
    """

    @event("PersonalDataViewed")
    def __init__(
        self,
        actor: str,
        controller: str,
        contact: str | None,
        scope: str,
        command: str,
        case: str = "",
        reason: str = "",
    ) -> None:
        self.actor = actor
        self.controller = controller
        self.contact = contact
        self.scope = scope
        self.command = command
        self.case = case
        self.reason = reason


class SampleCheck(ProcessorAggregate):
    """A random sample check of the access log, with its findings (ACC-7)."""

    @event("AccessLogSampleChecked")
    def __init__(
        self,
        actor: str,
        seed: int,
        since: str | None,
        population: int,
        entries: list[dict[str, object]],
        violations: int,
        policy_version: str,
    ) -> None:
        self.actor = actor
        self.entries = entries
        self.violations = violations
