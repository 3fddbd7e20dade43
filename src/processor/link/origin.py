"""The ledger's origin line: which log a checkpoint belongs to (AUD-4).

C2SP tlog-checkpoint names a log by its origin line, the first line of every checkpoint, and
asks that it be unique to the log (a schema-less URL-like name without spaces or `+`); the
signed-note key that signs it carries the same name. A witness keeps its state per origin, so
two logs under one origin are one log to it: it cosigns whichever reaches it first and refuses
the other as a fork. Stores used to sign under `<processor name>/ledger/<store id>`, and the
store id is the same constant in every data directory, so every store had the same origin.

A store's origin is now `processor/<processor name>/<first 8 hex of SHA-256(public key)>`:
the key is made at `init`, at random, so no two stores share it. It is recorded at `init` in the
store's own (MACed, ledger-covered) events, never derived from something a database
administrator could change, and never changes afterwards. A store made before has no such
event and keeps the legacy origin its checkpoints, receipts and checkpoint log already carry:
switching would orphan every checkpoint handed out and every witness's state.
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

if TYPE_CHECKING:
    from processor.domain.store import Store

PREFIX = "processor"
# What a key name and an origin may hold (signed-note: no whitespace, no `+`); anything else in
# the processor's name becomes `-`.
_UNSAFE = re.compile(r"[^A-Za-z0-9._~-]+")


def unique_origin(processor_name: str, private_key: bytes) -> str:
    """`processor/<name>/<first 8 hex of sha256(public key)>` for an Ed25519 private key."""
    public = Ed25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()
    label = _UNSAFE.sub("-", processor_name).strip("-") or "store"
    return f"{PREFIX}/{label}/{hashlib.sha256(public).hexdigest()[:8]}"


def legacy_origin(store: Store) -> str:
    """The origin every store signed under before origins named the key (not unique)."""
    return f"{store.processor_name}/ledger/{str(store.id)[:8]}"


def store_origin(store: Store) -> str:
    """The origin this store signs under: the one recorded at `init`, else the legacy one."""
    chosen = getattr(store, "ledger_origin", None)
    return chosen if isinstance(chosen, str) and chosen else legacy_origin(store)
