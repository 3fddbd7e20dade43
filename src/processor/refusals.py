"""Recording a refusal, and locking a person after repeated refused attempts (ACC-8).

Every refusal (a failed authentication, a missing permission, a broken business rule) becomes an
`AccessDenied` event before the error is raised. Refusals of *access* (authentication and
permission) also count towards the person's lockout on their own `User` aggregate, so the lockout
is decided from ledger-covered events; a business-rule refusal is recorded but never locks anyone.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn

from processor import context
from processor.domain.denials import AccessDenial
from processor.domain.ids import user_id
from processor.domain.users import User
from processor.errors import AccessDeniedError

if TYPE_CHECKING:
    from collections.abc import Callable

    from processor.app import Processor
    from processor.context import Via

# Called with (proc, user) after a controller's user was locked: the notices mechanism tells the
# controller (ACC-14). Set by the application at start-up, so this module imports no service.
on_locked: list[Callable[[Processor, User], None]] = []


def refuse(
    proc: Processor,
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
        locked = False
        if user is not None and not user.revoked:
            profile = proc.policies.profiles.profiles[proc.store_info().profile]
            user.count_refusal(actor="policy", rule=rule, command=command)
            window = timedelta(minutes=profile.lockout_window_minutes)
            if user.should_lock(proc.now(), profile.lockout_attempts, window):
                user.lock(
                    actor="policy",
                    attempts=user.refusals_since(proc.now() - window),
                    window_minutes=profile.lockout_window_minutes,
                )
                locked = True
            proc.commit(denial, user)
        else:
            proc.commit(denial)
        if locked and user is not None:
            for hook in on_locked:
                hook(proc, user)
    raise AccessDeniedError(f"refused: {reason} ({rule})", rule=rule)
