"""The `processor keys` use cases: status, KEK rotation and ratchet, for those who may rotate.

Each checks the session's right (`keys.rotate`) and then runs the KEK schedule
(`processor.keys.rotation`) or the ratchet (`processor.keys.ratchet`) on the processor's key
store, with its keys policy and clock. The key family below knows nothing of sessions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.keys import ratchet as keyratchet
from processor.keys import rotation as keyrotation

if TYPE_CHECKING:
    from processor.session import Session


def rotate_kek(session: Session) -> dict[str, Any]:
    """`processor keys rotate-kek`: rotate now, then ratchet (GDPA or system manager)."""
    session.authorize("keys.rotate", command="keys rotate-kek")
    return keyrotation.rotate_and_ratchet(session.proc.keys, session.proc.now)


def rotate_kek_when_due(session: Session) -> dict[str, Any] | None:
    """`processor keys rotate-kek --if-due`: the daily cron's call, so erasures are ratcheted.

    Rotates and ratchets only when the schedule or an erasure since the last rotation makes it
    due, so running it every day batches a day's erasures into one ratchet (RET-5).
    """
    session.authorize("keys.rotate", command="keys rotate-kek")
    proc = session.proc
    return keyrotation.rotate_kek_if_due(proc.keys, proc.policies.keys, proc.now)


def ratchet(session: Session) -> dict[str, Any]:
    """`processor keys ratchet`: a new wrapping key now, the old one destroyed."""
    session.authorize("keys.rotate", command="keys ratchet")
    result = keyratchet.ratchet(session.proc.keys, session.proc.now())
    data = keyrotation.ratchet_report(result)
    assert data is not None  # noqa: S101 - a ratchet always has a result
    return data


def status(session: Session) -> dict[str, Any]:
    """`processor keys status`, for those who may rotate."""
    session.authorize("keys.rotate", command="keys status")
    proc = session.proc
    return keyrotation.kek_status(proc.keys, proc.policies.keys, proc.now)
