"""The ratchet: a new wrapping key, everything live re-wrapped, the old one destroyed (RET-5).

Rotating the KEK does not help against a copy of the key store: the old KEK row survives in
PostgreSQL's WAL, a `pg_dump`, a copy of `keys.sqlite` or a key-store backup, and it is wrapped
under a wrapping key that still exists. The ratchet makes the custodian's generation n+1,
re-wraps every live KEK, every system key and the check value under it in one key-store
transaction, and after the commit destroys generation n (and any older leftover) in the
custodian. Every copy of anything wrapped under n then opens with nothing that exists.

Crash safety, by the order of the steps:
- killed before the commit: n is live, n+1 is an unused leftover; the next ratchet destroys it
  (it destroys every generation older than the one it commits);
- killed after the commit: n+1 is live, n is an unused leftover; the next open of the key store
  (or the next ratchet) destroys it.

Subject keys from before KEKs existed (generation 0) are wrapped by the wrapping key itself, so
they are moved under a KEK (a KEK rotation) before the wrapping key they depend on goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from processor.kernel.errors import ConflictError, RefusedError
from processor.keys.keklifecycle import rotate_kek
from processor.keys.keystore import (
    CHECK_NAME,
    CUSTODIAN_ROW,
    LEGACY_GENERATION,
    kek_name,
    key_custodian,
    key_encryption_keys,
    key_store_check,
    subject_keys,
    system_keys,
)

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from processor.keys.keystore import KeyStore


@dataclass(frozen=True)
class RatchetResult:
    """What one ratchet did."""

    generation: int
    keks: int
    system_keys: int
    destroyed_generations: tuple[int, ...]


def ratchet(
    store: KeyStore, at: datetime, *, after_commit: Callable[[], None] | None = None
) -> RatchetResult:
    """Make a new wrapping generation, re-wrap everything live under it, destroy the old ones.

    `after_commit` runs between the commit and the destruction (tests inject a crash there).
    """
    custodian = store.custodian
    if not custodian.can_ratchet:
        raise RefusedError(custodian.why_not_ratchet(), rule="CustodianMustBeAbleToRatchet")
    if _legacy_keys(store):
        rotate_kek(store, at)
    new = custodian.ratchet()
    # Should this fail, n+1 is left unused and the next ratchet destroys it. It is not
    # destroyed here: a commit that failed to answer may still have committed.
    keks, names = _rewrap(store, new, at)
    store.forget_keks()  # no unwrapped KEK outlives a ratchet in this process
    if after_commit is not None:
        after_commit()
    destroyed = tuple(g for g in custodian.generations() if g < new)
    for generation in destroyed:
        custodian.destroy(generation)
    store.purge_dead_copies(wrapped=True)
    return RatchetResult(new, keks, names, destroyed)


def _legacy_keys(store: KeyStore) -> int:
    with store.engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count())
            .select_from(subject_keys)
            .where(subject_keys.c.kek_generation == LEGACY_GENERATION)
        ).scalar()
    return int(count or 0)


def _rewrap(store: KeyStore, new: int, at: datetime) -> tuple[int, int]:
    """One transaction: every KEK, system key and the check value re-wrapped under `new`."""
    custodian = store.custodian
    with store.engine.begin() as conn:
        # The exclusive lock waits for every writer that wraps under the current generation.
        current = conn.execute(
            sa.select(key_store_check.c.wrap_generation)
            .where(key_store_check.c.name == CHECK_NAME)
            .with_for_update()
        ).scalar_one()
        if current >= new:
            raise ConflictError("another ratchet ran meanwhile: run `keys ratchet` again")
        if _legacy_keys_in(conn):
            raise ConflictError("keys from before KEKs appeared meanwhile: run it again")
        keks = conn.execute(
            sa.select(
                key_encryption_keys.c.generation,
                key_encryption_keys.c.wrapped,
                key_encryption_keys.c.wrap_generation,
            ).with_for_update()
        ).all()
        for generation, wrapped, old in keks:
            name = kek_name(int(generation))
            conn.execute(
                key_encryption_keys.update()
                .where(key_encryption_keys.c.generation == generation)
                .values(
                    wrapped=custodian.wrap(new, name, custodian.unwrap(int(old), name, wrapped)),
                    wrap_generation=new,
                )
            )
        names = conn.execute(
            sa.select(
                system_keys.c.name, system_keys.c.wrapped, system_keys.c.wrap_generation
            ).with_for_update()
        ).all()
        for key_name, wrapped, old in names:
            conn.execute(
                system_keys.update()
                .where(system_keys.c.name == key_name)
                .values(
                    wrapped=custodian.wrap(
                        new, key_name, custodian.unwrap(int(old), key_name, wrapped)
                    ),
                    wrap_generation=new,
                )
            )
        sealed = conn.execute(
            sa.select(key_store_check.c.sealed).where(key_store_check.c.name == CHECK_NAME)
        ).scalar_one()
        conn.execute(
            key_store_check.update()
            .where(key_store_check.c.name == CHECK_NAME)
            .values(
                sealed=custodian.wrap(
                    new, CHECK_NAME, custodian.unwrap(current, CHECK_NAME, sealed)
                ),
                wrap_generation=new,
            )
        )
        conn.execute(
            key_custodian.update()
            .where(key_custodian.c.name == CUSTODIAN_ROW)
            .values(last_ratchet_at=at)
        )
    return len(keks), len(names)


def _legacy_keys_in(conn: sa.Connection) -> bool:
    return (
        conn.execute(
            sa.select(subject_keys.c.subject_id)
            .where(subject_keys.c.kek_generation == LEGACY_GENERATION)
            .limit(1)
        ).first()
        is not None
    )


@dataclass(frozen=True)
class RatchetStatus:
    """The custodian and the ratchet's state, for `keys status` and `status`."""

    kind: str
    where: str
    can_ratchet: bool
    generation: int
    last_ratchet_at: datetime | None
    made_at: datetime | None
    why_not: str


def ratchet_status(store: KeyStore) -> RatchetStatus:
    """Which custodian, which generation, when the ratchet last ran."""
    with store.engine.connect() as conn:
        generation = conn.execute(
            sa.select(key_store_check.c.wrap_generation).where(key_store_check.c.name == CHECK_NAME)
        ).scalar_one()
        row = conn.execute(
            sa.select(key_custodian.c.created_at, key_custodian.c.last_ratchet_at).where(
                key_custodian.c.name == CUSTODIAN_ROW
            )
        ).first()
    custodian = store.custodian
    return RatchetStatus(
        kind=custodian.kind,
        where=custodian.describe(),
        can_ratchet=custodian.can_ratchet,
        generation=int(generation),
        last_ratchet_at=row[1] if row else None,
        made_at=row[0] if row else None,
        why_not=custodian.why_not_ratchet(),
    )
