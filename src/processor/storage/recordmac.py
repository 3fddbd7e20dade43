"""Every stored event record carries a MAC under a key the events database does not hold (AUD-4).

The ledger proves that signed records were not changed, but a record appended by SQL after the
newest checkpoint looks exactly like one a command saved and then died before signing, and the
next writing command would sign it: one inserted `UserAdded` row would create a GDPA. So every
record is written with an HMAC-SHA256, under a key kept in the key store (wrapped by the master
key), over its aggregate id, version, topic and state. Reading a record checks it: a forged or
moved record is an integrity failure, never an event. The ledger checks the MACs of new records
before it signs them and of every record when it verifies, so a record nobody with the key wrote
is refused at its position.

The MAC is a persistence concern, applied by the mapper (the library's own extension point), so
domain code and the ledger's leaf hashing are unchanged: a leaf covers the record as stored,
MAC included.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from processor.kernel.errors import IntegrityFailureError

if TYPE_CHECKING:
    from collections.abc import Callable

    from eventsourcing.domain import DomainEventProtocol

RECORD_KEY_NAME: Final = "record-mac"
_TAG: Final = b"rmac1"
_MAC_BYTES: Final = 32


def record_mac(key: bytes, originator_id: object, version: int, topic: str, state: bytes) -> bytes:
    """The MAC binding a record's state to its aggregate, version and topic."""
    message = b"\x00".join(
        (b"processor-record-v1", str(originator_id).encode(), str(version).encode(),
         topic.encode(), state)
    )  # fmt: skip
    return hmac.digest(key, message, "sha256")  # one-shot: the same MAC, a third of the time


def split(key: bytes, originator_id: object, version: int, topic: str, state: bytes) -> bytes:
    """The state without its MAC; IntegrityFailureError when the MAC is missing or wrong."""
    if not state.startswith(_TAG) or len(state) < len(_TAG) + _MAC_BYTES:
        raise IntegrityFailureError(
            f"stored record {originator_id} v{version} has no record MAC: it was not written by "
            "this processor"
        )
    mac, body = state[len(_TAG) : len(_TAG) + _MAC_BYTES], state[len(_TAG) + _MAC_BYTES :]
    if not hmac.compare_digest(mac, record_mac(key, originator_id, version, topic, body)):
        raise IntegrityFailureError(
            f"stored record {originator_id} v{version} fails its record MAC: forged, altered or "
            "moved"
        )
    return body


class MacMapper(Mapper[UUID]):
    """The library's mapper, with a record MAC added on write and checked on read."""

    def __init__(self, inner: Mapper[UUID]) -> None:
        super().__init__(
            transcoder=inner.transcoder, cipher=inner.cipher, compressor=inner.compressor
        )
        self._key_source: Callable[[], bytes] | None = None
        self._key: bytes | None = None

    def use_key(self, key_source: Callable[[], bytes]) -> None:
        """Take the MAC key from the key store (fetched once, when first needed)."""
        self._key_source = key_source
        self._key = None

    def key(self) -> bytes:
        """The MAC key; without one nothing can be written or trusted."""
        if self._key is None:
            if self._key_source is None:
                raise IntegrityFailureError("the record MAC key is not available")
            self._key = self._key_source()
        return self._key

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """The record as the library would store it, with its MAC in front of the state."""
        stored = super().to_stored_event(domain_event)
        state = bytes(stored.state)
        mac = record_mac(
            self.key(), stored.originator_id, stored.originator_version, stored.topic, state
        )
        return StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=_TAG + mac + state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """The event, only if its record MAC holds."""
        body = split(
            self.key(),
            stored_event.originator_id,
            stored_event.originator_version,
            stored_event.topic,
            _bytes(stored_event.state),
        )
        inner = StoredEvent(
            originator_id=stored_event.originator_id,
            originator_version=stored_event.originator_version,
            topic=stored_event.topic,
            state=body,
        )
        return super().to_domain_event(inner)

    def check(self, originator_id: object, version: int, topic: str, state: Any) -> None:  # noqa: ANN401
        """Raise IntegrityFailureError unless the stored record's MAC holds (ledger checks)."""
        split(self.key(), originator_id, version, topic, _bytes(state))


def _bytes(state: Any) -> bytes:  # noqa: ANN401 - a driver may hand back memoryview or text
    if isinstance(state, bytes | bytearray | memoryview):
        return bytes(state)
    raise IntegrityFailureError("a stored record's state is not bytes: the column was rewritten")
