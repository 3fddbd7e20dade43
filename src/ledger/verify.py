# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Streaming verification of a whole log against its signed checkpoints.

An auditor replays the stored records in notification order, recomputes the Merkle tree and
checks every signed checkpoint against it. Only the right edge of the tree is kept (one hash
per set bit of the size), so memory stays O(log n) however long the log is, and the records
can be streamed straight from a database cursor or a dump file.

Localisation: a checkpoint mismatch only says that something in the records since the last
good checkpoint changed. When the stored tree nodes are available, each record is also compared
with its stored leaf hash, which pins an altered, removed, inserted or reordered record to its
exact index even between checkpoints. Records must have strictly increasing positions
(notification ids); the leaf index is their 0-based order.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from ledger.checkpoint import Checkpoint, parse_checkpoint, verify_checkpoint
from ledger.errors import CheckpointError
from ledger.leaf import LEAF_FORMAT_VERSION, LeafRecord
from ledger.merkle import EMPTY_ROOT, node_hash
from ledger.note import Verifier

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from ledger.tree import NodeStore

# One stored record as read from a database page: position, originator id, originator version,
# topic, state (the fields of `LeafRecord`, without an object per record).
RecordRow = tuple[int, str, int, str, bytes]


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of ``verify_log``.

    ``first_bad_index`` is the lowest leaf index that may differ from what was committed (exact
    with a node store or a checkpoint after every record; otherwise the start of the range since
    the last good checkpoint). ``bad_checkpoint`` is the 0-based ordinal of a checkpoint that is
    malformed or carries no valid signature. ``verified_size`` is how many records are covered
    by a verified checkpoint.
    """

    ok: bool
    records_checked: int
    checkpoints_checked: int
    first_bad_index: int | None = None
    first_bad_position: int | None = None
    reason: str = "ok"
    verified_size: int = 0
    bad_checkpoint: int | None = None
    root: bytes | None = None
    roots: Mapping[int, bytes] = field(default_factory=dict)


class CompactTree:
    """The right edge of a Merkle tree: enough to append leaves and compute the root."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash, merging completed perfect subtrees."""
        index, current = self.size, leaf
        while index & 1:
            current = node_hash(self.stack.pop(), current)
            index >>= 1
        self.stack.append(current)
        self.size += 1

    def root(self) -> bytes:
        """Return MTH of all leaves appended so far."""
        if not self.stack:
            return EMPTY_ROOT
        root = self.stack[-1]
        for value in reversed(self.stack[:-1]):
            root = node_hash(value, root)
        return root


