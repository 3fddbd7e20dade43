"""The ledger over this store's event log (AUD-4): leaves, signed checkpoints, proofs, receipts.

`extend()` runs in every command's commit path: it appends the leaf hash of each new stored
event record (sealed bytes, never plaintext, so erasure leaves every proof valid) and signs one
checkpoint for the command, in one transaction. The signing key lives in the key store.

Before it signs, it proves the new tree consistent with the newest checkpoint it can find
anywhere: the store's own checkpoints table and the checkpoint log kept outside the database
(`checkpoint_log_path`). Someone who deleted records together with their ledger rows could
otherwise get the next command to sign the shortened or rewritten history; now that command
refuses (exit 3) and names the gap. Every signed checkpoint is appended to the outside log.

Whole-log verification and witnesses build on this (`processor.link.verify`,
`processor.link.witness`); `processor.link.service.LedgerService` joins the three.
"""

from __future__ import annotations

import contextlib
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ledger import (
    Checkpoint,
    CheckpointError,
    CheckpointLog,
    LeafRecord,
    MerkleTree,
    Signer,
    SqlNodeStore,
    Verifier,
    add_signature_lines,
    consistency_extension,
    issue_receipt,
    parse_checkpoint,
    verify_checkpoint,
)
from ledger.sqlstore import raw_insert
from ledger.tree import frontier
from ledger.verifiedmark import mark_key
from processor.kernel.errors import (
    ConfigurationError,
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
)
from processor.link.custody import LogCustody
from processor.link.origin import store_origin, unique_origin
from processor.link.tables import (
    CHECKPOINT_LOG_ENV,
    checkpoint_log_path,
    checkpoints,
    cosignatures,
    head_lock,
    leaves,
    metadata,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from eventsourcing.persistence import Recording

    from processor.config import Settings
    from processor.domain.store import Store
    from processor.keys import KeyStore
    from processor.storage.eventstore import EventStore

SIGNING_KEY = "ledger-signing-ed25519"
PAGE = 2000


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A checkpoint the store must extend, and where it came from (for the error message)."""

    checkpoint: Checkpoint
    signed_at: str
    source: str


def _handed_records(recent: Sequence[Recording[Any]]) -> dict[int, LeafRecord]:
    """The records a command saved, by position, as the ledger hashes them (as stored)."""
    handed: dict[int, LeafRecord] = {}
    for recording in recent:
        n = recording.notification
        handed[n.id] = LeafRecord(
            position=n.id,
            originator_id=str(n.originator_id),
            originator_version=n.originator_version,
            topic=n.topic,
            state=bytes(n.state),
        )
    return handed


class LedgerKeeper:
    """Keeps the Merkle tree in step with the event store and answers for it.

    Built from the parts it uses, not from the `Processor`: the ledger's engine, the event
    store whose records it signs, the key store that holds its signing key, the settings (where
    the checkpoint log is), the clock, and the store aggregate (the origin and simulation flag
    recorded in it), read when asked for because `init` records them after this is built.
    """

    def __init__(
        self,
        *,
        engine: sa.Engine,
        store: EventStore,
        keys: KeyStore,
        settings: Settings,
        now: Callable[[], datetime],
        store_info: Callable[[], Store],
    ) -> None:
        self.engine = engine
        self.store = store
        self.keys = keys
        self.settings = settings
        self.now = now
        self._store_info = store_info
        self.nodes = SqlNodeStore(self.engine)
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(sa.select(head_lock.c.name)).first() is None:
                conn.execute(head_lock.insert(), {"name": "head", "writes": 0})
        self._signer: Signer | None = None
        self._origin: str | None = None
        # The newest position signed as this process last saw it in `extend` (a lower bound of
        # `signed_position()`, which costs a query): what a command projects up to.
        self.last_signed = 0
        # Set while a GDPA's re-anchoring commits: the log is started again (ledgercustody).
        self._restart: Restart | None = None

    # -- keys ------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """The log's origin line, fixed for the store's life (see `processor.link.origin`).

        The origin recorded at `init` (`LedgerOriginChosen`: a name plus the signing key's
        hash, unique per store); a store made before that event existed keeps its legacy one.
        """
        if self._origin is None:
            self._origin = store_origin(self._store_info())
        return self._origin

    def key_origin(self, processor_name: str) -> str:
        """The unique origin this store's signing key gives (recorded at `init`)."""
        raw = self.keys.system_key(SIGNING_KEY, create=False)
        return unique_origin(processor_name, raw)

    def ensure_signing_key(self) -> None:
        """Create the Ed25519 signing key (at `init`)."""
        self.keys.system_key(SIGNING_KEY, at=self.now())

    def signer(self) -> Signer:
        """The checkpoint signer (Ed25519, from the key store)."""
        if self._signer is None:
            raw = self.keys.system_key(SIGNING_KEY, create=False)
            self._signer = Signer.from_private_bytes(self.origin, raw)
        return self._signer

    def vkey(self) -> str:
        """The verifier key (note format) that checks checkpoints and receipts."""
        return self.signer().vkey()

    # -- writing ---------------------------------------------------------------------------------

    def records_after(
        self, after_position: int, limit: int = PAGE, stop: int | None = None
    ) -> list[LeafRecord]:
        """Stored records after `after_position` (a page), for verification and the leaves."""
        notes = self.store.recorder.select_notifications(
            start=after_position, limit=limit, stop=stop, inclusive_of_start=False
        )
        return [
            LeafRecord(
                position=n.id,
                originator_id=str(n.originator_id),
                originator_version=n.originator_version,
                topic=n.topic,
                # Kept as stored: a record whose state is not bytes (a column rewritten as TEXT)
                # must reach verification as it is, to be reported at its position.
                state=bytes(n.state) if isinstance(n.state, bytes | memoryview) else n.state,
            )
            for n in notes
        ]

    def check_macs(self, records: list[LeafRecord], *, refusing: str) -> None:
        """Refuse records without a valid record MAC: nobody with the key wrote them (AUD-4)."""
        for r in records:
            try:
                self.store.check_record(r.originator_id, r.originator_version, r.topic, r.state)
            except IntegrityFailureError as exc:
                raise IntegrityFailureError(
                    f"the record at position {r.position} was not written by this processor "
                    f"({exc}); {refusing}"
                ) from None

    def checkpoint_log(self) -> CheckpointLog:
        """The append-only checkpoint log outside the database.

        Its "verified up to" mark is MACed under a key derived from the signing key, so only
        someone who could sign checkpoints could make a process skip checking a line.
        """
        return CheckpointLog(
            checkpoint_log_path(self.settings),
            mark_key=lambda: mark_key(self.signer().private_bytes()),
        )

    def note_verifier(self) -> Verifier:
        """The ledger's own verifier key, as `verify` and the checkpoint log check notes with it."""
        return Verifier.from_vkey(self.vkey())

    def _newest_stored(self, conn: sa.Connection) -> sa.Row[Any] | None:
        return conn.execute(
            sa.select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1)
        ).first()

    def _anchors(self, row: sa.Row[Any] | None) -> list[Anchor]:
        """The newest checkpoint in the store's table (`row`) and in the outside log, checked."""
        found: list[Anchor] = []
        verifier = self.note_verifier()
        if row is not None:
            try:
                cp = verify_checkpoint(row.note, verifier, origin=self.origin)
            except CheckpointError as exc:
                raise IntegrityFailureError(
                    f"the newest stored checkpoint (size {row.size}) does not verify: {exc}"
                ) from None
            found.append(Anchor(cp, row.signed_at.isoformat(), "the store's checkpoints table"))
        if self._restart is not None:
            return found  # the old log is set aside, unread: the GDPA re-anchors (ledgercustody)
        log = self.checkpoint_log()
        try:
            entry = log.newest(verifier, self.origin)
        except CheckpointError as exc:
            raise IntegrityFailureError(str(exc)) from None
        custody = LogCustody(
            log.path,
            0 if row is None else int(row.size),
            log.path.exists(),
            None if entry is None else entry.checkpoint.size,
        )
        problem = custody.problem()
        if problem is not None:
            raise IntegrityFailureError(f"{problem}; refusing to sign")
        if entry is not None:
            found.append(Anchor(entry.checkpoint, entry.signed_at, f"checkpoint log {log.path}"))
        return found

    def custody(self, *, tolerate_unreadable: bool = False) -> LogCustody:
        """What the store published (its newest checkpoint) against what its log holds now.

        An unreadable or edited log raises IntegrityFailureError, unless `tolerate_unreadable`
        (re-anchoring), where it counts as holding nothing.
        """
        with self.engine.connect() as conn:
            row = self._newest_stored(conn)
        log = self.checkpoint_log()
        try:
            entry = log.newest(self.note_verifier(), self.origin)
        except CheckpointError as exc:
            if not tolerate_unreadable:
                raise IntegrityFailureError(str(exc)) from None
            entry = None
        return LogCustody(
            log.path,
            0 if row is None else int(row.size),
            log.path.exists(),
            None if entry is None else entry.checkpoint.size,
        )

    def publish_head(self) -> bool:
        """Append the newest stored checkpoint to a log that is behind it (a restore only).

        A restore has just checked the backup against every outside log it knows
        (`backup.verify`) and is itself the authorised, reported act that moves the store; its
        log (new for a new location, or set aside by `--accept-loss`) starts at the restored
        head. True if it was appended.
        """
        custody = self.custody()
        if not custody.behind:
            return False
        self.publish_checkpoint(self.checkpoint_note(custody.published), self.head()["signed_at"])
        return True

    @contextlib.contextmanager
    def reanchoring(self) -> Iterator[Restart]:
        """While a GDPA's re-anchoring commits: the log is set aside and started again.

        Only `processor.services.ledger.reanchor` uses it, after recording why.
        """
        self._restart = Restart()
        try:
            yield self._restart
        finally:
            self._restart = None

    def _adopt_published(
        self, conn: sa.Connection, tree: MerkleTree, stored: int, new_size: int
    ) -> None:
        """Keep checkpoints the log holds beyond the store's (a crash after publishing).

        A checkpoint is appended to the log before its transaction commits; if the commit never
        happened, the log holds a checkpoint the store lacks. It is this key's, and the tree
        about to be signed extends it (checked here), so the store keeps it: `ledger verify`
        then finds every checkpoint of the log in the store again.
        """
        log = self.checkpoint_log()
        for entry in log.entries(self.note_verifier(), self.origin):
            cp = entry.checkpoint
            if not stored < cp.size < new_size:
                continue
            if tree.root(cp.size) != cp.root:
                raise IntegrityFailureError(
                    f"the store's first {cp.size} records are not the ones in the checkpoint "
                    f"of size {cp.size} signed at {entry.signed_at} (checkpoint log {log.path} "
                    f"line {entry.line}): history was rewritten; refusing to sign"
                )
            exists = conn.execute(
                sa.select(checkpoints.c.size).where(checkpoints.c.size == cp.size)
            ).first()
            if exists is None:
                conn.execute(
                    checkpoints.insert(),
                    {"size": cp.size, "note": cp.note_text, "signed_at": _when(entry.signed_at)},
                )

    def _check_signed_tail(
        self, row: sa.Row[Any] | None, tree: MerkleTree, size: int, last: int
    ) -> None:
        """Before signing more: what was signed last (`row`) is still there, as it was signed.

        All three are written in one transaction, so the tree size, the newest stored
        checkpoint and the newest signed record always agree on an untouched store.
        """
        stored = 0 if row is None else int(row.size)
        if stored != size:
            raise IntegrityFailureError(
                f"the ledger holds {size} leaves but its newest stored checkpoint is of size "
                f"{stored}: a checkpoint was removed or the tree edited; refusing to sign"
            )
        if size == 0:
            return
        records = self.records_after(last - 1, 1)
        leaf = tree.leaf_hashes(size - 1, size).get(size - 1)
        try:
            intact = (
                bool(records) and records[0].position == last and records[0].leaf_hash() == leaf
            )
        except (TypeError, ValueError, AttributeError):
            intact = False
        if not intact:
            raise IntegrityFailureError(
                f"the newest signed record (position {last}, leaf {size - 1}) is missing or "
                "altered in the event store; refusing to sign"
            )

    def _check_extends(self, tree: MerkleTree, new_size: int, anchors: list[Anchor]) -> None:
        """The tree about to be signed must extend every checkpoint seen (a consistency check)."""
        for anchor in anchors:
            cp = anchor.checkpoint
            if cp.size > new_size:
                raise IntegrityFailureError(
                    f"store has {new_size} records but checkpoint of size {cp.size} was signed "
                    f"at {anchor.signed_at} ({anchor.source}): records were removed; "
                    "refusing to sign"
                )
            if tree.root(cp.size) != cp.root:
                raise IntegrityFailureError(
                    f"the store's first {cp.size} records are not the ones in the checkpoint of "
                    f"size {cp.size} signed at {anchor.signed_at} ({anchor.source}): history "
                    "was rewritten; refusing to sign"
                )

    def _store_end(self) -> int:
        return int(self.store.recorder.max_notification_id() or 0)

    def signed_position(self) -> int:
        """The position of the newest record the ledger has signed (0 before the first)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(leaves.c.position))).scalar() or 0)

    def extend(self, recent: Sequence[Recording[Any]] = ()) -> int:
        """Append every stored event not yet in the tree, check, then sign one checkpoint.

        `recent` are the recordings the command just saved (`Processor.commit`): where they
        cover the positions after the signed one contiguously, their records are hashed as
        handed, with no read back and no record-MAC check (this process has just computed
        those MACs). Every other position (another writer's record, a record of a command that
        died before signing, a gap) is read back and MAC-checked as always.
        """
        handed = _handed_records(recent)
        with self.engine.begin() as conn:
            conn.execute(head_lock.update().values(writes=head_lock.c.writes + 1))
            # Under the head lock: nodes and size read once for the whole extend.
            tree = MerkleTree(self.nodes.bind(conn, cached=True))
            last = conn.execute(sa.select(sa.func.max(leaves.c.position))).scalar() or 0
            self.last_signed = last
            end = self._store_end()
            if end == last:
                return 0
            size = tree.size()
            if size:
                # The tail check's leaf and the frontier `append` extends, in one query.
                tree.store.get_nodes([(0, size - 1), *frontier(size)])
            if end < last:
                raise IntegrityFailureError(
                    f"the event store ends at position {end} but the ledger signed records up to "
                    f"position {last} (leaf {size - 1}): records removed from the tail"
                )
            # Read once, under the head lock: the tail check and the anchors share it.
            newest = self._newest_stored(conn)
            self._check_signed_tail(newest, tree, size, last)
            added = 0
            # Up to `end`, the end seen under the head lock: events committed after it are
            # signed by their own command's extend, which waits for this lock.
            while last < end and (records := self._next_records(handed, last, end)):
                try:
                    hashes = [r.leaf_hash() for r in records]
                except (TypeError, ValueError, AttributeError) as exc:
                    raise IntegrityFailureError(
                        f"a stored record after position {last} is malformed: {exc}"
                    ) from None
                if records[0].position not in handed:  # a page read back from the store
                    self.check_macs(records, refusing="refusing to sign it")
                tree.append(hashes)
                raw_insert(
                    conn,
                    leaves,
                    ("leaf_index", "position"),
                    [(size + added + i, r.position) for i, r in enumerate(records)],
                )
                added += len(records)
                last = records[-1].position
            if not added:
                return 0
            new_size = size + added
            anchors = self._anchors(newest)
            self._check_extends(tree, new_size, anchors)
            if any(a.checkpoint.size > size for a in anchors):
                self._adopt_published(conn, tree, size, new_size)
            note = self.signer().sign_checkpoint(self.origin, new_size, tree.root(new_size))
            signed_at = self.now()
            conn.execute(
                checkpoints.insert(), {"size": new_size, "note": note, "signed_at": signed_at}
            )
            if self._restart is not None:
                self._restart.set_aside(self.checkpoint_log().path, signed_at)
            # Published before the commit: a crash in between leaves the log ahead of the store
            # (kept by the next signer), never behind it (which `ledgercustody` reports).
            self.publish_checkpoint(note, signed_at.isoformat())
        self.last_signed = last
        return added

    def _next_records(self, handed: dict[int, LeafRecord], last: int, end: int) -> list[LeafRecord]:
        """The next records to sign after position `last`: a run of handed ones, else a page.

        A position not handed is read back from the store, exactly as without handed records,
        except that the page stops before the next handed position (a command's own records
        are never read back). A run of handed records starts at the first position after the
        read-back ones (the notification ids may skip a number: a rolled-back insert) and stops
        at the first position not handed.
        """
        start = last + 1
        if start not in handed:
            later = [p for p in handed if p > last]
            if not later:
                return self.records_after(last)
            page = self.records_after(last, stop=min(later) - 1)
            if page:
                return page
            start = min(later)
        run: list[LeafRecord] = []
        while start <= end and (record := handed.get(start)) is not None:
            run.append(record)
            start += 1
        return run

    def publish_checkpoint(self, note: str, signed_at: str) -> None:
        """Append a signed checkpoint to the outside log (before the database commits it)."""
        log = self.checkpoint_log()
        try:
            log.append(note, signed_at)
        except OSError as exc:
            raise ConfigurationError(
                f"the checkpoint was signed but cannot be appended to {log.path}: {exc}; "
                f"set {CHECKPOINT_LOG_ENV} to a writable file"
            ) from None

    # -- reading ---------------------------------------------------------------------------------

    def simulation(self) -> bool:
        """Whether this is a simulation store (recorded in the store aggregate at `init`)."""
        return bool(self._store_info().simulation)

    def head(self) -> dict[str, Any]:
        """The latest signed checkpoint."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1)
            ).first()
        if row is None:
            raise NotFoundError("the ledger has no checkpoint yet")
        cp = parse_checkpoint(row.note)
        return {
            "origin": cp.origin,
            "size": cp.size,
            "root": cp.root.hex(),
            "signed_at": row.signed_at.isoformat(),
            "checkpoint": row.note,
            "simulation": self.simulation(),
        }

    def checkpoint_note(self, size: int) -> str:
        """The stored checkpoint note for exactly this tree size."""
        with self.engine.connect() as conn:
            note = conn.execute(
                sa.select(checkpoints.c.note).where(checkpoints.c.size == size)
            ).scalar()
        if note is None:
            raise NotFoundError(f"no signed checkpoint at tree size {size}")
        return str(note)

    def leaf_index(self, position: int) -> int:
        """The leaf index of the event at notification `position`."""
        with self.engine.connect() as conn:
            index = conn.execute(
                sa.select(leaves.c.leaf_index).where(leaves.c.position == position)
            ).scalar()
        if index is None:
            raise NotFoundError(f"no event at position {position} in the ledger")
        return int(index)

    def record(self, position: int) -> LeafRecord:
        """The stored record at `position`, as the ledger hashes it."""
        records = self.records_after(position - 1, 1)
        if not records or records[0].position != position:
            raise NotFoundError(f"no event at position {position}")
        return records[0]

    def prove(self, position: int) -> dict[str, Any]:
        """An inclusion proof of the event at `position` against the latest checkpoint."""
        head = self.head()
        index = self.leaf_index(position)
        tree = MerkleTree(self.nodes)
        record = self.record(position)
        return {
            "position": position,
            "leaf_index": index,
            "leaf_hash": record.leaf_hash().hex(),
            "tree_size": head["size"],
            "root": head["root"],
            "inclusion_proof": [h.hex() for h in tree.inclusion_proof(index, head["size"])],
            "checkpoint": head["checkpoint"],
        }

    def receipt(self, position: int, *, kind: str, details: dict[str, Any]) -> dict[str, Any]:
        """A signed receipt: the record, its inclusion proof and the signed checkpoint."""
        proof = self.prove(position)
        return issue_receipt(
            self.signer(),
            kind=kind,
            record=self.record(position),
            leaf_index=proof["leaf_index"],
            inclusion_proof=[bytes.fromhex(h) for h in proof["inclusion_proof"]],
            checkpoint=proof["checkpoint"],
            # The leaf hash and tree size repeat what the record and checkpoint prove, so a
            # controller can file and compare them without recomputing.
            metadata={
                "simulation": self.simulation(),
                "position": position,
                "leaf_hash": proof["leaf_hash"],
                "tree_size": proof["tree_size"],
                "details": details,
            },
        )

    def consistency(self, from_size: int, to_size: int | None = None) -> dict[str, Any]:
        """A consistency proof between two signed tree sizes, ready for offline checking."""
        target = to_size if to_size is not None else int(self.head()["size"])
        if not 0 < from_size <= target:
            raise InvalidInputError("need 0 < --from <= --to")
        old = parse_checkpoint(self.checkpoint_note(from_size))
        new_note = self.cosigned_note(target)
        proof = MerkleTree(self.nodes).consistency_proof(from_size, target)
        return consistency_extension(old, proof, new_note, target)

    def cosigned_note(self, size: int) -> str:
        """The stored checkpoint of `size` with every stored witness cosignature appended."""
        note = self.checkpoint_note(size)
        with self.engine.connect() as conn:
            lines = conn.execute(
                sa.select(cosignatures.c.line)
                .where(cosignatures.c.size == size)
                .order_by(cosignatures.c.witness)
            ).scalars()
            return add_signature_lines(note, "".join(str(line) for line in lines))

    def size(self) -> int:
        """How many events the tree holds."""
        return self.nodes.size()


class Restart:
    """A checkpoint log being started again: where the old file was kept."""

    def __init__(self) -> None:
        self.kept: Path | None = None

    def set_aside(self, path: Path, at: datetime) -> None:
        """Rename the old log (evidence, never deleted) so the next append starts a new one."""
        if self.kept is not None or not path.exists():
            return
        kept = path.with_name(f"{path.name}.before-reanchor-{at:%Y%m%dT%H%M%S%fZ}")
        path.replace(kept)
        self.kept = kept


def _when(text: str) -> datetime:
    """A checkpoint log entry's signing time (ISO 8601), for the store's checkpoints table."""
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise IntegrityFailureError(
            f"a checkpoint log entry has no valid signing time ({text[:40]!r})"
        ) from None
