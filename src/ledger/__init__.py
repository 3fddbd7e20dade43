# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Tamper-evident event log: RFC 9162 Merkle tree, C2SP signed checkpoints, offline proofs.

Every stored event record, in notification order, is a leaf of an RFC 9162 Merkle tree. The
log periodically signs a C2SP checkpoint (origin, size, root); inclusion proofs show that a
record is in a signed tree, consistency proofs show that a later tree extends an earlier one.
Everything a third party needs to check those claims runs offline from this package, with only
the log's verifier key: that is what makes the log evidence rather than our word.

This package is a pure library: it never decides when to checkpoint or which records to log.
"""

from ledger.checkpoint import (
    Checkpoint,
    Signer,
    format_checkpoint_text,
    parse_checkpoint,
    verify_checkpoint,
)
from ledger.checkpointlog import CheckpointLog, LogEntry
from ledger.cosignature import (
    Cosignature,
    CosignatureSigner,
    CosignatureVerifier,
    add_signature_lines,
    cosignature_key_id,
    cosigned_message,
)
from ledger.errors import (
    CheckpointError,
    IntegrityError,
    LedgerError,
    ProofError,
    ReceiptError,
)
from ledger.leaf import LeafRecord, encode_leaf
from ledger.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from ledger.note import NoteSigner, Verifier, open_note
from ledger.receipt import (
    VerifiedReceipt,
    consistency_extension,
    issue_receipt,
    record_to_json,
    verify_receipt,
)
from ledger.sqlstore import ConnectionNodeStore, SqlNodeStore
from ledger.tree import MemoryNodeStore, MerkleTree, NodeKey, NodeStore
from ledger.verify import CompactTree, VerifyReport, verify_log
from ledger.witness import (
    AddCheckpoint,
    Witness,
    WitnessResponse,
    format_add_checkpoint,
    parse_add_checkpoint,
    parse_size_response,
)

__all__ = [
    "EMPTY_ROOT",
    "AddCheckpoint",
    "Checkpoint",
    "CheckpointError",
    "CheckpointLog",
    "CompactTree",
    "ConnectionNodeStore",
    "Cosignature",
    "CosignatureSigner",
    "CosignatureVerifier",
    "IntegrityError",
    "LeafRecord",
    "LedgerError",
    "LogEntry",
    "MemoryNodeStore",
    "MerkleTree",
    "NodeKey",
    "NodeStore",
    "NoteSigner",
    "ProofError",
    "ReceiptError",
    "Signer",
    "SqlNodeStore",
    "VerifiedReceipt",
    "Verifier",
    "VerifyReport",
    "Witness",
    "WitnessResponse",
    "add_signature_lines",
    "consistency_extension",
    "consistency_proof",
    "cosignature_key_id",
    "cosigned_message",
    "encode_leaf",
    "format_add_checkpoint",
    "format_checkpoint_text",
    "inclusion_proof",
    "issue_receipt",
    "leaf_hash",
    "node_hash",
    "open_note",
    "parse_add_checkpoint",
    "parse_checkpoint",
    "parse_size_response",
    "record_to_json",
    "root_from_inclusion_proof",
    "root_from_leaf_hashes",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_log",
    "verify_receipt",
]
