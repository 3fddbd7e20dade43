"""The ledger over this store's event log (AUD-4): leaves, signed checkpoints, proofs, receipts.

`extend()` runs in every command's commit path: it appends the leaf hash of each new stored
event record (sealed bytes, never plaintext, so erasure leaves every proof valid) and signs one
checkpoint for the command, in one transaction. The signing key lives in the key store.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ledger import (
    LeafRecord,
    MerkleTree,
    Signer,
    SqlNodeStore,
    Verifier,
    VerifyReport,
    consistency_extension,
    issue_receipt,
    parse_checkpoint,
    verify_log,
)
from processor.errors import InvalidInputError, NotFoundError
from processor.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from processor.app import Processor

SIGNING_KEY = "ledger-signing-ed25519"
PAGE = 2000

metadata = sa.MetaData()
leaves = sa.Table(
    "ledger_leaves",
    metadata,
    sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("position", sa.BigInteger, nullable=False, unique=True),
)
checkpoints = sa.Table(
    "ledger_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("signed_at", UTCDateTime(), nullable=False),
)
head_lock = sa.Table(
    "ledger_lock",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("writes", sa.BigInteger, nullable=False),
)


class LedgerService:
    """Keeps the Merkle tree in step with the event store and answers for it."""

    def __init__(self, proc: Processor) -> None:
        self.proc = proc
        self.engine = proc.engines.ledger
        self.nodes = SqlNodeStore(self.engine)
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            if conn.execute(sa.select(head_lock.c.name)).first() is None:
                conn.execute(head_lock.insert(), {"name": "head", "writes": 0})
        self._signer: Signer | None = None
        self._origin: str | None = None

    # -- keys ------------------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """The log's origin line: the processor's name and this store's id (never changes)."""
        if self._origin is None:
            info = self.proc.store_info()
            self._origin = f"{info.processor_name}/ledger/{str(info.id)[:8]}"
        return self._origin

    def ensure_signing_key(self) -> None:
        """Create the Ed25519 signing key (at `init`)."""
        self.proc.keys.system_key(SIGNING_KEY, at=self.proc.now())

    def signer(self) -> Signer:
        """The checkpoint signer (Ed25519, from the key store)."""
        if self._signer is None:
            raw = self.proc.keys.system_key(SIGNING_KEY, create=False)
            self._signer = Signer.from_private_bytes(self.origin, raw)
        return self._signer

    def vkey(self) -> str:
        """The verifier key (note format) that checks checkpoints and receipts."""
        return self.signer().vkey()

    # -- writing ---------------------------------------------------------------------------------

    def _records(self, after_position: int, limit: int = PAGE) -> list[LeafRecord]:
        notes = self.proc.store.recorder.select_notifications(
            start=after_position, limit=limit, inclusive_of_start=False
        )
        return [
            LeafRecord(
                position=n.id,
                originator_id=str(n.originator_id),
                originator_version=n.originator_version,
                topic=n.topic,
                state=bytes(n.state),
            )
            for n in notes
        ]

    def extend(self) -> int:
        """Append every stored event not yet in the tree, then sign one checkpoint."""
        with self.engine.begin() as conn:
            conn.execute(head_lock.update().values(writes=head_lock.c.writes + 1))
            tree = MerkleTree(self.nodes.bind(conn))
            size = tree.size()
            last = conn.execute(sa.select(sa.func.max(leaves.c.position))).scalar() or 0
            added = 0
            while records := self._records(last):
                tree.append([r.leaf_hash() for r in records])
                conn.execute(
                    leaves.insert(),
                    [
                        {"leaf_index": size + added + i, "position": r.position}
                        for i, r in enumerate(records)
                    ],
                )
                added += len(records)
                last = records[-1].position
            if added:
                new_size = size + added
                note = self.signer().sign_checkpoint(self.origin, new_size, tree.root(new_size))
                conn.execute(
                    checkpoints.insert(),
                    {"size": new_size, "note": note, "signed_at": self.proc.now()},
                )
            return added

    # -- reading ---------------------------------------------------------------------------------

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
            "simulation": self.proc.simulation,
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
        records = self._records(position - 1, 1)
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
            metadata={"simulation": self.proc.simulation, "position": position, "details": details},
        )

    def consistency(self, from_size: int, to_size: int | None = None) -> dict[str, Any]:
        """A consistency proof between two signed tree sizes, ready for offline checking."""
        target = to_size if to_size is not None else int(self.head()["size"])
        if not 0 < from_size <= target:
            raise InvalidInputError("need 0 < --from <= --to")
        old = parse_checkpoint(self.checkpoint_note(from_size))
        new_note = self.checkpoint_note(target)
        proof = MerkleTree(self.nodes).consistency_proof(from_size, target)
        return consistency_extension(old, proof, new_note, target)

    def iter_records(self) -> Iterator[LeafRecord]:
        """Every stored record in notification order, a page at a time (memory stays flat)."""
        last = 0
        while records := self._records(last):
            yield from records
            last = records[-1].position

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        """Recompute the tree from the stored records and check every signed checkpoint."""
        with self.engine.connect() as conn:
            notes = [
                r[0]
                for r in conn.execute(sa.select(checkpoints.c.note).order_by(checkpoints.c.size))
            ]
        verifier = Verifier.from_vkey(self.vkey())
        report = verify_log(
            self.iter_records(), notes, verifier, self.nodes, origin=self.origin, progress=progress
        )
        if report.first_bad_position is None and report.first_bad_index is not None:
            # Records missing from the tail: name the position the ledger recorded for that leaf.
            with self.engine.connect() as conn:
                position = conn.execute(
                    sa.select(leaves.c.position).where(
                        leaves.c.leaf_index == report.first_bad_index
                    )
                ).scalar()
            report = dataclasses.replace(report, first_bad_position=position)
        return report

    def size(self) -> int:
        """How many events the tree holds."""
        return self.nodes.size()
