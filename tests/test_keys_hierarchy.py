"""The key hierarchy (RET-5): a destroyed subject key's remnant dies with its KEK, on both backends.

A database keeps a deleted row until its pages are reused (PostgreSQL heap and WAL). These tests
keep such a remnant by hand, as an administrator with a copy of the pages would, and show that
after the next KEK rotation nothing that still exists opens it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cli_helpers import new_tenant

from processor.kernel.errors import IntegrityFailureError
from processor.keys import kek_status, keklifecycle, rotate_kek
from processor.keys import rotation as keyrotation
from processor.keys.keystore import (
    KeyStore,
    kek_name,
    key_encryption_keys,
    subject_key_name,
    subject_keys,
)
from processor.keys.sealing import ERASED, Sealer
from processor.keys.wrapping import CustodianWrapper, KeyWrapper


def _remnant(keys: KeyStore, subject: str) -> dict[str, object]:
    """The subject's wrapped key row, as a copy of the database pages would still hold it."""
    with keys.engine.connect() as conn:
        row = conn.execute(sa.select(subject_keys).where(subject_keys.c.subject_id == subject))
        return dict(row.mappings().one())


def _current_kek(proc) -> tuple[int, KeyWrapper]:
    """The current KEK, unwrapped by the custodian: all the key material that exists."""
    custodian = proc.keys.custodian
    with proc.keys.engine.connect() as conn:
        gen, wrapped, wrap_gen = conn.execute(
            sa.select(
                key_encryption_keys.c.generation,
                key_encryption_keys.c.wrapped,
                key_encryption_keys.c.wrap_generation,
            )
            .order_by(key_encryption_keys.c.generation.desc())
            .limit(1)
        ).one()
    return gen, KeyWrapper(custodian.unwrap(wrap_gen, kek_name(gen), wrapped))


def _every_kek(proc) -> list[KeyWrapper]:
    """Every KEK the key store still holds, unwrapped by the custodian."""
    custodian = proc.keys.custodian
    with proc.keys.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                key_encryption_keys.c.generation,
                key_encryption_keys.c.wrapped,
                key_encryption_keys.c.wrap_generation,
            )
        )
        return [KeyWrapper(custodian.unwrap(w_gen, kek_name(g), w)) for g, w, w_gen in rows]


def _opens(wrapper: KeyWrapper, name: str, wrapped: bytes) -> bool:
    try:
        wrapper.unwrap(name, wrapped)
    except IntegrityFailureError:
        return False
    return True


def test_erased_key_remnant_fails_to_decrypt_after_kek_rotation__RET_5(proc, clock):
    """A remnant saved before erasure opens with nothing left after the rotation; the living still read."""
    gone, alive = str(uuid.uuid4()), str(uuid.uuid4())
    proc.sealer.new_subjects([gone, alive], proc.now())
    sealed = {
        s: proc.sealer.seal(s, "profile", {"email": f"{s}@example.dk"}) for s in (gone, alive)
    }
    remnant = _remnant(proc.keys, gone)
    old_gen, old_kek = _current_kek(proc)
    assert old_kek.unwrap(subject_key_name(gone, old_gen), remnant["wrapped"])  # it did open

    clock.advance(timedelta(minutes=5))
    proc.sealer.shred([gone], proc.now())
    assert keyrotation.kek_status(proc.keys, proc.policies.keys, proc.now)["due_now"], (
        "an erasure makes a rotation due"
    )
    result = keyrotation.rotate_kek_if_due(proc.keys, proc.policies.keys, proc.now)
    assert result is not None

    custodian = proc.keys.custodian
    new_gen, _ = _current_kek(proc)
    assert new_gen > old_gen
    assert custodian.generations() == (2,), "the ratchet destroyed wrapping generation 1"
    held = [CustodianWrapper(custodian, g) for g in custodian.generations()]
    everything = [*held, *_every_kek(proc)]  # all the key material that still exists
    for wrapper in everything:
        for gen in (old_gen, new_gen, 0):
            assert not _opens(wrapper, subject_key_name(gone, gen), remnant["wrapped"])
    assert result["destroyed_generations"] == [old_gen]
    with proc.keys.engine.connect() as conn:
        gens = set(conn.execute(sa.select(key_encryption_keys.c.generation)).scalars())
    assert gens == {new_gen}, "the old KEK is destroyed"

    fresh = Sealer(proc.keys)  # no cached keys: everything comes from the store again
    assert fresh.open(alive, "profile", sealed[alive]) == {"email": f"{alive}@example.dk"}
    assert fresh.open(gone, "profile", sealed[gone]) is ERASED
    assert _remnant(proc.keys, alive)["kek_generation"] == new_gen
    assert keyrotation.kek_status(proc.keys, proc.policies.keys, proc.now)["due_now"] is False


