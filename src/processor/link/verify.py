"""`ledger verify`: the whole event log checked against every checkpoint seen anywhere (AUD-4).

Apart from `processor.link.keeper` (`LedgerService.verify` is a delegate to it) because it reads
the store its own way: a whole-log verify is a read of every record, so it reads them in large
pages with one plain SQL statement (only the five columns a leaf covers, no notification
objects), checks each record MAC with one-shot HMACs, and reads the stored leaf hashes of a
page as one range. The checks, their order and their messages are those of `verify_log`: the
ledger library's `verify_pages` hands every row that is not plainly fine to the same checks.
"""

from __future__ import annotations

import dataclasses
import hmac
import re
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.sqlite import SQLiteDatastore

from ledger import CheckpointError, LeafRecord, MerkleTree, VerifyReport, verify_checkpoint
from ledger.sqlstore import ledger_nodes
from ledger.verify import RecordRow, verify_pages
from processor.kernel.errors import IntegrityFailureError
from processor.link.custody import LogCustody
from processor.link.keeper import Anchor
from processor.link.tables import checkpoints, leaves
from processor.link.witness import cosignature
from processor.storage.recordmac import MacMapper, record_mac

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from ledger import CosignatureVerifier, Verifier
    from processor.link.keeper import LedgerKeeper

# Records per page: about a megabyte of sealed state, and few enough round trips that the
# statement overhead disappears next to the rows.
VERIFY_PAGE: Final = 5000
_TAG: Final = b"rmac1"
_MAC_END: Final = len(_TAG) + 32
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_HEX_UUID: Final = re.compile(r"[0-9a-f]{32}")  # how the SQLite recorder stores a UUID
LOG_SOURCE: Final = "checkpoint log"


class UnreadableError(Exception):
    """A stored record the event store's own reader cannot turn into a notification."""


def _failed(
    report: VerifyReport, reason: str, index: int | None, position: int | None
) -> VerifyReport:
    return dataclasses.replace(
        report, ok=False, reason=reason, first_bad_index=index, first_bad_position=position
    )


def _originator(raw: Any) -> str:  # noqa: ANN401 - whatever the column holds
    """The id as the event store's reader gives it (a UUID, as text), however it is stored."""
    if type(raw) is str:
        if _HEX_UUID.fullmatch(raw):  # str(UUID(raw)), without the object
            return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        if _CANONICAL_UUID.fullmatch(raw):
            return raw
    return str(raw if isinstance(raw, UUID) else UUID(raw))


