"""The ledger over this store's event log (AUD-4): leaves, signed checkpoints, proofs, receipts.

`extend()` runs in every command's commit path: it appends the leaf hash of each new stored
event record (sealed bytes, never plaintext, so erasure leaves every proof valid) and signs one
checkpoint for the command, in one transaction. The signing key lives in the key store.

Before it signs, it proves the new tree consistent with the newest checkpoint it can find
anywhere: the store's own checkpoints table and the checkpoint log kept outside the database
(`checkpoint_log_path`). Someone who deleted records together with their ledger rows could
otherwise get the next command to sign the shortened or rewritten history; now that command
refuses (exit 3) and names the gap. Every signed checkpoint is appended to the outside log.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ledger import (
    Checkpoint,
    CheckpointError,
    CheckpointLog,
    CosignatureVerifier,
    LeafRecord,
    MerkleTree,
    Signer,
    SqlNodeStore,
    Verifier,
    VerifyReport,
    add_signature_lines,
    consistency_extension,
    format_add_checkpoint,
    issue_receipt,
    parse_checkpoint,
    parse_size_response,
    verify_checkpoint,
    verify_log,
)
from ledger.note import EM_DASH, parse_note
from ledger.sqlstore import raw_insert
from ledger.tree import frontier
from processor.config import config_home
from processor.errors import (
    ConfigurationError,
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
)
from processor.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from processor.app import Processor
    from processor.config import Settings

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
cosignatures = sa.Table(
    "ledger_cosignatures",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("witness", sa.String(200), primary_key=True),
    sa.Column("line", sa.Text, nullable=False),
)
head_lock = sa.Table(
    "ledger_lock",
    metadata,
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("writes", sa.BigInteger, nullable=False),
)


CHECKPOINT_LOG_ENV = "PROCESSOR_CHECKPOINT_LOG"
WITNESS_TIMEOUT = 10.0  # seconds: a witness that does not answer fails the command, bounded


def checkpoint_log_path(settings: Settings) -> Path:
    """Where this store's checkpoints are kept outside the database.

    `--checkpoint-log` / PROCESSOR_CHECKPOINT_LOG, else the person's config folder (beside the
    kept credentials, away from the data directory and from the database a backup restores).
    """
    given = settings.checkpoint_log or os.environ.get(CHECKPOINT_LOG_ENV)
    if given:
        return Path(given)
    return config_home() / "stores" / settings.store_key() / "checkpoints.log"


@dataclasses.dataclass(frozen=True)
class Anchor:
    """A checkpoint the store must extend, and where it came from (for the error message)."""

    checkpoint: Checkpoint
    signed_at: str
    source: str


def _failed(
    report: VerifyReport, reason: str, index: int | None, position: int | None
) -> VerifyReport:
    return dataclasses.replace(
        report, ok=False, reason=reason, first_bad_index=index, first_bad_position=position
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
        # The newest position signed as this process last saw it in `extend` (a lower bound of
        # `signed_position()`, which costs a query): what a command projects up to.
        self.last_signed = 0

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
                # Kept as stored: a record whose state is not bytes (a column rewritten as TEXT)
                # must reach verification as it is, to be reported at its position.
                state=bytes(n.state) if isinstance(n.state, bytes | memoryview) else n.state,
            )
            for n in notes
        ]

    def _check_macs(self, records: list[LeafRecord], *, refusing: str) -> None:
        """Refuse records without a valid record MAC: nobody with the key wrote them (AUD-4)."""
        for r in records:
            try:
                self.proc.store.check_record(
                    r.originator_id, r.originator_version, r.topic, r.state
                )
            except IntegrityFailureError as exc:
                raise IntegrityFailureError(
                    f"the record at position {r.position} was not written by this processor "
                    f"({exc}); {refusing}"
                ) from None

    def checkpoint_log(self) -> CheckpointLog:
        """The append-only checkpoint log outside the database."""
        return CheckpointLog(checkpoint_log_path(self.proc.settings))

    def _verifier(self) -> Verifier:
        return Verifier.from_vkey(self.vkey())

    def _newest_stored(self, conn: sa.Connection) -> sa.Row[Any] | None:
        return conn.execute(
            sa.select(checkpoints).order_by(checkpoints.c.size.desc()).limit(1)
        ).first()

    def _anchors(self, row: sa.Row[Any] | None) -> list[Anchor]:
        """The newest checkpoint in the store's table (`row`) and in the outside log, checked."""
        found: list[Anchor] = []
        verifier = self._verifier()
        if row is not None:
            try:
                cp = verify_checkpoint(row.note, verifier, origin=self.origin)
            except CheckpointError as exc:
                raise IntegrityFailureError(
                    f"the newest stored checkpoint (size {row.size}) does not verify: {exc}"
                ) from None
            found.append(Anchor(cp, row.signed_at.isoformat(), "the store's checkpoints table"))
        log = self.checkpoint_log()
        try:
            entry = log.newest(verifier, self.origin)
        except CheckpointError as exc:
            raise IntegrityFailureError(str(exc)) from None
        if entry is not None:
            found.append(Anchor(entry.checkpoint, entry.signed_at, f"checkpoint log {log.path}"))
        return found

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
        records = self._records(last - 1, 1)
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
        return int(self.proc.store.recorder.max_notification_id() or 0)

    def signed_position(self) -> int:
        """The position of the newest record the ledger has signed (0 before the first)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(leaves.c.position))).scalar() or 0)

    def extend(self) -> int:
        """Append every stored event not yet in the tree, check, then sign one checkpoint."""
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
            while last < end and (records := self._records(last)):
                try:
                    hashes = [r.leaf_hash() for r in records]
                except (TypeError, ValueError, AttributeError) as exc:
                    raise IntegrityFailureError(
                        f"a stored record after position {last} is malformed: {exc}"
                    ) from None
                self._check_macs(records, refusing="refusing to sign it")
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
            self._check_extends(tree, new_size, self._anchors(newest))
            note = self.signer().sign_checkpoint(self.origin, new_size, tree.root(new_size))
            signed_at = self.proc.now()
            conn.execute(
                checkpoints.insert(), {"size": new_size, "note": note, "signed_at": signed_at}
            )
        self._publish(note, signed_at.isoformat())
        self.last_signed = last
        return added

    def _publish(self, note: str, signed_at: str) -> None:
        """Append a signed checkpoint to the outside log (after the database committed it)."""
        log = self.checkpoint_log()
        try:
            log.append(note, signed_at)
        except OSError as exc:
            raise ConfigurationError(
                f"the checkpoint was signed but cannot be appended to {log.path}: {exc}; "
                f"set {CHECKPOINT_LOG_ENV} to a writable file"
            ) from None

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
        new_note = self.cosigned_note(target)
        proof = MerkleTree(self.nodes).consistency_proof(from_size, target)
        return consistency_extension(old, proof, new_note, target)

    def iter_records(self) -> Iterator[LeafRecord]:
        """Every stored record in notification order, a page at a time (memory stays flat)."""
        last = 0
        while records := self._records(last):
            yield from records
            last = records[-1].position

    def verify(  # noqa: PLR0911 - one early return per kind of failure, in order
        self,
        progress: Callable[[int], None] | None = None,
        *,
        since: str | None = None,
        witness: CosignatureVerifier | None = None,
    ) -> VerifyReport:
        """Recompute the tree from the stored records and check every checkpoint seen anywhere.

        The store's own checkpoints must match the records, and the newest must cover them all.
        Then every checkpoint held outside the database (the checkpoint log, the `since` note)
        must be one the store still extends and still holds: that is what catches a rollback
        after which every row in the database agrees with itself. With `witness`, the newest
        checkpoint must carry that witness's valid cosignature.
        """
        with self.engine.connect() as conn:
            rows = list(conn.execute(sa.select(checkpoints).order_by(checkpoints.c.size)))
        verifier = self._verifier()
        reader = _Reader(self)
        try:
            report = verify_log(
                reader.records(),
                [r.note for r in rows],
                verifier,
                self.nodes,
                origin=self.origin,
                progress=progress,
            )
        except _UnreadableError as exc:
            return VerifyReport(
                ok=False,
                records_checked=reader.count,
                checkpoints_checked=0,
                first_bad_index=reader.count,
                first_bad_position=reader.bad_position,
                reason=str(exc),
            )
        if not report.ok:
            if report.first_bad_position is None and report.first_bad_index is not None:
                position = self._leaf_position(report.first_bad_index)
                report = dataclasses.replace(report, first_bad_position=position)
            return report
        count = report.records_checked
        newest = int(rows[-1].size) if rows else 0
        if newest != count:
            return _failed(
                report,
                f"the store has {count} records but its newest signed checkpoint covers "
                f"{newest}: a checkpoint was removed",
                newest,
                self._leaf_position(newest),
            )
        stored = {int(r.size): r for r in rows}
        try:
            outside = self._outside_anchors(verifier, since)
        except CheckpointError as exc:
            return _failed(report, str(exc), None, None)
        tree = MerkleTree(self.nodes)
        for anchor in outside:
            cp = anchor.checkpoint
            where = (
                f"checkpoint of size {cp.size} was signed at {anchor.signed_at} ({anchor.source})"
            )
            if cp.size > count:
                return _failed(
                    report,
                    f"store has {count} records but {where}: records were removed (rolled back)",
                    count,
                    None,
                )
            if tree.root(cp.size) != cp.root:
                return _failed(
                    report,
                    f"the store's first {cp.size} records do not match the {where}: "
                    "history was rewritten",
                    None,
                    None,
                )
            if cp.size not in stored:
                return _failed(
                    report,
                    f"the {where} is missing from the store's checkpoints: a checkpoint was "
                    "removed",
                    None,
                    None,
                )
        if witness is not None and rows:
            try:
                self.cosignature(int(rows[-1].size), witness)
            except CheckpointError as exc:
                return _failed(report, f"witness {witness.name}: {exc}", None, None)
        return report

    def _leaf_position(self, index: int) -> int | None:
        """The position the ledger recorded for a leaf (None if it holds no such leaf)."""
        with self.engine.connect() as conn:
            position = conn.execute(
                sa.select(leaves.c.position).where(leaves.c.leaf_index == index)
            ).scalar()
        return None if position is None else int(position)

    def _outside_anchors(self, verifier: Verifier, since: str | None) -> list[Anchor]:
        """Every checkpoint held outside the database: the checkpoint log, and `since`."""
        log = self.checkpoint_log()
        anchors = [
            Anchor(e.checkpoint, e.signed_at, f"checkpoint log {log.path} line {e.line}")
            for e in log.entries(verifier, self.origin)
        ]
        if since is not None:
            try:
                cp = verify_checkpoint(since, verifier, origin=self.origin)
            except CheckpointError as exc:
                raise CheckpointError(f"the --since checkpoint does not verify: {exc}") from None
            anchors.append(Anchor(cp, "an unknown time", "the --since checkpoint"))
        return anchors

    # -- witnesses -------------------------------------------------------------------------------

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

    def cosignature(self, size: int, witness: CosignatureVerifier) -> int:
        """When `witness` validly cosigned checkpoint `size`; CheckpointError if it did not."""
        try:
            note = self.cosigned_note(size)
        except NotFoundError as exc:
            raise CheckpointError(str(exc)) from None
        return witness.verify_note(note).timestamp

    def store_cosignature(
        self, size: int, lines: str, witness: CosignatureVerifier | None = None
    ) -> None:
        """Keep witness cosignature line(s) for checkpoint `size`; checked when `witness` given.

        The cosigned checkpoint is also appended to the checkpoint log, so the proof that a
        witness vouched for this size survives the database too.
        """
        merged = add_signature_lines(self.checkpoint_note(size), lines)
        if witness is not None:
            witness.verify_note(merged)
        _, signatures = parse_note(merged)
        own = self.signer()
        rows = [
            {
                "size": size,
                "witness": f"{sig.name}+{sig.key_id.hex()}",
                "line": f"{EM_DASH} {sig.name} "
                f"{base64.b64encode(sig.key_id + sig.signature).decode('ascii')}\n",
            }
            for sig in signatures
            if (sig.name, sig.key_id) != (own.name, own.key_id)
        ]
        with self.engine.begin() as conn:
            for row in rows:
                conn.execute(
                    cosignatures.delete().where(
                        (cosignatures.c.size == size) & (cosignatures.c.witness == row["witness"])
                    )
                )
            if rows:
                conn.execute(cosignatures.insert(), rows)
            signed_at = conn.execute(
                sa.select(checkpoints.c.signed_at).where(checkpoints.c.size == size)
            ).scalar()
        when = signed_at.isoformat() if isinstance(signed_at, datetime) else ""
        self._publish(self.cosigned_note(size), when)

    def submit_to_witness(
        self, url: str, witness: CosignatureVerifier | None = None
    ) -> dict[str, Any]:
        """Send the newest checkpoint to a C2SP witness with a proof from the witness's size.

        The witness's last size is learnt from its 409 answer; a store shorter than that, or a
        proof the witness rejects (422), is an integrity failure: the store no longer extends
        what the witness has already vouched for.
        """
        head = self.head()
        size, note = int(head["size"]), str(head["checkpoint"])
        endpoint = url.rstrip("/") + "/add-checkpoint"
        old = 0
        for _ in range(2):
            proof = [] if old in (0, size) else MerkleTree(self.nodes).consistency_proof(old, size)
            status, body = _post(endpoint, format_add_checkpoint(old, proof, note))
            if status == 200:  # noqa: PLR2004
                self.store_cosignature(size, body, witness)
                return {"size": size, "witness_size_before": old, "cosignature": body}
            if status != 409:  # noqa: PLR2004
                break
            try:
                witnessed = parse_size_response(body)
            except ValueError:
                break
            if witnessed > size:
                raise IntegrityFailureError(
                    f"store has {size} records but witness at {url} has cosigned a checkpoint "
                    f"of size {witnessed}: records were removed (rolled back)"
                )
            if witnessed == old:
                break
            old = witnessed
        if status in (409, 422):
            raise IntegrityFailureError(
                f"witness at {url} refused the checkpoint of size {size} ({status}: "
                f"{body.strip()[:200]}): it is not consistent with what the witness cosigned"
            )
        raise ConfigurationError(f"witness at {url} answered {status}: {body.strip()[:200]}")

    def size(self) -> int:
        """How many events the tree holds."""
        return self.nodes.size()


class _UnreadableError(Exception):
    """A stored record the event store's own reader cannot turn into a notification."""


