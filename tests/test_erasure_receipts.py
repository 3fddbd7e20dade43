"""Erasure receipts: what a controller needs to verify the erasure, no free text, files 0600
(RET-5, SUBJ-4). The reason may name the person; a receipt is filed and mailed for years.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from typing import TYPE_CHECKING

from cli_helpers import new_tenant

from ledger import Verifier, verify_receipt

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

REASON = "Jane Roe phoned on 2026-12-01 asking to be forgotten"


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_receipt_file_is_private_and_has_no_free_text__RET_5__SUBJ_4(shared, tmp_path):
    """`erase --receipt` under umask 022 writes a 0600 file that names the erasure by ids, time,
    actor, ledger position, leaf hash and checkpoint, verifies offline, and holds no reason.
    """
    tenant = new_tenant(shared)
    cid = tenant.add("jane.roe@example.dk")
    receipt_path = tmp_path / "receipt.json"
    with _umask(0o022):
        out = shared.ok("erase", tenant.ref, "--contact", cid, "--reason", REASON,
                        "--receipt", receipt_path, user=tenant.admin)  # fmt: skip
    assert _mode(receipt_path) == 0o600
    text = receipt_path.read_text(encoding="utf-8")
    assert REASON not in text
    assert REASON not in json.dumps(out)
    receipt = json.loads(text)
    details = receipt["metadata"]["details"]
    assert (details["controller"], details["contact_id"]) == (tenant.ref, cid)
    assert details["erased_by"] == tenant.admin
    assert details["erased_at"]
    assert receipt["record"]["position"] == receipt["metadata"]["position"]
    assert receipt["record"]["originator_id"] == cid
    assert len(receipt["metadata"]["leaf_hash"]) == 64
    assert receipt["metadata"]["tree_size"] > receipt["leaf_index"]
    key = shared.text("ledger", "public-key", user="grete").strip()
    verified = verify_receipt(receipt, Verifier.from_vkey(key))
    assert verified.record.leaf_hash().hex() == receipt["metadata"]["leaf_hash"]
    assert verified.checkpoint.size == receipt["metadata"]["tree_size"]


def test_reissued_receipt_file_is_private_too__RET_5(shared, tmp_path):
    """`receipts issue --erasure --out` under umask 022 writes 0600, and says no more either."""
    tenant = new_tenant(shared)
    cid = tenant.add("john.doe@example.dk")
    shared.ok("erase", tenant.ref, "--contact", cid, "--reason", REASON, user=tenant.admin)
    out = tmp_path / "again.json"
    with _umask(0o022):
        shared.ok("receipts", "issue", "--erasure", cid, "--out", out, user=tenant.admin)
    assert _mode(out) == 0o600
    assert REASON not in out.read_text(encoding="utf-8")
