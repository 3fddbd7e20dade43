"""The KEK schedule (RET-5): when the KEK rotation and the ratchet are due, and running them.

A destroyed subject key can outlive its deletion as a wrapped remnant (PostgreSQL heap pages
and WAL, a filesystem's freed blocks). The remnant is wrapped by the KEK of its generation, so
it becomes useless once that KEK is destroyed, which a rotation does after re-wrapping every
live key. But the old KEK row outlives its deletion in the same way, wrapped under the
custodian's wrapping key; so every rotation is followed by the ratchet (`processor.keys.ratchet`),
which destroys that wrapping key too. `keys.toml` says how long that may take.

Everything here takes what it uses: the key store, the keys policy and the clock (called
whenever the time is wanted, as the store's own `now`). The commands run by a signed-in person
(`processor keys rotate-kek`, `ratchet`, `status`) are `processor.services.keys`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from processor.keys import ratchet as keyratchet
from processor.keys.keklifecycle import kek_status as store_kek_status
from processor.keys.keklifecycle import rotate_kek

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from processor.keys.keklifecycle import RotationResult
    from processor.keys.keystore import KeyStore
    from processor.keys.ratchet import RatchetResult
    from processor.policies import KeysPolicy


def _every(policy: KeysPolicy) -> timedelta:
    return timedelta(hours=policy.kek_rotation_hours)


def ratchet_due(
    store: KeyStore, policy: KeysPolicy, now: Callable[[], datetime]
) -> tuple[datetime | None, bool]:
    """When the next ratchet is due (None: cannot ratchet), and whether an erasure waits on it.

    Due `ratchet_hours` after the last ratchet (or the store's making), and no later than
    `ratchet_hours` after the first erasure since: the policy's bound on a remnant's life.
    """
    state = keyratchet.ratchet_status(store)
    if not state.can_ratchet:
        return None, False
    every = timedelta(hours=policy.ratchet_hours)
    last = state.last_ratchet_at or state.made_at
    erased = store_kek_status(store).last_erasure_at
    waiting = erased is not None and (last is None or erased > last)
    if last is None:
        return now(), waiting
    return last + every, waiting


def kek_status(store: KeyStore, policy: KeysPolicy, now: Callable[[], datetime]) -> dict[str, Any]:
    """The KEK's generation and age, keys per generation, the custodian, and what is due."""
    status = store_kek_status(store)
    at = now()
    due = status.due_at(_every(policy), after_erasure=policy.rotate_after_erasure)
    state = keyratchet.ratchet_status(store)
    ratchet_at, waiting = ratchet_due(store, policy, now)
    return {
        "generation": status.generation,
        "created_at": status.created_at.isoformat(),
        "age_hours": round((at - status.created_at).total_seconds() / 3600, 2),
        "keys_per_generation": {str(g): n for g, n in sorted(status.keys_per_generation.items())},
        "last_erasure_at": status.last_erasure_at.isoformat() if status.last_erasure_at else None,
        "next_rotation_due": due.isoformat(),
        "due_now": due <= at,
        "custodian": {
            "kind": state.kind,
            "where": state.where,
            "can_ratchet": state.can_ratchet,
            "wrapping_generation": state.generation,
            "last_ratchet_at": state.last_ratchet_at.isoformat() if state.last_ratchet_at else None,
            "next_ratchet_due": ratchet_at.isoformat() if ratchet_at else None,
            "erasure_waiting": waiting,
            "ratchet_overdue": bool(waiting and ratchet_at and ratchet_at <= at),
            "why_not": state.why_not or None,
        },
        "policy_version": policy.version,
    }


def _result(result: RotationResult, ratchet: RatchetResult | None) -> dict[str, Any]:
    return {
        "generation": result.generation,
        "rewrapped": result.rewrapped,
        "destroyed_generations": list(result.destroyed_generations),
        "ratchet": ratchet_report(ratchet),
    }


def ratchet_report(result: RatchetResult | None) -> dict[str, Any] | None:
    """What a ratchet did, as `keys ratchet` and `keys rotate-kek` show it (None: no ratchet)."""
    if result is None:
        return None
    return {
        "wrapping_generation": result.generation,
        "keks_rewrapped": result.keks,
        "system_keys_rewrapped": result.system_keys,
        "destroyed_wrapping_generations": list(result.destroyed_generations),
    }


def rotate_and_ratchet(store: KeyStore, now: Callable[[], datetime]) -> dict[str, Any]:
    """Rotate the KEK, then ratchet.

    The erased subject's remnant is wrapped under the KEK just destroyed, and that KEK's own
    copies (WAL, dumps, backups) under the wrapping key the ratchet destroys.
    """
    rotation = rotate_kek(store, now())
    ratchet = None
    if store.custodian.can_ratchet:
        ratchet = keyratchet.ratchet(store, now())
    return _result(rotation, ratchet)


def rotate_kek_if_due(
    store: KeyStore, policy: KeysPolicy, now: Callable[[], datetime]
) -> dict[str, Any] | None:
    """Rotate (and ratchet) when the schedule or an erasure since the last rotation asks for it.

    For the erasure path and sweeps: call it after the keys are destroyed. It needs no
    session, because it changes no personal data and no decision, only how keys are wrapped.
    """
    status = store_kek_status(store)
    due = status.due_at(_every(policy), after_erasure=policy.rotate_after_erasure)
    ratchet_at, _ = ratchet_due(store, policy, now)
    ratchet_now = ratchet_at is not None and ratchet_at <= now()
    if due > now() and not ratchet_now:
        return None
    return rotate_and_ratchet(store, now)


def attention(store: KeyStore, policy: KeysPolicy, now: Callable[[], datetime]) -> list[str]:
    """`status` lines: a ratchet overdue after an erasure, or a custodian that cannot ratchet."""
    state = keyratchet.ratchet_status(store)
    if not state.can_ratchet:
        return [f"the key custodian cannot ratchet: {state.why_not}"]
    ratchet_at, waiting = ratchet_due(store, policy, now)
    if waiting and ratchet_at is not None and ratchet_at <= now():
        return [
            (
                "a key ratchet is overdue after an erasure: erased subjects' key remnants "
                "stay openable until `processor keys rotate-kek` runs"
            )
        ]
    return []