class _Reader:
    """Streams the stored records for verification, turning unreadable rows into a finding.

    A row whose columns were rewritten (a NULL, a wrong type) can make the event store's reader
    itself fail; verification must report that at its place (exit 3), never crash (exit 4).
    """

    def __init__(self, service: LedgerService) -> None:
        self.service = service
        self.count = 0
        self.bad_position: int | None = None

    def records(self) -> Iterator[LeafRecord]:
        last = 0
        while True:
            try:
                page = self.service._records(last)  # noqa: SLF001 - the service's own reader
            except Exception as exc:  # noqa: BLE001 - whatever the driver raises on a bad row
                raise _UnreadableError(
                    f"a stored record after position {last} (leaf {self.count}) is malformed "
                    f"and cannot be read ({type(exc).__name__}: {str(exc)[:120]})"
                ) from None
            if not page:
                return
            for record in page:
                try:
                    self.service._check_macs([record], refusing="verification fails")  # noqa: SLF001
                except IntegrityFailureError as exc:
                    self.bad_position = record.position
                    raise _UnreadableError(str(exc)) from None
                self.count += 1
                yield record
            last = page[-1].position


def _post(url: str, body: bytes) -> tuple[int, str]:
    """POST to a witness; return (status, body). Bounded by WITNESS_TIMEOUT."""
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"witness URL must be http(s): {url}")
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - scheme checked
    try:
        with urllib.request.urlopen(request, timeout=WITNESS_TIMEOUT) as answer:  # noqa: S310
            return int(answer.status), answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        raise ConfigurationError(f"cannot reach witness at {url}: {exc}") from None


def read_note_file(path: Path, what: str) -> str:
    """A signed note from a file (a checkpoint held elsewhere, a witness's answer)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {what} {path}: {exc}") from None
