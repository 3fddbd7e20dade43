"""Snapshots that cannot decide anything unless the key store vouches for them (AUD-4, ACC-8).

`eventsourcing`'s repository asks the snapshot store for *every* aggregate it loads, whatever
the aggregate's type, and starts from the newest snapshot it gets. An unchecked snapshot table is
therefore a back door for anyone with SQL access to the events database: one inserted row makes
a user who never existed, gives a bookkeeper the administrator's role or lifts a lockout, and the
ledger (which covers events, not snapshots) never notices.

The decision: keep snapshots, but cover them. The only aggregate we snapshot is the recipient
outbox, a controller's one stream of erasure, rectification and restriction notices; it grows
with every data-subject request of that controller, and without snapshots every erasure would
replay all of them. The outbox decides what a recipient still has to be told (SUBJ-5), so
"not using snapshots for anything that decides" would not exclude it either: it needs a cover.
So every snapshot row carries an HMAC-SHA256 under a key kept in the key store (wrapped by the
master key, so the events database alone cannot mint one), over the row's aggregate id, version,
topic and state: a row moved to another aggregate, relabelled to a later version or edited fails.
A snapshot whose MAC fails, or whose aggregate type is not one we snapshot (users, grants and
controllers never are), is ignored and logged; the repository then replays the events, which the
ledger covers. Ignoring rather than refusing keeps the store usable after such an attack, and
`processor doctor` reports the forged rows.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from eventsourcing.persistence import EventStore, StoredEvent

from processor.logs import get_logger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from eventsourcing.domain import DomainEventProtocol
    from eventsourcing.persistence import AggregateRecorder, Mapper, Recording

SNAPSHOT_KEY_NAME: Final = "snapshot-mac"
_TAG: Final = b"smac1"
_MAC_BYTES: Final = 32
_log = get_logger("processor.snapshots")


def snapshot_mac(key: bytes, stored: StoredEvent) -> bytes:
    """The MAC binding a snapshot row's state to its aggregate id, version and topic."""
    message = b"\x00".join(
        (
            b"processor-snapshot-v1",
            str(stored.originator_id).encode(),
            str(stored.originator_version).encode(),
            stored.topic.encode(),
            bytes(stored.state),
        )
    )
    return hmac.new(key, message, hashlib.sha256).digest()


def seal_row(key: bytes, stored: StoredEvent) -> StoredEvent:
    """The row as stored: tag and MAC in front of the mapper's state bytes."""
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=_TAG + snapshot_mac(key, stored) + bytes(stored.state),
    )


def open_row(key: bytes, stored: StoredEvent) -> StoredEvent | None:
    """The row with its MAC checked and removed, or None when the MAC is missing or wrong."""
    state = bytes(stored.state)
    if not state.startswith(_TAG) or len(state) < len(_TAG) + _MAC_BYTES:
        return None
    mac, body = state[len(_TAG) : len(_TAG) + _MAC_BYTES], state[len(_TAG) + _MAC_BYTES :]
    inner = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=body,
    )
    return inner if hmac.compare_digest(mac, snapshot_mac(key, inner)) else None


class CoveredSnapshotStore(EventStore[UUID]):
    """A snapshot store that writes MACed rows and hands back only genuine, allowed snapshots.

    Until `cover_with` gives it a key source it neither takes nor trusts any snapshot.
    """

    def __init__(
        self, mapper: Mapper[UUID], recorder: AggregateRecorder, allowed: frozenset[str]
    ) -> None:
        super().__init__(mapper, recorder)
        self.allowed = allowed
        self._key_source: Callable[[], bytes] | None = None
        self._key: bytes | None = None

    def cover_with(self, key_source: Callable[[], bytes]) -> None:
        """Use the key `key_source` returns (fetched lazily, once) for every MAC."""
        self._key_source = key_source
        self._key = None

    def _mac_key(self) -> bytes | None:
        if self._key is None and self._key_source is not None:
            self._key = self._key_source()
        return self._key

    def put(
        self,
        domain_events: Sequence[DomainEventProtocol[UUID]],
        **kwargs: Any,  # noqa: ANN401 - the library's signature
    ) -> list[Recording[UUID]]:
        """Store snapshots of allowed aggregate types, each with its MAC."""
        key = self._mac_key()
        if key is None:
            return []
        rows = [
            seal_row(key, self.mapper.to_stored_event(event))
            for event in domain_events
            if getattr(event, "topic", None) in self.allowed
        ]
        if rows:
            self.recorder.insert_events(rows, **kwargs)
        return []

    def get(
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[DomainEventProtocol[UUID]]:
        """The genuine snapshots among the stored ones; forged ones are logged and skipped."""
        key = self._mac_key()
        if key is None:
            return iter(())
        rows = self.recorder.select_events(
            originator_id=originator_id, gt=gt, lte=lte, desc=desc, limit=limit
        )
        return iter([event for row in rows if (event := self.checked(key, row)) is not None])

    def checked(self, key: bytes, row: StoredEvent) -> DomainEventProtocol[UUID] | None:
        """The snapshot in `row` if its MAC holds and its aggregate type is allowed, else None."""
        inner = open_row(key, row)
        event = self.mapper.to_domain_event(inner) if inner is not None else None
        if event is None or getattr(event, "topic", None) not in self.allowed:
            _log.warning(
                "snapshot_ignored",
                aggregate_id=str(row.originator_id),
                version=row.originator_version,
                why="bad MAC" if event is None else "aggregate type is never snapshotted",
            )
            return None
        return event

    def forged_rows(self, rows: Sequence[StoredEvent]) -> list[StoredEvent]:
        """The rows among `rows` that would be ignored (for `processor doctor`)."""
        key = self._mac_key()
        if key is None:
            return list(rows)
        return [row for row in rows if self.checked(key, row) is None]
