"""How staff-access events change the read models: users' state and the access log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.readmodels.projector import Handler, Projector
    from processor.readmodels.writes import Writes


def _user(w: Writes, e: Any, **values: Any) -> None:  # noqa: ANN401
    w.execute(t.users.update().where(t.users.c.user_id == str(e.originator_id)).values(**values))


def _reviewed(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, last_review=e.timestamp)


def _undertaking(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, confidentiality_signed=e.confidentiality_signed, trained=e.trained)


def _revoked(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, revoked=True)


def _locked(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, locked=True)


def _unlocked(_p: Projector, w: Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, locked=False)


def _log(
    w: Writes,
    e: Any,  # noqa: ANN401
    pos: int,
    kind: str,
    *,
    controller: str | None,
    grant: str | None = None,
    contact: str | None = None,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    w.insert(
        t.access_log,
        {
            "position": pos,
            "at": e.timestamp,
            "kind": kind,
            "actor": e.actor,
            "controller": controller,
            "grant_id": grant,
            "contact": contact,
            "reason": reason,
            "detail": detail or {},
        },
    )


def _grant(p: Projector, e: Any) -> Any:  # noqa: ANN401
    return p.store.repository.get(e.originator_id, version=e.originator_version)


def _requested(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "requested",
        controller=e.controller,
        grant=str(e.originator_id),
        reason=e.reason,
        detail={"contacts": e.contacts, "hours": e.hours},
    )


def _approved(p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    grant = _grant(p, e)
    _log(
        w,
        e,
        pos,
        "approved",
        controller=grant.controller,
        grant=str(e.originator_id),
        reason=grant.reason,
        detail={
            "automatic": e.automatic,
            "instruction": e.instruction,
            "expires_at": grant.expires_at.isoformat(),
        },
    )


def _denied(p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    grant = _grant(p, e)
    _log(
        w,
        e,
        pos,
        "denied",
        controller=grant.controller,
        grant=str(e.originator_id),
        reason=e.reason,
    )


def _grant_revoked(p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    grant = _grant(p, e)
    _log(
        w,
        e,
        pos,
        "revoked",
        controller=grant.controller,
        grant=str(e.originator_id),
        reason=e.reason,
    )


def _revealed(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "revealed",
        controller=e.controller,
        grant=str(e.originator_id),
        contact=e.contact,
        reason=e.reason,
        detail={"fields": e.fields},
    )


def _viewed(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    # A support view names its case and a sealed reason (ACC-4, ACC-6); older views and
    # controller users' reads have none and log the command's name.
    case = getattr(e, "case", "")
    _log(
        w,
        e,
        pos,
        "viewed",
        controller=e.controller,
        contact=e.contact,
        reason=getattr(e, "reason", "") or e.command,
        detail={"scope": e.scope, **({"case": case} if case else {})},
    )


def _refused(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "refused",
        controller=e.controller,
        reason=e.reason,
        detail={"command": e.command, "rule": e.rule},
    )


def _sampled(_p: Projector, w: Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "sample-check",
        controller=None,
        reason=f"{e.violations} violations",
        detail={"entries": len(e.entries), "seed": e.seed, "population": e.population},
    )


# The events this module projects, for the table in `readmodels/registry.py`.
HANDLERS: dict[str, Handler] = {
    "User.UserReviewed": _reviewed,
    "User.StaffUndertakingRecorded": _undertaking,
    "User.UserAccessRevoked": _revoked,
    "User.UserLocked": _locked,
    "User.UserUnlocked": _unlocked,
    "AccessGrant.AccessRequested": _requested,
    "AccessGrant.AccessApproved": _approved,
    "AccessGrant.AccessRequestDenied": _denied,
    "AccessGrant.AccessGrantRevoked": _grant_revoked,
    "AccessGrant.PersonalDataRevealed": _revealed,
    "DataAccessRecord.PersonalDataViewed": _viewed,
    "AccessDenial.AccessDenied": _refused,
    "SampleCheck.AccessLogSampleChecked": _sampled,
}