class _Failure(Exception):  # noqa: N818 - internal control flow, never escapes this module
    """Stops the run; carries the report fields that locate the problem."""

    def __init__(
        self,
        reason: str,
        index: int | None = None,
        position: int | None = None,
        checkpoint: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason, self.index, self.position, self.checkpoint = (
            reason,
            index,
            position,
            checkpoint,
        )


class _Run:
    """State of one verification run (records in, checkpoints alongside)."""

    def __init__(
        self, checkpoints: Iterable[str], verifiers: Sequence[Verifier], origin: str | None
    ) -> None:
        self.notes = iter(checkpoints)
        self.verifiers, self.origin = verifiers, origin
        self.tree = CompactTree()
        self.pending: tuple[int, Checkpoint] | None = None
        self.ordinal = -1
        self.checked = 0
        self.anchored = 0  # size of the last verified checkpoint
        self.anchored_position: int | None = None  # position of the first unanchored record
        self.last_position: int | None = None
        self.wanted_roots: frozenset[int] = frozenset()
        self.roots: dict[int, bytes] = {}

    def pull(self) -> None:
        """Read the next checkpoint; its signature is checked when the log reaches its size."""
        note = next(self.notes, None)
        if note is None:
            self.pending = None
            return
        self.ordinal += 1
        try:
            checkpoint = parse_checkpoint(note)
        except CheckpointError as exc:
            raise _Failure(f"checkpoint #{self.ordinal}: {exc}", checkpoint=self.ordinal) from None
        previous = self.tree.size if self.pending is None else self.pending[1].size
        if checkpoint.size < previous:
            raise _Failure("checkpoints are not sorted by size", checkpoint=self.ordinal)
        self.pending = (self.ordinal, checkpoint)

    def settle(self) -> None:
        """Verify every pending checkpoint whose size the log has now reached."""
        while self.pending is not None and self.pending[1].size == self.tree.size:
            ordinal, parsed = self.pending
            try:
                checkpoint = verify_checkpoint(parsed.note_text, self.verifiers, origin=self.origin)
            except CheckpointError as exc:
                raise _Failure(f"checkpoint #{ordinal}: {exc}", checkpoint=ordinal) from None
            self.origin = checkpoint.origin  # every later checkpoint must name the same log
            if self.tree.root() != checkpoint.root:
                raise _Failure(
                    f"root of the first {checkpoint.size} records does not match signed "
                    f"checkpoint #{ordinal}: a record in index range [{self.anchored}, "
                    f"{checkpoint.size}) was altered, removed, inserted or reordered",
                    self.anchored,
                    self.anchored_position,
                    ordinal,
                )
            self.checked += 1
            self.anchored, self.anchored_position = checkpoint.size, None
            self.pull()

    def record(
        self, index: int, record: LeafRecord, stored: dict[tuple[int, int], bytes] | None
    ) -> None:
        """Check one record and add it to the tree."""
        raw_position = getattr(record, "position", None)
        known = raw_position if isinstance(raw_position, int) else None
        try:
            leaf = record.leaf_hash()
        except (TypeError, ValueError, AttributeError, OverflowError) as exc:
            where = f" (position {known})" if known is not None else ""
            raise _Failure(
                f"record at index {index}{where} is malformed and cannot be encoded: {exc}",
                index,
                known,
            ) from None
        position = record.position
        if self.last_position is not None and not position > self.last_position:
            # Without stored leaves, any record since the last good checkpoint may be the
            # culprit (e.g. a swap breaks the order one record after the first moved one).
            exact = stored is not None or self.tree.size == self.anchored
            raise _Failure(
                f"position {position} at index {index} is not greater than the previous "
                f"position {self.last_position} (records reordered, duplicated or inserted; "
                f"suspect index range [{index if exact else self.anchored}, {index}])",
                index if exact else self.anchored,
                position if exact else self.anchored_position,
            )
        if stored is not None:
            expected = stored.get((0, index))
            if expected is None:
                raise _Failure(f"no stored leaf node for index {index}", index, position)
            if expected != leaf:
                raise _Failure(
                    f"record at index {index} (position {position}) does not match its stored "
                    "leaf hash: altered, removed, inserted or reordered",
                    index,
                    position,
                )
        if self.tree.size == self.anchored:
            self.anchored_position = position
        self.tree.append(leaf)
        if self.tree.size in self.wanted_roots:
            self.roots[self.tree.size] = self.tree.root()
        self.last_position = position
        self.settle()

    def finish(self, stored_nodes: NodeStore | None) -> None:
        """After the last record: nothing may claim more records than were read."""
        self.finish_sized(None if stored_nodes is None else stored_nodes.size)

    def finish_sized(self, stored_size: Callable[[], int] | None) -> None:
        """`finish`, given how to read the stored tree's size (None: no stored tree)."""
        count = self.tree.size
        if self.pending is not None:
            ordinal, checkpoint = self.pending
            raise _Failure(
                f"checkpoint #{ordinal} commits to {checkpoint.size} records but the log has "
                f"only {count} (records removed from the tail)",
                count,
            )
        if stored_size is not None and (size := stored_size()) > count:
            raise _Failure(
                f"the stored tree has {size} leaves but the log has only {count} records "
                "(records removed from the tail)",
                count,
            )


def _chunks(records: Iterable[LeafRecord], size: int) -> Iterator[list[tuple[int, LeafRecord]]]:
    numbered = enumerate(records)
    while chunk := list(islice(numbered, size)):
        yield chunk


def verify_log(
    records: Iterable[LeafRecord],
    checkpoints: Iterable[str],
    verifier: Verifier | Sequence[Verifier],
    stored_nodes: NodeStore | None = None,
    *,
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
    batch_size: int = 500,
) -> VerifyReport:
    """Recompute the tree from ``records`` (in order) and check it against ``checkpoints``.

    ``checkpoints`` are signed notes sorted by size; all must name the same origin (``origin``
    pins it, otherwise the first one does). ``stored_nodes`` enables the per-record comparison
    with stored leaf hashes, fetched ``batch_size`` at a time. Never raises on bad data: the
    report says what failed first.
    """
    if progress_every < 1 or batch_size < 1:
        raise ValueError("progress_every and batch_size must be positive")
    verifiers = [verifier] if isinstance(verifier, Verifier) else list(verifier)
    run = _Run(checkpoints, verifiers, origin)
    try:
        run.pull()
        run.settle()
        for chunk in _chunks(records, batch_size):
            stored = None
            if stored_nodes is not None:
                stored = stored_nodes.get_nodes((0, index) for index, _ in chunk)
            for index, record in chunk:
                run.record(index, record, stored)
                if progress is not None and run.tree.size % progress_every == 0:
                    progress(run.tree.size)
        run.finish(stored_nodes)
    except _Failure as failure:
        return VerifyReport(
            ok=False,
            records_checked=run.tree.size,
            checkpoints_checked=run.checked,
            first_bad_index=failure.index,
            first_bad_position=failure.position,
            reason=failure.reason,
            verified_size=run.anchored,
            bad_checkpoint=failure.checkpoint,
        )
    if progress is not None:
        progress(run.tree.size)
    return VerifyReport(
        ok=True,
        records_checked=run.tree.size,
        checkpoints_checked=run.checked,
        verified_size=run.anchored,
        root=run.tree.root(),
    )


_PACK_U64 = struct.Struct(">Q").pack
_PACK_U32 = struct.Struct(">I").pack
_LEAF_PREFIX = b"\x00" + bytes((LEAF_FORMAT_VERSION,))  # leaf-hash domain byte, format version


def _fast_leaf(position: int, originator_id: str, version: int, topic: str, state: bytes) -> bytes:
    """`LeafRecord.leaf_hash()` of a well-typed row, without building a record.

    The caller guarantees the types; a value out of range makes `struct` raise, and the caller
    then hands the row to the checked path, which reports it exactly as `verify_log` does.
    """
    oid, top = originator_id.encode(), topic.encode()
    return hashlib.sha256(
        b"".join(
            (
                _LEAF_PREFIX,
                _PACK_U64(position),
                _PACK_U32(len(oid)),
                oid,
                _PACK_U64(version),
                _PACK_U32(len(top)),
                top,
                _PACK_U32(len(state)),
                state,
            )
        )
    ).digest()


def verify_pages(  # noqa: PLR0912 - one loop, its fast path and its hand-off to the checks
    pages: Iterable[Sequence[RecordRow]],
    checkpoints: Iterable[str],
    verifier: Verifier | Sequence[Verifier],
    stored_leaves: Callable[[int, int], Mapping[int, bytes]] | None = None,
    stored_size: Callable[[], int] | None = None,
    *,
    origin: str | None = None,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10_000,
    roots_at: Iterable[int] = (),
) -> VerifyReport:
    """`verify_log` over pages of plain rows: the same checks, reports and messages, faster.

    A whole-log verify spends most of its time on per-record overhead (a record object, its
    encoding field by field, the node-store lookup of its stored leaf). Here a well-formed row
    in order whose leaf matches its stored leaf takes a short path (one buffer, one hash); any
    other row goes through exactly the checks of `verify_log`, which then report it.
    ``stored_leaves(start, end)`` returns the stored leaf hashes of indexes [start, end) (one
    range read per page); ``stored_size`` the stored tree's size. The report's ``roots`` holds
    the root of the first n records for each n of ``roots_at`` the log reaches, so a caller
    can check checkpoints held elsewhere without reading interior nodes.
    """
    if progress_every < 1:
        raise ValueError("progress_every must be positive")
    verifiers = [verifier] if isinstance(verifier, Verifier) else list(verifier)
    run = _Run(checkpoints, verifiers, origin)
    run.wanted_roots = frozenset(roots_at)
    tree = run.tree
    wanted = run.wanted_roots
    try:
        run.pull()
        run.settle()
        for page in pages:
            start = tree.size
            stored = None if stored_leaves is None else stored_leaves(start, start + len(page))
            keyed: dict[tuple[int, int], bytes] | None = None  # `stored` as `record` takes it
            for row in page:
                index = tree.size
                position, originator_id, version, topic, state = row
                leaf: bytes | None = None
                last = run.last_position
                if (
                    type(position) is int
                    and type(version) is int
                    and type(originator_id) is str
                    and type(topic) is str
                    and type(state) is bytes
                    and (last is None or position > last)
                ):
                    try:
                        leaf = _fast_leaf(position, originator_id, version, topic, state)
                    except struct.error:
                        leaf = None
                if leaf is None or (stored is not None and stored.get(index) != leaf):
                    # The checked path: reports the row exactly as `verify_log` would.
                    if stored is not None and keyed is None:
                        keyed = {(0, i): h for i, h in stored.items()}
                    run.record(index, LeafRecord(*row), keyed)
                else:
                    if index == run.anchored:
                        run.anchored_position = position
                    tree.append(leaf)
                    if tree.size in wanted:
                        run.roots[tree.size] = tree.root()
                    run.last_position = position
                    if run.pending is not None and run.pending[1].size == tree.size:
                        run.settle()
                if progress is not None and tree.size % progress_every == 0:
                    progress(tree.size)
        run.finish_sized(stored_size)
    except _Failure as failure:
        return VerifyReport(
            ok=False,
            records_checked=tree.size,
            checkpoints_checked=run.checked,
            first_bad_index=failure.index,
            first_bad_position=failure.position,
            reason=failure.reason,
            verified_size=run.anchored,
            bad_checkpoint=failure.checkpoint,
            roots=run.roots,
        )
    if progress is not None:
        progress(tree.size)
    return VerifyReport(
        ok=True,
        records_checked=tree.size,
        checkpoints_checked=run.checked,
        verified_size=run.anchored,
        root=tree.root(),
        roots=run.roots,
    )
