"""Users of the processor: the processor's staff and the controllers' representatives (ACC-9)."""

from __future__ import annotations

from datetime import datetime, timedelta

from eventsourcing.domain import event

from processor.domain.ids import user_id
from processor.kernel.aggregate import ProcessorAggregate


class User(ProcessorAggregate):
    """A person who runs commands, with one role in one scope."""

    @staticmethod
    def create_id(name: str, **_: object) -> object:  # type: ignore[override]
        """Users are identified by name."""
        return user_id(name)

    @event("UserAdded")
    def __init__(
        self,
        actor: str,
        name: str,
        role: str,
        controller: str | None,
        confidentiality_signed: str | None,
        trained: str | None,
    ) -> None:
        self.name = name
        self.role = role
        self.controller = controller
        self.confidentiality_signed = confidentiality_signed
        self.trained = trained
        self.created_by = actor
        self.revoked = False
        self.locked = False
        self.last_review = self.created_on
        self.unlocked_at: datetime | None = None
        self.credential_id: str | None = None
        self.credential_digest: str | None = None
        self.revoked_credential_digest: str | None = None
        self.credential_handed_over = False
        # The IT-security policy version this person last acknowledged (ACC-15).
        self.security_policy: str | None = None
        self.refusals: list[datetime] = []

    @event("CredentialIssued")
    def issue_credential(
        self, actor: str, credential_id: str, digest: str, rotated: bool, handed_over: bool
    ) -> None:
        """Give the person a new credential; only its digest is kept, and any older one dies.

        `handed_over` marks a controller user's credential that the processor's staff issued
        (at registration, or on a recorded request): its holder must replace it with one of
        their own before acting, so nobody at the processor can act under their name (ACC-13).
        """
        self.credential_id = credential_id
        self.credential_digest = digest
        self.credential_handed_over = handed_over

    @event("SecurityPolicyAcknowledged")
    def acknowledge_security_policy(self, actor: str, version: str) -> None:
        """Record that the person read and acknowledged this version of the IT-security policy.

        Processor staff do nothing else until they acknowledged the version in force (ACC-15).
        """
        self.security_policy = version

    @event("StaffUndertakingRecorded")
    def record_undertaking(self, actor: str, confidentiality_signed: str, trained: str) -> None:
        """Record the confidentiality undertaking and training a staff member gave (ACC-1)."""
        self.confidentiality_signed = confidentiality_signed
        self.trained = trained

    @event("AccessRefusalCounted")
    def count_refusal(self, actor: str, rule: str, command: str) -> None:
        """Count a refused attempt of access towards this user's lockout (ACC-8).

        Kept on the user itself, so the lockout is decided from ledger-covered events and not
        from a read model a database administrator could edit.
        """
        self.refusals.append(self.modified_on)

    @event("UserReviewed")
    def review(self, actor: str, note: str) -> None:
        """Record a periodic review of this person's authorisation (ACC-2)."""
        self.last_review = self.modified_on

    @event("UserAccessRevoked")
    def revoke(self, actor: str, reason: str) -> None:
        """Withdraw all access from this moment, credentials and grants held included (ACC-2)."""
        self.revoked = True
        self.revoked_credential_digest = self.credential_digest
        self.credential_id = None
        self.credential_digest = None

    @event("UserLocked")
    def lock(self, actor: str, attempts: int, window_minutes: int) -> None:
        """Block the user after repeated refused attempts (ACC-8)."""
        self.locked = True

    @event("UserUnlocked")
    def unlock(self, actor: str, note: str) -> None:
        """A GDPA lifts a lockout; earlier refusals no longer count towards the next one."""
        self.locked = False
        self.unlocked_at = self.modified_on

    def refusals_since(self, since: datetime) -> int:
        """How many counted refusals happened at or after `since` (and after the last unlock)."""
        start = max(since, self.unlocked_at or self.created_on)
        return sum(1 for at in self.refusals if at >= start)

    def should_lock(self, now: datetime, attempts: int, window: timedelta) -> bool:
        """Whether the refusals in the window reach the policy's limit (ACC-8)."""
        return (
            not self.locked and not self.revoked and self.refusals_since(now - window) >= attempts
        )

    @property
    def is_processor_staff(self) -> bool:
        """Processor staff have no controller."""
        return self.controller is None
