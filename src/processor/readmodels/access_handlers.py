"""How staff-access events change the read models: users' state and the access log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processor.readmodels import tables as t
from processor.readmodels.projector import handles

if TYPE_CHECKING:
    from processor.readmodels.projector import Projector, _Writes


def _user(w: _Writes, e: Any, **values: Any) -> None:  # noqa: ANN401
    w.execute(t.users.update().where(t.users.c.user_id == str(e.originator_id)).values(**values))


@handles("User.UserReviewed")
def _reviewed(_p: Projector, w: _Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, last_review=e.timestamp)


@handles("User.StaffUndertakingRecorded")
def _undertaking(_p: Projector, w: _Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, confidentiality_signed=e.confidentiality_signed, trained=e.trained)


@handles("User.UserAccessRevoked")
def _revoked(_p: Projector, w: _Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, revoked=True)


@handles("User.UserLocked")
def _locked(_p: Projector, w: _Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, locked=True)


@handles("User.UserUnlocked")
def _unlocked(_p: Projector, w: _Writes, e: Any, _pos: int) -> None:  # noqa: ANN401
    _user(w, e, locked=False)


def _log(
    w: _Writes,
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


@handles("AccessGrant.AccessRequested")
def _requested(_p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
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


@handles("AccessGrant.AccessApproved")
def _approved(p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
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


@handles("AccessGrant.AccessRequestDenied")
def _denied(p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
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


@handles("AccessGrant.AccessGrantRevoked")
def _grant_revoked(p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
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


@handles("AccessGrant.PersonalDataRevealed")
def _revealed(_p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
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


@handles("DataAccessRecord.PersonalDataViewed")
def _viewed(_p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "viewed",
        controller=e.controller,
        contact=e.contact,
        reason=e.command,
        detail={"scope": e.scope},
    )


@handles("AccessDenial.AccessDenied")
def _refused(_p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "refused",
        controller=e.controller,
        reason=e.reason,
        detail={"command": e.command, "rule": e.rule},
    )


@handles("SampleCheck.AccessLogSampleChecked")
def _sampled(_p: Projector, w: _Writes, e: Any, pos: int) -> None:  # noqa: ANN401
    _log(
        w,
        e,
        pos,
        "sample-check",
        controller=None,
        reason=f"{e.violations} violations",
        detail={"entries": len(e.entries), "seed": e.seed, "population": e.population},
    )