def test_kek_rotation_is_due_on_schedule__RET_5(proc, clock):
    """Without erasures the KEK is still rotated: due `kek_rotation_hours` after it was made."""
    status = keyrotation.kek_status(proc.keys, proc.policies.keys, proc.now)
    hours = proc.policies.keys.kek_rotation_hours
    assert hours == 24
    assert status["due_now"] is False
    assert keyrotation.rotate_kek_if_due(proc.keys, proc.policies.keys, proc.now) is None
    clock.advance(timedelta(hours=hours))
    assert keyrotation.kek_status(proc.keys, proc.policies.keys, proc.now)["due_now"] is True
    assert keyrotation.rotate_kek_if_due(proc.keys, proc.policies.keys, proc.now) is not None


def test_a_rotation_killed_before_destroying_is_finished_by_the_next__RET_5(proc, monkeypatch):
    """Crash-safety: killed after re-wrapping, nothing is lost; the next rotation destroys the rest."""
    subjects = [str(uuid.uuid4()) for _ in range(7)]
    proc.sealer.new_subjects(subjects, proc.now())
    sealed = {s: proc.sealer.seal(s, "p", s) for s in subjects}

    def killed(store, below):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(keklifecycle, "destroy_unused_keks", killed)
        with pytest.raises(KeyboardInterrupt):
            rotate_kek(proc.keys, proc.now(), batch_size=3)
    status = kek_status(proc.keys)
    assert status.generation == 2
    assert keyrotation.kek_status(proc.keys, proc.policies.keys, proc.now)["due_now"], (
        "the old KEK is still there: due at once"
    )
    fresh = Sealer(proc.keys)
    assert all(fresh.open(s, "p", sealed[s]) == s for s in subjects)

    result = rotate_kek(proc.keys, proc.now(), batch_size=3)
    assert result.destroyed_generations == (1, 2)
    assert kek_status(proc.keys).keys_per_generation == {3: len(subjects) + 1}  # + records key
    fresh = Sealer(proc.keys)
    assert all(fresh.open(s, "p", sealed[s]) == s for s in subjects)


def test_keys_status_and_rotate_kek_commands__RET_5(shared):
    """`keys status` and `keys rotate-kek` run for the GDPA and system manager only."""
    tenant = new_tenant(shared)
    before = shared.ok("keys", "status", user="grete")
    assert before["keys_per_generation"]
    rotated = shared.ok("keys", "rotate-kek", user="sam")
    assert rotated["generation"] == before["generation"] + 1
    assert rotated["destroyed_generations"] == [before["generation"]]
    after = shared.ok("keys", "status", user="grete")
    assert list(after["keys_per_generation"]) == [str(rotated["generation"])]
    assert after["due_now"] is False
    assert "generation" in shared.text("keys", "status", user="sam")
    assert "may not keys.rotate" in shared.fails(1, "keys", "rotate-kek", user=tenant.admin)
    shared.fails(1, "keys", "status", user=tenant.admin)
