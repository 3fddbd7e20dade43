# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Error hierarchy of the ledger.

Every failure of a tamper-evidence check raises instead of returning ``False``: a forgotten
boolean check is the classic way integrity verification silently passes. All errors share
``LedgerError`` so a caller can catch "the ledger said no" in one place, and the
validation errors also derive from ``ValueError`` because they describe bad input data.
Messages are one line, because they end up in CLI output and audit reports.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error raised by the ledger package."""


class ProofError(LedgerError, ValueError):
    """An inclusion or consistency proof does not verify (or is malformed)."""


class CheckpointError(LedgerError, ValueError):
    """A signed note or checkpoint is malformed, unsigned by a known key, or forged."""


class ReceiptError(LedgerError, ValueError):
    """An offline receipt is malformed or does not verify."""


class IntegrityError(LedgerError):
    """The stored tree contradicts itself (missing node, overwrite attempt, size mismatch)."""
