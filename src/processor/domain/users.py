"""Users of the processor: the processor's staff and the controllers' representatives (ACC-9)."""

from __future__ import annotations

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

    @property
    def is_processor_staff(self) -> bool:
        """Processor staff have no controller."""
        return self.controller is None
