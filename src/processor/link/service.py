"""The ledger as the rest of the processor uses it: the keeper, verification and witnesses.

`LedgerKeeper` (`processor.link.keeper`) signs and answers; `processor.link.verify` checks the
whole log and `processor.link.witness` talks to witnesses, both built on the keeper. This class
joins them, so `Processor.ledger` is one object, and the modules below import none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.kernel.errors import InvalidInputError
from processor.link import verify as ledgerverify
from processor.link import witness as ledgerwitness
from processor.link.keeper import LedgerKeeper

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from ledger import CosignatureVerifier, LeafRecord, VerifyReport


class LedgerService(LedgerKeeper):
    """Keeps the Merkle tree in step with the event store, verifies it, and deals with witnesses."""

    def iter_records(self) -> Iterator[LeafRecord]:
        """Every stored record in notification order, a page at a time (memory stays flat)."""
        return ledgerverify.iter_records(self)

    def verify(
        self,
        progress: Callable[[int], None] | None = None,
        *,
        since: str | None = None,
        witness: CosignatureVerifier | None = None,
    ) -> VerifyReport:
        """Recompute the tree from the stored records and check every checkpoint seen anywhere.

        See `processor.link.verify.verify`.
        """
        return ledgerverify.verify(self, progress, since=since, witness=witness)

    # -- witnesses (`processor.link.witness`) ------------------------------------------------------

    def cosignature(self, size: int, witness: CosignatureVerifier) -> int:
        """When `witness` validly cosigned checkpoint `size`; CheckpointError if it did not."""
        return ledgerwitness.cosignature(self, size, witness)

    def store_cosignature(
        self, size: int, lines: str, witness: CosignatureVerifier | None = None
    ) -> None:
        """Keep witness cosignature line(s) for checkpoint `size`; checked when `witness` given."""
        ledgerwitness.store_cosignature(self, size, lines, witness)

    def submit_to_witness(
        self, url: str, witness: CosignatureVerifier | None = None
    ) -> dict[str, Any]:
        """Send the newest checkpoint to a C2SP witness with a proof from the witness's size."""
        return ledgerwitness.submit_to_witness(self, url, witness)


def read_note_file(path: Path, what: str) -> str:
    """A signed note from a file (a checkpoint held elsewhere, a witness's answer)."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"cannot read {what} {path}: {exc}") from None