class PageReader:
    """Streams the stored records in pages of plain rows, each record's MAC checked.

    A row whose columns were rewritten (a NULL, a wrong type) must be reported at its place
    (exit 3), never crash verification (exit 4); a record whose MAC fails stops the stream at
    that record, after the records before it were handed on (as the record-by-record reader
    did), so an earlier finding is still reported first.
    """

    def __init__(self, service: LedgerKeeper, page: int = VERIFY_PAGE) -> None:
        self.service = service
        self.page = page
        self.count = 0
        self.bad_position: int | None = None
        recorder: Any = service.store.recorder
        self._recorder = recorder
        self._postgres = not isinstance(recorder.datastore, SQLiteDatastore)
        # The store's reader turns the id column into a UUID only when ids are UUIDs.
        self._uuids = getattr(recorder.datastore, "originator_id_type", "uuid") == "uuid"

    def _select(self, last: int) -> list[tuple[Any, ...]]:
        recorder = self._recorder
        table = recorder.events_table_name
        if self._postgres:
            from psycopg.rows import tuple_row

            statement = (
                f"SELECT notification_id, originator_id::text, originator_version, topic, state "
                f'FROM "{recorder.datastore.schema}"."{table}" '
                "WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
            )
            with (
                recorder.datastore.get_connection() as conn,
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                cur.execute(statement, (last, self.page))
                return list(cur.fetchall())
        statement = (
            f"SELECT rowid, originator_id, originator_version, topic, state FROM {table} "
            "WHERE rowid > ? ORDER BY rowid LIMIT ?"
        )
        with recorder.datastore.transaction(commit=False) as cur:
            cur.execute(statement, (last, self.page))
            return [tuple(row) for row in cur.fetchall()]

    def _unreadable(self, last: int, exc: Exception) -> UnreadableError:
        return UnreadableError(
            f"a stored record after position {last} (leaf {self.count}) is malformed "
            f"and cannot be read ({type(exc).__name__}: {str(exc)[:120]})"
        )

    def pages(self) -> Iterator[list[RecordRow]]:
        """Every stored record in notification order, as (position, id, version, topic, state)."""
        mapper = self.service.store.mapper
        assert isinstance(mapper, MacMapper)  # noqa: S101 - the event store's construct_mapper
        key = mapper.key()
        last = 0
        while True:
            try:
                raw = self._select(last)
            except Exception as exc:  # noqa: BLE001 - whatever the driver raises on a bad row
                raise self._unreadable(last, exc) from None
            if not raw:
                return
            rows: list[RecordRow] = []
            for position, oid, version, topic, state in raw:
                try:
                    row = (position, _originator(oid), version, topic, state)
                except Exception as exc:  # noqa: BLE001 - as the store's reader would fail
                    yield rows
                    raise self._unreadable(last, exc) from None
                if not self._uuids:
                    row = (position, oid, version, topic, state)
                if not (
                    type(state) is bytes
                    and state[:5] == _TAG
                    and len(state) >= _MAC_END
                    and hmac.compare_digest(
                        state[5:_MAC_END], record_mac(key, row[1], version, topic, state[_MAC_END:])
                    )
                ):
                    yield rows
                    rows = []
                    self._refuse(row)
                rows.append(row)
                self.count += 1
                last = position
            yield rows

    def _refuse(self, row: RecordRow) -> None:
        """Raise the MAC check's own finding for `row` (the checked path, for its message)."""
        record = LeafRecord(*row)
        try:
            self.service.check_macs([record], refusing="verification fails")
        except IntegrityFailureError as exc:
            self.bad_position = record.position
            raise UnreadableError(str(exc)) from None
        # Unreachable while both checks compute the same MAC; were they ever to disagree, the
        # store's own check is the one that counts, and the record is handed on.


def iter_records(service: LedgerKeeper) -> Iterator[LeafRecord]:
    """Every stored record in notification order, a page at a time (memory stays flat)."""
    last = 0
    while records := service.records_after(last):
        yield from records
        last = records[-1].position


def leaf_position(service: LedgerKeeper, index: int) -> int | None:
    """The position the ledger recorded for a leaf (None if it holds no such leaf)."""
    with service.engine.connect() as conn:
        position = conn.execute(
            sa.select(leaves.c.position).where(leaves.c.leaf_index == index)
        ).scalar()
    return None if position is None else int(position)


def outside_anchors(service: LedgerKeeper, verifier: Verifier, since: str | None) -> list[Anchor]:
    """Every checkpoint held outside the database: the checkpoint log, and `since`."""
    log = service.checkpoint_log()
    anchors = [
        Anchor(e.checkpoint, e.signed_at, f"{LOG_SOURCE} {log.path} line {e.line}")
        for e in log.entries(verifier, service.origin)
    ]
    if since is not None:
        try:
            cp = verify_checkpoint(since, verifier, origin=service.origin)
        except CheckpointError as exc:
            raise CheckpointError(f"the --since checkpoint does not verify: {exc}") from None
        anchors.append(Anchor(cp, "an unknown time", "the --since checkpoint"))
    return anchors


def _stored_leaves(conn: sa.Connection) -> Callable[[int, int], Mapping[int, bytes]]:
    """Stored leaf hashes of indexes [start, end), one primary-key range read per page."""
    table = ledger_nodes
    query = sa.select(table.c.idx, table.c.hash).where(
        (table.c.level == 0)
        & (table.c.idx >= sa.bindparam("start"))
        & (table.c.idx < sa.bindparam("end"))
    )

    def read(start: int, end: int) -> Mapping[int, bytes]:
        rows = conn.execute(query, {"start": start, "end": end}).all()
        return {int(idx): bytes(value) for idx, value in rows}

    return read


def verify(  # noqa: PLR0911, PLR0912 - one early return per kind of failure, in order
    service: LedgerKeeper,
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
    with service.engine.connect() as conn:
        rows = list(conn.execute(sa.select(checkpoints).order_by(checkpoints.c.size)))
    verifier = service.note_verifier()
    # The outside checkpoints are read first so their roots come out of the same pass over the
    # records; a bad checkpoint log is still reported only after the records verified.
    outside: list[Anchor] = []
    outside_error: CheckpointError | None = None
    try:
        outside = outside_anchors(service, verifier, since)
    except CheckpointError as exc:
        outside_error = exc
    reader = PageReader(service)
    try:
        with service.engine.connect() as nodes_conn:
            report = verify_pages(
                reader.pages(),
                [r.note for r in rows],
                verifier,
                _stored_leaves(nodes_conn),
                service.nodes.size,
                origin=service.origin,
                progress=progress,
                roots_at=[a.checkpoint.size for a in outside],
            )
    except UnreadableError as exc:
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
            position = leaf_position(service, report.first_bad_index)
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
            leaf_position(service, newest),
        )
    stored = {int(r.size): r for r in rows}
    if outside_error is not None:
        return _failed(report, str(outside_error), None, None)
    # The log must still hold what the store published (`processor.link.custody`).
    custody = LogCustody(
        service.checkpoint_log().path,
        newest,
        service.checkpoint_log().path.exists(),
        max((a.checkpoint.size for a in outside if a.source.startswith(LOG_SOURCE)), default=None),
    )
    problem = custody.problem()
    if problem is not None:
        return _failed(report, problem, None, None)
    tree = MerkleTree(service.nodes)
    # The stored tree's roots at those sizes, from one read of their nodes (a size whose nodes
    # are missing is left to `tree.root`, which explains it where the check reaches it).
    node_roots = tree.roots(a.checkpoint.size for a in outside if a.checkpoint.size <= count)
    for anchor in outside:
        cp = anchor.checkpoint
        where = f"checkpoint of size {cp.size} was signed at {anchor.signed_at} ({anchor.source})"
        if cp.size > count:
            return _failed(
                report,
                f"store has {count} records but {where}: records were removed (rolled back)",
                count,
                None,
            )
        node_root = node_roots.get(cp.size)
        if node_root is None:
            node_root = tree.root(cp.size)
        # Both the stored tree and the records themselves must give the signed root.
        if node_root != cp.root or report.roots.get(cp.size, cp.root) != cp.root:
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
                f"the {where} is missing from the store's checkpoints: a checkpoint was removed",
                None,
                None,
            )
    if witness is not None and rows:
        try:
            cosignature(service, int(rows[-1].size), witness)
        except CheckpointError as exc:
            return _failed(report, f"witness {witness.name}: {exc}", None, None)
    return report
