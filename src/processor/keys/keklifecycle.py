"""The KEK lifecycle: rotating the key-encryption key and destroying old generations (RET-5).

The key store (`keystore`) keeps the key hierarchy's tables and the everyday reads and writes of
subject and system keys; this module, above it, makes a new KEK generation, re-wraps every live
subject key under it, destroys the generations no key uses any more, and reports the hierarchy's
state. It works on a `KeyStore` through the store's public KEK methods (`kek`, `new_kek`,
`forget_keks`, `purge_dead_copies`), so the store never imports it.

Each step commits on its own and an old KEK goes only when no key uses it, so a rotation killed
anywhere loses nothing; running it again finishes the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from processor.keys.keystore import (
    key_encryption_keys,
    shredded_subjects,
    subject_key_name,
    subject_keys,
    with_kek,
)

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from processor.keys.keystore import KeyStore


@dataclass(frozen=True)
class RotationResult:
    """What one KEK rotation did."""

    generation: int
    rewrapped: int
    destroyed_generations: tuple[int, ...]


@dataclass(frozen=True)
class KekStatus:
    """The state of the key hierarchy, for `processor keys status`."""

    generation: int
    created_at: datetime
    keys_per_generation: dict[int, int]
    last_erasure_at: datetime | None
    kek_generations: tuple[int, ...] = ()

    def due_at(self, every: timedelta, *, after_erasure: bool) -> datetime:
        """When the next rotation is due: on schedule, or at once after an erasure."""
        due = self.created_at + every
        if set(self.keys_per_generation) - {self.generation} or len(self.kek_generations) > 1:
            return self.created_at  # an interrupted rotation left an old KEK behind
        if after_erasure and self.last_erasure_at and self.last_erasure_at > self.created_at:
            return min(due, self.last_erasure_at)
        return due


def rotate_kek(store: KeyStore, at: datetime, *, batch_size: int = 500) -> RotationResult:
    """Make a new KEK, re-wrap every live subject key under it, destroy the old KEKs."""
    engine = store.engine
    with engine.begin() as conn:
        newest = conn.execute(sa.select(sa.func.max(key_encryption_keys.c.generation))).scalar()
        generation = int(newest or 0) + 1
        wrap_generation = store.wrap_generation(conn)  # share-locked: no ratchet meanwhile
        conn.execute(
            key_encryption_keys.insert(),
            {"generation": generation, "wrapped": store.new_kek(generation, wrap_generation),
             "created_at": at, "wrap_generation": wrap_generation},
        )  # fmt: skip
        new = store.kek(generation, _wrapped_kek(conn, generation), wrap_generation)
    rewrapped = 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                with_kek(subject_keys.c.subject_id, subject_keys.c.wrapped)
                .where(subject_keys.c.kek_generation < generation)
                .limit(batch_size)
                .with_for_update(of=subject_keys)
            ).all()
            for sid, wrapped, old, old_kek, old_wrap in rows:
                key = store.kek(old, old_kek, old_wrap).unwrap(subject_key_name(sid, old), wrapped)
                conn.execute(
                    subject_keys.update()
                    .where(subject_keys.c.subject_id == sid)
                    .where(subject_keys.c.kek_generation == old)
                    .values(
                        wrapped=new.wrap(subject_key_name(sid, generation), key),
                        kek_generation=generation,
                    )
                )
        rewrapped += len(rows)
        if len(rows) < batch_size:
            break
    destroyed = destroy_unused_keks(store, below=generation)
    store.purge_dead_copies(keks=bool(destroyed))
    return RotationResult(generation, rewrapped, destroyed)


def _wrapped_kek(conn: sa.Connection, generation: int) -> bytes | None:
    return conn.execute(
        sa.select(key_encryption_keys.c.wrapped).where(
            key_encryption_keys.c.generation == generation
        )
    ).scalar()


def destroy_unused_keks(store: KeyStore, below: int) -> tuple[int, ...]:
    """Delete every KEK older than `below` that no subject key uses any more."""
    destroyed: list[int] = []
    engine = store.engine
    with engine.connect() as conn:
        old = conn.execute(
            sa.select(key_encryption_keys.c.generation).where(
                key_encryption_keys.c.generation < below
            )
        ).scalars()
        generations = list(old)
    for gen in generations:
        with engine.begin() as conn:
            # Lock first: a writer holding it for share commits its new key before we count.
            conn.execute(
                sa.select(key_encryption_keys.c.generation)
                .where(key_encryption_keys.c.generation == gen)
                .with_for_update()
            )
            used = conn.execute(
                sa.select(sa.func.count())
                .select_from(subject_keys)
                .where(subject_keys.c.kek_generation == gen)
            ).scalar()
            if not used:
                conn.execute(
                    key_encryption_keys.delete().where(key_encryption_keys.c.generation == gen)
                )
                destroyed.append(gen)
    store.forget_keks()
    return tuple(destroyed)


def kek_status(store: KeyStore) -> KekStatus:
    """The current KEK generation and age, keys per generation, and the last erasure."""
    with store.engine.connect() as conn:
        gen, created = conn.execute(
            sa.select(key_encryption_keys.c.generation, key_encryption_keys.c.created_at)
            .order_by(key_encryption_keys.c.generation.desc())
            .limit(1)
        ).one()
        per = conn.execute(
            sa.select(subject_keys.c.kek_generation, sa.func.count()).group_by(
                subject_keys.c.kek_generation
            )
        ).all()
        last = conn.execute(sa.select(sa.func.max(shredded_subjects.c.shredded_at))).scalar()
        keks = conn.execute(sa.select(key_encryption_keys.c.generation)).scalars()
        generations = tuple(sorted(int(g) for g in keks))
    return KekStatus(gen, created, {int(g): int(n) for g, n in per}, last, generations)
