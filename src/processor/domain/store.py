"""The store aggregate: what kind of data directory this is.

Its creation is the first event of every store. Whether the store is a simulation is a recorded
fact, not a setting, so no report or receipt from a simulation can pass as real.
"""

from __future__ import annotations

from eventsourcing.domain import event

from processor.domain.ids import store_id
from processor.kernel.aggregate import ProcessorAggregate


class Store(ProcessorAggregate):
    """The data directory / database as a whole."""

    @staticmethod
    def create_id(*_: object, **__: object) -> object:  # type: ignore[override]
        """There is exactly one store aggregate."""
        return store_id()

    @event("StoreInitialised")
    def __init__(
        self,
        actor: str,
        simulation: bool,
        profile: str,
        processor_name: str,
        policy_version: str,
    ) -> None:
        self.actor = actor
        self.simulation = simulation
        self.profile = profile
        self.processor_name = processor_name
        self.policy_version = policy_version

    @event("LedgerOriginChosen")
    def choose_ledger_origin(self, actor: str, origin: str) -> None:
        """Fix the origin line the ledger signs under for the rest of the store's life (AUD-4).

        Recorded once, at `init`, for stores made since origins name the signing key. A store
        without this event is older and keeps the legacy origin its checkpoints carry.
        """
        self.actor = actor
        self.ledger_origin = origin

    @event("CheckpointLogReanchored")
    def reanchor_checkpoint_log(
        self, actor: str, log_size: int | None, store_size: int, reason: str
    ) -> None:
        """The GDPA started the outside checkpoint log again from the store's current checkpoint.

        `log_size` is what the log held before (0: missing or empty; None: unreadable), and
        `store_size` the largest tree size the store had published; `reason` is sealed.
        """
        self.actor = actor
        self.checkpoint_log_reanchors = getattr(self, "checkpoint_log_reanchors", 0) + 1

    @event("OrphanSubjectKeysDestroyed")
    def record_orphan_keys_destroyed(
        self, actor: str, subject_ids: list[str], keys: int, older_than_minutes: int
    ) -> None:
        """Record that subject keys no event created a subject for were destroyed (RET-5).

        The ids are the keys' own (random, never a person's data); the projector destroys the
        keys when it applies this event, so a repair that died after recording it completes.
        """
