"""The IT-security policy each person acknowledges (ACC-15) and the GDPA's term (ACC-16).

Policies are data (`policies/security.toml`): a change of the IT-security policy is a new
version there. The store records the version in force (`SecurityPolicyChanged`, at `init` and
when the first person acknowledges a version it had not seen), and each of the processor's
staff records their own `SecurityPolicyAcknowledged`; `Session.authorize` refuses them every
other command until they acknowledged the version in force.

The GDPA is appointed for at least the policy's minimum term (two years, seeds/000) at a time:
`GdpaAppointed` on the store at `init`, again at each renewal (`gdpa renew`, the system
manager) and when another person is appointed (`gdpa appoint NAME`). An expired appointment is
a deviation in `status` and in the audit report.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from processor.kernel.errors import InvalidInputError, RefusedError

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.domain.store import Store
    from processor.domain.users import User
    from processor.session import Session


def version_in_force(proc: Processor) -> str:
    """The IT-security policy version everyone with access must have acknowledged."""
    return proc.policies.security.version


def acknowledged_at_creation(proc: Processor, user: User, actor: str) -> None:
    """A person given access now receives the policy in force with it (ACC-15).

    Training in the IT-security policy is part of being given access (seeds/000), so a new
    person starts with the version in force acknowledged; only later changes ask again.
    """
    user.acknowledge_security_policy(actor=actor, version=version_in_force(proc))


def _add_years(day: date, years: int) -> date:
    """`day` plus whole years (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def appoint_at_init(proc: Processor, store: Store, gdpa: str) -> None:
    """Record the first GDPA's appointment for the policy's minimum term (ACC-16)."""
    starts = proc.now().date()
    ends = _add_years(starts, proc.policies.security.gdpa.min_term_years)
    store.appoint_gdpa(
        actor="init", gdpa=gdpa, starts=starts.isoformat(), ends=ends.isoformat(), renewal=False
    )


def appointment(proc: Processor) -> dict[str, Any]:
    """The GDPA's appointment as recorded, and whether it has expired (ACC-16).

    A store without a recorded appointment (made before it was recorded) counts as expired:
    nothing shows that the GDPA is appointed.
    """
    store = proc.store_info()
    recorded: dict[str, str] | None = getattr(store, "gdpa_appointment", None)
    today = proc.now().date()
    if recorded is None:
        return {"gdpa": None, "starts": None, "ends": None, "expired": True, "renewals": 0}
    return {
        **recorded,
        "expired": today >= date.fromisoformat(recorded["ends"]),
        "renewals": getattr(store, "gdpa_renewals", 0),
    }


class SecurityPolicyService:
    """Showing and acknowledging the IT-security policy; renewing the GDPA's appointment."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def show(self) -> dict[str, Any]:
        """The policy in force, and whether the acting person has acknowledged it."""
        user = self.s.authorize("self.policy", command="policy show")
        policy = self.proc.policies.security
        return {
            "version": policy.version,
            "title": policy.title,
            "points": list(policy.points),
            "acknowledged": getattr(user, "security_policy", None) == policy.version,
        }

    def acknowledge(self) -> dict[str, Any]:
        """Record that the acting person read and acknowledges the policy in force (ACC-15)."""
        user = self.s.authorize("self.policy", command="policy acknowledge")
        version = version_in_force(self.proc)
        changed: list[Any] = []
        with self.proc.using_clock():
            store = self.proc.store_info()
            previous = getattr(store, "security_policy", None)
            if previous != version:
                store.record_security_policy(
                    actor=self.s.user_name, version=version, previous=previous
                )
                changed.append(store)
            user.acknowledge_security_policy(actor=self.s.user_name, version=version)
            self.proc.commit(user, *changed)
        return {"user": user.name, "version": version, "acknowledged": True}

    def _term(self, years: int | None) -> int:
        minimum = self.proc.policies.security.gdpa.min_term_years
        term = minimum if years is None else years
        if not minimum <= term <= 10:  # noqa: PLR2004 - a sanity bound, not a policy
            raise InvalidInputError(f"--years must be between {minimum} (policy) and 10")
        return term

    def appoint_gdpa(self, name: str, years: int | None = None) -> dict[str, Any]:
        """Appoint a GDPA from today for at least the minimum term (ACC-16).

        For a new GDPA, or for a store that has no appointment on record (made before they
        were recorded), which `renew` cannot extend. The person must be an active processor
        user with the `gdpa` role: the appointment names who answers for the audits. A
        current appointment of someone else ends today, superseded; the events keep both.
        """
        self.s.authorize("gdpa.appoint", command="gdpa appoint")
        term = self._term(years)
        if not name.strip():
            raise InvalidInputError("name the GDPA user to appoint")
        user = self.s.find_user(name.strip())
        if user is None or user.controller is not None or user.role != "gdpa" or user.revoked:
            raise RefusedError(
                f"{name.strip()[:64]!r} is no active processor user with the gdpa role "
                "(`users add --role gdpa` first)",
                rule="GdpaMustBeAnActiveGdpaUser",
            )
        today = self.proc.now().date()
        with self.proc.using_clock():
            store = self.proc.store_info()
            store.appoint_gdpa(
                actor=self.s.user_name,
                gdpa=user.name,
                starts=today.isoformat(),
                ends=_add_years(today, term).isoformat(),
                renewal=False,
            )
            self.proc.commit(store)
        return appointment(self.proc)

    def renew_gdpa(self, years: int | None = None) -> dict[str, Any]:
        """Renew the GDPA's appointment for a further term of at least the minimum (ACC-16).

        The new term starts when the current one ends, or today if it already ended.
        """
        self.s.authorize("gdpa.appoint", command="gdpa renew")
        term = self._term(years)
        current = appointment(self.proc)
        if current["gdpa"] is None:
            raise RefusedError(
                "no GDPA appointment is on record to renew: record one with `gdpa appoint NAME`",
                rule="GdpaAppointmentMustExist",
            )
        today = self.proc.now().date()
        starts = max(today, date.fromisoformat(current["ends"]))
        ends = _add_years(starts, term)
        with self.proc.using_clock():
            store = self.proc.store_info()
            store.appoint_gdpa(
                actor=self.s.user_name,
                gdpa=current["gdpa"],
                starts=starts.isoformat(),
                ends=ends.isoformat(),
                renewal=True,
            )
            self.proc.commit(store)
        return appointment(self.proc)
