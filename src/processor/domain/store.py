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

    @event("SecurityPolicyChanged")
    def record_security_policy(self, actor: str, version: str, previous: str | None) -> None:
        """Record the IT-security policy version in force from now on (ACC-15).

        Recorded at `init`, and when a person first acknowledges a version the store had not
        seen: the event dates the change that everyone with access must acknowledge.
        """
        self.security_policy = version

    @event("GdpaAppointed")
    def appoint_gdpa(self, actor: str, gdpa: str, starts: str, ends: str, renewal: bool) -> None:
        """Record the GDPA's appointment and its term, ISO dates, `ends` exclusive (ACC-16).

        A renewal is a new appointment of the same person for a further term; an expired one
        is a deviation until renewed.
        """
        self.gdpa_appointment = {"gdpa": gdpa, "starts": starts, "ends": ends}
        self.gdpa_renewals = getattr(self, "gdpa_renewals", 0) + (1 if renewal else 0)

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
