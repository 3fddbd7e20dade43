"""Recording a refusal, and locking a person after repeated refused attempts (ACC-8, ACC-14).

Every refusal (a failed authentication, a missing permission, a broken business rule) becomes an
`AccessDenied` event before the error is raised. Refusals of *access* (authentication and
permission) also count towards the person's lockout on their own `User` aggregate, so the lockout
is decided from ledger-covered events; a business-rule refusal is recorded but never locks anyone.
When a controller's user is locked, that controller is told (a `suspected-misuse` notice) in the
same commit as the lock, so no lock of a controller's user is ever stored untold.

It takes the small port `notices.post.Posting` (find, commit, clock, policies, sealer), not the
whole `Processor`, and posts the notice through `notices.post`, below the notices' use cases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

from processor.domain.ids import user_id
from processor.domain.users import User
from processor.kernel import context
from processor.kernel.errors import AccessDeniedError

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from processor.domain.denials import AccessDenial
    from processor.kernel.context import Via
    from processor.notices.domain import Notice
    from processor.notices.post import Posting


def refuse(
    proc: Posting,
    *,
    actor: str,
    via: Via,
    command: str,
    controller: str | None,
    rule: str,
    reason: str,
    counts: bool,
) -> NoReturn:
    """Record an `AccessDenied` (and, when it `counts`, a lockout count), then raise."""
    record(
        proc, actor=actor, via=via, command=command, controller=controller, rule=rule,
        reason=reason, counts=counts,
    )  # fmt: skip
    raise AccessDeniedError(f"refused: {reason} ({rule})", rule=rule)


def record(
    proc: Posting,
    *,
    actor: str,
    via: Via,
    command: str,
    controller: str | None,
    rule: str,
    reason: str,
    counts: bool,
) -> None:
    """Record an `AccessDenied` (and, when it `counts`, a lockout count) without raising."""
    # Imported here: every session imports this module, few commands are refused (issue 28).
    from processor.domain.denials import AccessDenial

    with proc.using_clock(), context.using(via):
        denial = AccessDenial(
            actor=actor,
            command=command,
            controller=controller,
            rule=rule,
            reason=reason,
            policy_version=proc.policies.version,
        )
        found = proc.find(user_id(actor)) if counts else None
        user = found if isinstance(found, User) else None
        pending: list[Aggregate] = [denial]
        if user is not None and not user.revoked:
            profile = proc.policies.profiles.profiles[proc.store_info().profile]
            user.count_refusal(actor="policy", rule=rule, command=command)
            pending.append(user)
            minutes = profile.lockout_window_minutes
            window = timedelta(minutes=minutes)
            if user.should_lock(proc.now(), profile.lockout_attempts, window):
                attempts = user.refusals_since(proc.now() - window)
                user.lock(actor="policy", attempts=attempts, window_minutes=minutes)
                notice = _misuse_notice(proc, user, denial, attempts, minutes)
                if notice is not None:
                    pending.append(notice)
        proc.commit(*pending)


def _misuse_notice(
    proc: Posting, user: User, denial: AccessDenial, attempts: int, window_minutes: int
) -> Notice | None:
    """Tell the locked user's controller of a suspected misuse (ACC-14); None for staff.

    A processor staff member has no controller to tell, and a controller whose data is deleted
    has no records key left to seal the notice with: the lock is still stored in both cases.
    """
    from processor.notices.domain import SUSPECTED_MISUSE
    from processor.notices.post import new_notice, records_erased

    if user.controller is None or records_erased(proc, user.controller):
        return None
    name = user.name
    others, gdpas = _who_can_help(proc, user)
    unlock = f"the processor's GDPA ({', '.join(gdpas)})" if gdpas else "the processor's GDPA"
    if others:
        rotate = (
            f"have another administrator ({', '.join(others)}) rotate their credential "
            f"(`processor users credential {name} --rotate`) and ask {unlock} to unlock them "
            f"(`processor users unlock {name}`)"
        )
    else:
        rotate = (
            f"ask {unlock} to unlock them (`processor users unlock {name}`); {name} is the only "
            f"active administrator of {user.controller}, so {name} then rotates the credential "
            f"(`processor users credential {name} --rotate`). Add a second administrator "
            "(`processor users add NAME --role administrator --controller "
            f"{user.controller}`) so that one can act when the other cannot"
        )
    return new_notice(
        proc,
        controller=user.controller,
        kind=SUSPECTED_MISUSE,
        title=f"User {name} was locked after {attempts} refused attempts",
        body=(
            f"User {name} was locked at {proc.now().isoformat(timespec='minutes')} after "
            f"{attempts} refused attempts of access within {window_minutes} minutes (the last: "
            f"{denial.rule} on `{denial.command}`). Only {unlock} can unlock a user. If these "
            f"attempts were not made by {name}, someone may be trying to use their account: "
            f"{rotate}. If they were, ask {unlock} to unlock them."
        ),
        actor="policy",
        about=str(denial.id),
    )


def _who_can_help(proc: Posting, user: User) -> tuple[list[str], list[str]]:
    """The controller's other active administrators, and the active GDPA users, by name.

    Read from the users' read model, which lags this command only by the lock being recorded,
    so the locked user is left out by name.
    """
    import sqlalchemy as sa  # only a lockout reads the users

    from processor.readmodels import tables as t

    u = t.users.c
    active = u.revoked.is_(False) & u.locked.is_(False) & (u.name != user.name)
    with proc.engines.readmodels.connect() as conn:
        admins = conn.execute(
            sa.select(u.name)
            .where(active & (u.controller == user.controller) & (u.role == "administrator"))
            .order_by(u.name)
        ).scalars()
        others = [str(n) for n in admins]
        gdpas = [
            str(n)
            for n in conn.execute(
                sa.select(u.name)
                .where(active & u.controller.is_(None) & (u.role == "gdpa"))
                .order_by(u.name)
            ).scalars()
        ]
    return others, gdpas
