"""Staff access to controllers' data (ACC-4, ACC-5, ACC-6, ACC-11).

Support staff see pseudonymised records, and only for a support case the controller opened
(`services/support_requests`), naming that case and their reason, both logged with the view.
Identifying data needs an approved, unexpired grant whose scope covers the contact, and each
reveal is stored as `PersonalDataRevealed` before anything is shown: if that event cannot be
stored, the reveal fails and nothing is returned. Sample checks of the access log (ACC-7) are
`processor.audit.samples`: `access sample` is an alias of `audit sample`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.domain.access import DENIED, AccessGrant, DataAccessRecord
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.keys import Erased, open_records, seal_records
from processor.readmodels import tables as t
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from processor.domain.users import User
    from processor.policies import StaffProfile
    from processor.services.contacts import ContactsService
    from processor.services.staff import StaffService
    from processor.session import Session

SUPPORT_ACCESS = "support-access"
GRANT_REASON = "grant-reason"
DENIAL_REASON = "denial-reason"
REVOCATION_REASON = "grant-revocation-reason"
VIEW_REASON = "support-view-reason"
# Which sealed reason each kind of access-log entry carries (RET-3, RET-5).
_REASON_PURPOSES = {
    "requested": GRANT_REASON,
    "approved": GRANT_REASON,
    "revealed": GRANT_REASON,
    "denied": DENIAL_REASON,
    "revoked": REVOCATION_REASON,
    "viewed": VIEW_REASON,
}


class AccessService:
    """Support views, grants, reveals and the access log."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _staff_service(self) -> StaffService:
        """The staff use cases this one uses, as the same person (made on first use)."""
        from processor.services.staff import StaffService

        return StaffService(self.s)

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    # -- policy ---------------------------------------------------------------------------------

    def profile(self) -> StaffProfile:
        """The processor's staff-access profile, chosen at `init` (ACC-11)."""
        return self.proc.policies.profiles.profiles[self.proc.store_info().profile]

    def _staff_may_access(self, command: str, controller: str) -> User:
        """Common checks for staff touching a controller's data; refusals are recorded."""
        if not self.profile().staff_access:
            self.s.deny(
                command,
                controller,
                "NoStaffAccessProfile",
                "this processor's profile is no-staff-access: staff never access controller data",
            )
        user = self.s.authorize(
            f"{command.replace(' ', '.')}", command=command, controller=controller
        )
        self._staff_service.must_be_current(user, command, controller)
        find_controller(self.proc, controller)
        return user

    # -- support view (ACC-5) -------------------------------------------------------------------

    def support_view(
        self,
        controller: str,
        list_name: str | None = None,
        pseudonym: str | None = None,
        limit: int = 1000,
        *,
        case: str,
        reason: str,
    ) -> dict[str, Any]:
        """Pseudonymised facts only: lists, subscription, consent channels and dates, flags.

        Only for an open support case of the controller (ACC-4), with a reason; both are logged
        with the view, the reason sealed with the controller's records key (ACC-6).
        """
        if not reason.strip():
            raise InvalidInputError("a support view needs a reason (--reason)")
        if not case.strip():
            raise InvalidInputError("a support view names the controller's support case (--case)")
        self._staff_may_access("support view", controller)
        # Imported here: every recorded read imports this module, few open a view (issue 28).
        from processor.services import support_requests

        support_requests.must_be_open(
            self.s,
            find_controller(self.proc, controller),
            case.strip(),
            "support view",
            self.profile().support_request_days,
        )
        c, m, k = t.contacts, t.memberships, t.consents
        query = sa.select(c).where(c.c.controller == controller).order_by(c.c.pseudonym)
        if pseudonym:
            query = query.where(c.c.pseudonym == pseudonym)
        if list_name:
            query = query.where(
                c.c.contact_id.in_(
                    sa.select(m.c.contact_id).where(
                        (m.c.controller == controller) & (m.c.list_name == list_name)
                    )
                )
            )
        with self.proc.engines.readmodels.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(query.subquery())
            ).scalar_one()
            rows = conn.execute(query.limit(limit)).mappings().all()
            ids = [r["contact_id"] for r in rows]
            lists: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
            for r in conn.execute(sa.select(m).where(m.c.contact_id.in_(ids))).mappings():
                lists[r["contact_id"]].append(
                    {
                        "list": r["list_name"],
                        "subscribed": r["subscribed"],
                        "since": r["since"].isoformat(),
                        "unsubscribed_at": r["unsubscribed_at"].isoformat()
                        if r["unsubscribed_at"]
                        else None,
                    }
                )
            consents: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
            for r in conn.execute(sa.select(k).where(k.c.contact_id.in_(ids))).mappings():
                consents[r["contact_id"]].append(
                    {
                        "list": r["list_name"],
                        "channel": r["channel"],
                        "method": r["method"],
                        "given_at": r["given_at"],
                    }
                )
        if pseudonym and not rows:
            raise NotFoundError(f"no contact with pseudonym {pseudonym!r}")
        self._record_view(
            controller,
            None,
            "pseudonymised",
            "support view",
            case=case.strip(),
            reason=seal_records(self.proc.sealer, controller, VIEW_REASON, reason.strip()),
        )
        contacts = [
            {
                "pseudonym": r["pseudonym"],
                "lists": sorted(lists[r["contact_id"]], key=lambda x: x["list"]),
                "consents": consents[r["contact_id"]],
                "restricted": r["restricted"],
                "objected": r["objected"],
                "erased": r["erased"],
                "added_at": r["added_at"].isoformat(),
            }
            for r in rows
        ]
        return {
            "controller": controller,
            "case": case.strip(),
            "list": list_name,
            "count": total,
            "shown": len(contacts),
            "subscribed_shown": sum(any(x["subscribed"] for x in c["lists"]) for c in contacts),
            "contacts": contacts,
        }

    def _record_view(
        self,
        controller: str,
        contact: str | None,
        scope: str,
        command: str,
        *,
        case: str = "",
        reason: str = "",
    ) -> None:
        with self.proc.using_clock():
            record = DataAccessRecord(
                actor=self.s.user_name,
                controller=controller,
                contact=contact,
                scope=scope,
                command=command,
                case=case,
                reason=reason,
            )
            self.proc.commit(record)

    def close_case(self, controller: str, case: str) -> dict[str, Any]:
        """Close the controller's open support request for `case` (ACC-4).

        The controller's administrator withdraws its agreement, or the processor's support says
        the case is done; from then on no support view can name it.
        """
        me = self.s.find_user(self.s.user_name)
        if me is not None and me.controller is not None:
            self.s.authorize("controllers.instruct", command="support close", controller=controller)
        else:
            self._staff_may_access("support close", controller)
        from processor.services import support_requests

        ctrl = find_controller(self.proc, controller)
        number = support_requests.must_be_open(
            self.s, ctrl, case.strip(), "support close", self.profile().support_request_days
        )
        with self.proc.using_clock():
            ctrl.close_support_request(actor=self.s.user_name, number=number)
            self.proc.commit(ctrl)
        return {"controller": controller, "case": case.strip(), "request": number, "open": False}

    def record_subject_read(self, controller: str, contact_id: str, command: str) -> None:
        """Log a controller user's read of one subject (ACC-6 applies to them too)."""
        self._record_view(controller, contact_id, "subject", command)

    # -- grants (ACC-4, ACC-6) ------------------------------------------------------------------

    def contact_by_pseudonym(self, controller: str, pseudonym: str) -> str:
        """The contact id behind a pseudonym of this controller."""
        with self.proc.engines.readmodels.connect() as conn:
            found = conn.execute(
                sa.select(t.contacts.c.contact_id).where(
                    (t.contacts.c.controller == controller) & (t.contacts.c.pseudonym == pseudonym)
                )
            ).scalar()
        if found is None:
            raise NotFoundError(f"no contact with pseudonym {pseudonym!r}")
        return str(found)

    def request(
        self,
        controller: str,
        reason: str,
        contacts: list[str] | None = None,
        hours: int | None = None,
    ) -> dict[str, Any]:
        """Open a grant request; approved at once only under a standing instruction."""
        if not reason.strip():
            raise InvalidInputError("a grant needs a reason (--reason)")
        self._staff_may_access("access request", controller)
        profile = self.profile()
        length = profile.default_grant_hours if hours is None else hours
        if not 0 < length <= profile.max_grant_hours:
            raise InvalidInputError(
                f"--hours must be between 1 and {profile.max_grant_hours} (policy)"
            )
        scope = [self.contact_by_pseudonym(controller, p) for p in contacts or []]
        ctrl = find_controller(self.proc, controller)
        # Imported here: every recorded read imports this module, few ask for access (issue 28).
        from processor.services.agreements import usable

        # A standing instruction the processor flagged approves nothing until it is confirmed:
        # the request then waits for an approval like any other (INSTR-2).
        standing = [i for _, i in usable(ctrl, SUPPORT_ACCESS)]
        with self.proc.using_clock():
            grant = AccessGrant(
                actor=self.s.user_name,
                controller=controller,
                reason=seal_records(self.proc.sealer, controller, GRANT_REASON, reason.strip()),
                contacts=scope,
                hours=length,
                policy_version=self.proc.policies.version,
            )
            if standing:
                grant.approve(
                    actor="policy",
                    automatic=True,
                    instruction=f"{SUPPORT_ACCESS} of {standing[-1].given_at.isoformat()}",
                )
            self.proc.commit(grant)
        return self.describe(grant)

    def load(self, grant_id: str) -> AccessGrant:
        """Load a grant by id."""
        try:
            gid = uuid.UUID(grant_id)
        except ValueError:
            raise InvalidInputError(f"invalid grant id {grant_id[:40]!r}") from None
        grant: object = self.proc.find(gid)
        if not isinstance(grant, AccessGrant):
            raise NotFoundError(f"unknown grant {grant_id}")
        return grant

    def describe(self, grant: AccessGrant) -> dict[str, Any]:
        """A grant as shown to people."""
        expires = grant.expires_at
        return {
            "grant": str(grant.id),
            "staff": grant.staff,
            "controller": grant.controller,
            "reason": open_records(self.proc.sealer, grant.controller, GRANT_REASON, grant.reason),
            "scope": "whole controller"
            if not grant.contacts
            else f"{len(grant.contacts)} contact{'s' if len(grant.contacts) != 1 else ''}",
            "hours": grant.hours,
            "state": grant.state,
            "automatic": grant.automatic,
            # Who decided, under the name of what they decided: a denial was approved by no one.
            "approved_by": grant.decided_by if grant.approved_at is not None else None,
            "denied_by": grant.decided_by if grant.state == DENIED else None,
            "expires_at": expires.isoformat() if expires else None,
            "active": grant.is_active(self.proc.now()),
        }

    def decide(self, grant_id: str, *, approve: bool, reason: str = "") -> dict[str, Any]:
        """The controller's administrator approves or denies a request."""
        grant = self.load(grant_id)
        self.s.authorize("access.approve", command="access approve", controller=grant.controller)
        with self.proc.using_clock():
            if approve:
                grant.approve(actor=self.s.user_name, automatic=False, instruction="")
            else:
                if not reason.strip():
                    raise InvalidInputError("a denial needs a reason (--reason)")
                sealed = seal_records(
                    self.proc.sealer, grant.controller, DENIAL_REASON, reason.strip()
                )
                grant.deny(actor=self.s.user_name, reason=sealed)
            self.proc.commit(grant)
        return self.describe(grant)

    def revoke(self, grant_id: str, reason: str = "") -> dict[str, Any]:
        """Revoke a grant: its holder, the controller's administrator or the GDPA."""
        grant = self.load(grant_id)
        user = self.s.authorize(
            "access.revoke", command="access revoke", controller=grant.controller
        )
        if user.controller is None and user.role == "support" and grant.staff != user.name:
            self.s.deny(
                "access revoke",
                grant.controller,
                "OwnGrantsOnly",
                "support staff may revoke only their own grants",
            )
        with self.proc.using_clock():
            # Withdrawing access is never refused: after the controller's data was deleted its
            # records key is gone, so the processor's keeps the reason.
            sealed = seal_records(
                self.proc.sealer,
                grant.controller,
                REVOCATION_REASON,
                reason.strip(),
                or_processor=True,
            )
            grant.revoke(actor=self.s.user_name, reason=sealed or "revoked")
            self.proc.commit(grant)
        return self.describe(grant)

    def reveal(self, grant_id: str, pseudonym: str) -> dict[str, Any]:
        """Show identifying data inside an active grant; the event is stored first (ACC-6)."""
        grant = self.load(grant_id)
        self._staff_may_access("access reveal", grant.controller)
        now = self.proc.now()
        if grant.staff != self.s.user_name:
            self.s.deny(
                "access reveal",
                grant.controller,
                "GrantHolderOnly",
                "only the staff member who holds the grant may use it",
            )
        if not grant.is_active(now):
            why = "has expired" if grant.state == "approved" else f"is {grant.state}"
            # The grant's state is a business rule: recorded, but it locks no one (ACC-8).
            self.s.refuse_rule(
                "access reveal", grant.controller, "AccessGrantMustBeActive", f"the grant {why}"
            )
        contact_id = self.contact_by_pseudonym(grant.controller, pseudonym)
        if not grant.covers(contact_id):
            self.s.deny(
                "access reveal",
                grant.controller,
                "GrantScopeMustCoverContact",
                "the grant does not cover this contact",
            )
        agg = self._contacts_service.load(grant.controller, contact_id)
        fields = sorted(f for f in agg.fields)
        with self.proc.using_clock():
            grant.record_reveal(
                actor=self.s.user_name,
                controller=grant.controller,
                contact=contact_id,
                fields=fields,
                reason=grant.reason,
            )
            self.proc.commit(grant)  # raises before anything is shown if it cannot be stored
        profile = self._contacts_service.opened_profile(agg)
        return {
            "grant": str(grant.id),
            "pseudonym": pseudonym,
            "contact_id": contact_id,
            "fields": str(profile) if isinstance(profile, Erased) else profile,
            "revealed_at": now.isoformat(),
            "logged": True,
        }

    # -- the access log (ACC-6) -----------------------------------------------------------------

    def log(
        self,
        controller: str | None = None,
        staff: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Reveals, grants, views and refused attempts; administrators see only their own."""
        user = self.s.authorize("access.log", command="access log", controller=controller)
        if user.controller is not None:
            controller = user.controller
        a = t.access_log
        query = sa.select(a).order_by(a.c.position)
        if controller:
            query = query.where(a.c.controller == controller)
        if staff:
            query = query.where(a.c.actor == staff)
        if since:
            query = query.where(a.c.at >= since)
        if until:
            query = query.where(a.c.at < until)
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            {
                **dict(r),
                "at": r["at"].isoformat(),
                "reason": self._opened_reason(
                    r["kind"], r["controller"], r["reason"], sealed="case" in r["detail"]
                ),
            }
            for r in rows
        ]

    def _opened_reason(
        self, kind: str, controller: str | None, reason: str, *, sealed: bool = True
    ) -> str:
        """A log entry's reason, opened with the controller's records key when it is sealed.

        A view's reason is sealed only for support views that name their case; older views
        and controller users' reads carry the command's name in clear.
        """
        purpose = _REASON_PURPOSES.get(kind)
        if purpose is None or controller is None or (kind == "viewed" and not sealed):
            return reason
        return open_records(self.proc.sealer, controller, purpose, reason)
