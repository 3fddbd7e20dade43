"""Rotating the KEK and ratcheting the wrapping key (RET-5): on a schedule and after erasures.

A destroyed subject key can outlive its deletion as a wrapped remnant (PostgreSQL heap pages
and WAL, a filesystem's freed blocks). The remnant is wrapped by the KEK of its generation, so
it becomes useless once that KEK is destroyed, which a rotation does after re-wrapping every
live key. But the old KEK row outlives its deletion in the same way, wrapped under the
custodian's wrapping key; so every rotation is followed by the ratchet (`processor.keys.ratchet`),
which destroys that wrapping key too. `keys.toml` says how long that may take; the erasure path
and `processor keys rotate-kek` call in here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from processor.keys import ratchet as keyratchet

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor
    from processor.keys.keklifecycle import RotationResult
    from processor.keys.ratchet import RatchetResult
    from processor.session import Session


def _every(proc: Processor) -> timedelta:
    return timedelta(hours=proc.policies.keys.kek_rotation_hours)


def ratchet_due(proc: Processor) -> tuple[datetime | None, bool]:
    """When the next ratchet is due (None: cannot ratchet), and whether an erasure waits on it.

    Due `ratchet_hours` after the last ratchet (or the store's making), and no later than
    `ratchet_hours` after the first erasure since: the policy's bound on a remnant's life.
    """
    state = keyratchet.ratchet_status(proc.keys)
    if not state.can_ratchet:
        return None, False
    every = timedelta(hours=proc.policies.keys.ratchet_hours)
    last = state.last_ratchet_at or state.made_at
    erased = proc.keys.kek_status().last_erasure_at
    waiting = erased is not None and (last is None or erased > last)
    if last is None:
        return proc.now(), waiting
    return last + every, waiting


def kek_status(proc: Processor) -> dict[str, Any]:
    """The KEK's generation and age, keys per generation, the custodian, and what is due."""
    status = proc.keys.kek_status()
    now = proc.now()
    due = status.due_at(_every(proc), after_erasure=proc.policies.keys.rotate_after_erasure)
    state = keyratchet.ratchet_status(proc.keys)
    ratchet_at, waiting = ratchet_due(proc)
    return {
        "generation": status.generation,
        "created_at": status.created_at.isoformat(),
        "age_hours": round((now - status.created_at).total_seconds() / 3600, 2),
        "keys_per_generation": {str(g): n for g, n in sorted(status.keys_per_generation.items())},
        "last_erasure_at": status.last_erasure_at.isoformat() if status.last_erasure_at else None,
        "next_rotation_due": due.isoformat(),
        "due_now": due <= now,
        "custodian": {
            "kind": state.kind,
            "where": state.where,
            "can_ratchet": state.can_ratchet,
            "wrapping_generation": state.generation,
            "last_ratchet_at": state.last_ratchet_at.isoformat() if state.last_ratchet_at else None,
            "next_ratchet_due": ratchet_at.isoformat() if ratchet_at else None,
            "erasure_waiting": waiting,
            "ratchet_overdue": bool(waiting and ratchet_at and ratchet_at <= now),
            "why_not": state.why_not or None,
        },
        "policy_version": proc.policies.keys.version,
    }


def _result(result: RotationResult, ratchet: RatchetResult | None) -> dict[str, Any]:
    return {
        "generation": result.generation,
        "rewrapped": result.rewrapped,
        "destroyed_generations": list(result.destroyed_generations),
        "ratchet": _ratchet(ratchet),
    }


def _ratchet(result: RatchetResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "wrapping_generation": result.generation,
        "keks_rewrapped": result.keks,
        "system_keys_rewrapped": result.system_keys,
        "destroyed_wrapping_generations": list(result.destroyed_generations),
    }


def _rotate_and_ratchet(proc: Processor) -> dict[str, Any]:
    """Rotate the KEK, then ratchet.

    The erased subject's remnant is wrapped under the KEK just destroyed, and that KEK's own
    copies (WAL, dumps, backups) under the wrapping key the ratchet destroys.
    """
    rotation = proc.keys.rotate_kek(proc.now())
    ratchet = None
    if proc.keys.custodian.can_ratchet:
        ratchet = keyratchet.ratchet(proc.keys, proc.now())
    return _result(rotation, ratchet)


def rotate_kek_if_due(proc: Processor) -> dict[str, Any] | None:
    """Rotate (and ratchet) when the schedule or an erasure since the last rotation asks for it.

    For the erasure path and sweeps: call it after the keys are destroyed. It needs no
    session, because it changes no personal data and no decision, only how keys are wrapped.
    """
    status = proc.keys.kek_status()
    due = status.due_at(_every(proc), after_erasure=proc.policies.keys.rotate_after_erasure)
    ratchet_at, _ = ratchet_due(proc)
    ratchet_now = ratchet_at is not None and ratchet_at <= proc.now()
    if due > proc.now() and not ratchet_now:
        return None
    return _rotate_and_ratchet(proc)


def rotate_kek(session: Session) -> dict[str, Any]:
    """`processor keys rotate-kek`: rotate now, then ratchet (GDPA or system manager)."""
    session.authorize("keys.rotate", command="keys rotate-kek")
    return _rotate_and_ratchet(session.proc)


def rotate_kek_when_due(session: Session) -> dict[str, Any] | None:
    """`processor keys rotate-kek --if-due`: the daily cron's call, so erasures are ratcheted.

    Rotates and ratchets only when the schedule or an erasure since the last rotation makes it
    due, so running it every day batches a day's erasures into one ratchet (RET-5).
    """
    session.authorize("keys.rotate", command="keys rotate-kek")
    return rotate_kek_if_due(session.proc)


def ratchet(session: Session) -> dict[str, Any]:
    """`processor keys ratchet`: a new wrapping key now, the old one destroyed."""
    session.authorize("keys.rotate", command="keys ratchet")
    result = keyratchet.ratchet(session.proc.keys, session.proc.now())
    data = _ratchet(result)
    assert data is not None  # noqa: S101 - a ratchet always has a result
    return data


def status(session: Session) -> dict[str, Any]:
    """`processor keys status`, for those who may rotate."""
    session.authorize("keys.rotate", command="keys status")
    return kek_status(session.proc)


def attention(proc: Processor) -> list[str]:
    """`status` lines: a ratchet overdue after an erasure, or a custodian that cannot ratchet."""
    state = keyratchet.ratchet_status(proc.keys)
    if not state.can_ratchet:
        return [f"the key custodian cannot ratchet: {state.why_not}"]
    ratchet_at, waiting = ratchet_due(proc)
    if waiting and ratchet_at is not None and ratchet_at <= proc.now():
        return [
            (
                "a key ratchet is overdue after an erasure: erased subjects' key remnants "
                "stay openable until `processor keys rotate-kek` runs"
            )
        ]
    return []
