"""Users of the processor: the processor's staff and the controllers' representatives (ACC-9)."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from processor.domain.base import ProcessorAggregate
from processor.domain.ids import user_id


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

    @event("UserReviewed")
    def review(self, actor: str, note: str) -> None:
        """Record a periodic review of this person's authorisation (ACC-2)."""
        self.last_review = self.modified_on

    @event("UserAccessRevoked")
    def revoke(self, actor: str, reason: str) -> None:
        """Withdraw all access from this moment, including grants held (ACC-2)."""
        self.revoked = True

    @event("UserLocked")
    def lock(self, actor: str, attempts: int, window_minutes: int) -> None:
        """Block the user after repeated refused attempts (ACC-8)."""
        self.locked = True

    @event("UserUnlocked")
    def unlock(self, actor: str, note: str) -> None:
        """A GDPA lifts a lockout; earlier refusals no longer count towards the next one."""
        self.locked = False
        self.unlocked_at = self.modified_on

    @property
    def is_processor_staff(self) -> bool:
        """Processor staff have no controller."""
        return self.controller is None
