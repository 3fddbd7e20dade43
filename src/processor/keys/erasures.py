"""The events decide who is erased, whatever the key store says (RET-5, AUD-4, SUBJ-4).

The key store lives outside the ledger. A database administrator who saved a subject's key row
before its erasure can insert it again afterwards and delete the tombstone; a sealer that
believed the key store would then open the erased contact as if nothing had happened. The
events are different: every record carries a MAC under a key-store key and the ledger signs
their order, so a `ContactErased` can be neither forged nor quietly removed.

So whenever the key store offers a *live* key for a subject, the sealer asks this register
whether the events erased that subject. It is one query on the events' primary key per batch
of subjects (the few hundred of an export page, the one of `contacts show`), not a scan of the
log, and subjects whose key is already gone are never asked about.

An erasure whose event the projector has not applied yet is *pending*: the command that
recorded it died before destroying the key, and the projector destroys it when it applies
the event. Such a key is not decrypted either, but it is no sign of tampering. An erasure the
projector has applied (its key was destroyed then) with a key alive again is *settled*: the
key was put back, and every read of that subject is an integrity failure naming the doctor.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Final

from eventsourcing.utils import get_topic

from processor.domain.contacts import Contact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from processor.storage.eventstore import EventStore

CONTACT_ERASED: Final = get_topic(Contact.__dict__["ContactErased"])
"""The stored topic of a contact's erasure: the subject id is the contact's own id."""


class ErasureRegister:
    """Answers "did the events erase these subjects?" from the MAC-checked event records."""

    def __init__(self, store: EventStore, projected: Callable[[], int]) -> None:
        """`projected` tells how far the projector has applied the log (its position)."""
        self._store = store
        self._projected = projected

    def erased_among(self, subject_ids: Iterable[str]) -> dict[str, bool]:
        """The subjects among `subject_ids` that the events erased, each with "settled".

        Settled means the projector has applied the erasure, so its key was destroyed then;
        a key alive for it now was put back. Ids that are no aggregate's (records keys,
        message keys) are never a contact and cost no query.
        """
        by_uuid: dict[uuid.UUID, str] = {}
        for sid in subject_ids:
            try:
                by_uuid[uuid.UUID(sid)] = sid
            except ValueError:
                continue
        if not by_uuid:
            return {}
        positions = self._store.positions_of(list(by_uuid), CONTACT_ERASED)
        if not positions:
            return {}
        applied = self._projected()
        return {by_uuid[oid]: position <= applied for oid, position in positions.items()}
