"""Rotating the key-encryption key (RET-5): on a schedule, and after erasures.

A destroyed subject key can outlive its deletion as a wrapped remnant (PostgreSQL heap pages
and WAL, a filesystem's freed blocks). The remnant is wrapped by the KEK of its generation, so
it becomes useless once that KEK is destroyed, which a rotation does after re-wrapping every
live key. `keys.toml` says how long that may take; the erasure path and `processor keys
rotate-kek` call in here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.keklifecycle import RotationResult
    from processor.session import Session


def _every(proc: Processor) -> timedelta:
    return timedelta(hours=proc.policies.keys.kek_rotation_hours)


def kek_status(proc: Processor) -> dict[str, Any]:
    """The KEK's generation and age, keys per generation, and when the next rotation is due."""
    status = proc.keys.kek_status()
    now = proc.now()
    due = status.due_at(_every(proc), after_erasure=proc.policies.keys.rotate_after_erasure)
    return {
        "generation": status.generation,
        "created_at": status.created_at.isoformat(),
        "age_hours": round((now - status.created_at).total_seconds() / 3600, 2),
        "keys_per_generation": {str(g): n for g, n in sorted(status.keys_per_generation.items())},
        "last_erasure_at": status.last_erasure_at.isoformat() if status.last_erasure_at else None,
        "next_rotation_due": due.isoformat(),
        "due_now": due <= now,
        "policy_version": proc.policies.keys.version,
    }


def _result(result: RotationResult) -> dict[str, Any]:
    return {
        "generation": result.generation,
        "rewrapped": result.rewrapped,
        "destroyed_generations": list(result.destroyed_generations),
    }


def rotate_kek_if_due(proc: Processor) -> dict[str, Any] | None:
    """Rotate when the schedule or an erasure since the last rotation asks for it.

    For the erasure path and sweeps: call it after the keys are destroyed. It needs no
    session, because it changes no personal data and no decision, only how keys are wrapped.
    """
    status = proc.keys.kek_status()
    due = status.due_at(_every(proc), after_erasure=proc.policies.keys.rotate_after_erasure)
    if due > proc.now():
        return None
    return _result(proc.keys.rotate_kek(proc.now()))


def rotate_kek(session: Session) -> dict[str, Any]:
    """`processor keys rotate-kek`: rotate now (GDPA or system manager, `keys.rotate`)."""
    session.authorize("keys.rotate", command="keys rotate-kek")
    return _result(session.proc.keys.rotate_kek(session.proc.now()))


def status(session: Session) -> dict[str, Any]:
    """`processor keys status`, for those who may rotate."""
    session.authorize("keys.rotate", command="keys status")
    return kek_status(session.proc)
