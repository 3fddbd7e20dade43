"""Checking each sampled entry against what should have allowed it (ACC-7, SUB-8).

A staff reveal must rest on a grant that was approved (by the controller's administrator, or
automatically under a standing support-access instruction it had given), was active at that
moment, covered the contact, had a reason, and was used by its own holder; the person must
have been bound by confidentiality and trained by then, and not revoked. A logged view must be
pseudonymised when staff made it, and a controller user may read only its own controller.

A sub-processor entry must name a sub-processor that the controller had approved for that
activity at that moment (on its list, engaged, not retired, not objected to, with a valid
transfer basis: the registry's own `decide`), and a message must cite its instruction.

Every judgement replays the aggregates as they stood at the entry's time, from the
ledger-covered events, so a later approval, training or engagement cannot excuse an earlier
access. Findings are short codes, never values.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from processor.audit.reading import as_of
from processor.domain.access import APPROVED, AccessGrant
from processor.domain.controllers import Controller
from processor.domain.ids import controller_id, user_id
from processor.domain.sending import ACTIVITY_OF_CHANNEL
from processor.domain.users import User
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.services.access import SUPPORT_ACCESS
from processor.services.subprocessors import SubprocessorsService

if TYPE_CHECKING:
    from processor.app import Processor
    from processor.session import Session


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def person_findings(proc: Processor, name: str, at: datetime) -> list[str]:
    """Whether the person was a known, unrevoked user, bound and trained at `at` (ACC-1, ACC-2)."""
    user = as_of(proc, user_id(name), at)
    if not isinstance(user, User):
        return ["unknown-person"]
    found: list[str] = []
    if user.revoked:
        found.append("person-revoked")
    if user.controller is None:
        signed, trained = _day(user.confidentiality_signed), _day(user.trained)
        if signed is None or signed > at.date():
            found.append("person-not-bound")
        if trained is None or trained > at.date():
            found.append("person-not-trained")
        profile = proc.policies.profiles.profiles[proc.store_info().profile]
        if (at - user.last_review).days > profile.review_period_days:
            found.append("person-review-overdue")
    return found


def _approval_findings(proc: Processor, grant: AccessGrant) -> list[str]:
    """The grant's approval rested on the controller: its administrator, or its instruction."""
    approved_at = grant.approved_at
    if approved_at is None:
        return ["grant-not-approved"]
    if grant.automatic:
        ctrl = as_of(proc, controller_id(grant.controller), approved_at)
        has_instruction = isinstance(ctrl, Controller) and any(
            i.kind == SUPPORT_ACCESS for i in ctrl.instructions
        )
        return [] if has_instruction else ["no-instruction"]
    approver = as_of(proc, user_id(grant.decided_by or ""), approved_at)
    if not (
        isinstance(approver, User)
        and approver.controller == grant.controller
        and approver.role == "administrator"
    ):
        return ["not-approved-by-controller"]
    return []


def reveal_findings(proc: Processor, entry: dict[str, Any]) -> list[str]:
    """Judge one reveal against its grant as it stood at the reveal."""
    at = datetime.fromisoformat(entry["at"])
    grant: object = proc.store.repository.get(UUID(entry["grant"]), version=entry["version"])
    if not isinstance(grant, AccessGrant):
        return ["grant-missing"]
    found = _approval_findings(proc, grant)
    if grant.state != APPROVED and grant.approved_at is not None:
        found.append(f"grant-{grant.state}")
    expires = grant.expires_at
    if grant.approved_at is not None and at < grant.approved_at:
        found.append("before-approval")
    if expires is not None and at >= expires:
        found.append("after-expiry")
    contact = _revealed_contact(proc, entry)
    if contact is None or not grant.covers(contact):
        found.append("outside-scope")
    if not grant.reason:
        found.append("no-reason")
    if entry["actor"] != grant.staff:
        found.append("not-grant-holder")
    return found + person_findings(proc, entry["actor"], at)


def _revealed_contact(proc: Processor, entry: dict[str, Any]) -> str | None:
    """The contact id the reveal event names (an id, never shown)."""
    for e in proc.store.events.get(
        UUID(entry["grant"]), gt=entry["version"] - 1, lte=entry["version"]
    ):
        contact = getattr(e, "contact", None)
        return str(contact) if contact else None
    return None


def view_findings(proc: Processor, entry: dict[str, Any]) -> list[str]:
    """Judge one logged view: pseudonymised for staff, own controller for its users."""
    at = datetime.fromisoformat(entry["at"])
    user = as_of(proc, user_id(entry["actor"]), at)
    found: list[str] = []
    if isinstance(user, User) and user.controller is None and entry["scope"] != "pseudonymised":
        found.append("outside-scope")
    if isinstance(user, User) and user.controller not in (None, entry["controller"]):
        found.append("other-controller")
    return found + person_findings(proc, entry["actor"], at)


def carried_findings(session: Session, entry: dict[str, Any]) -> list[str]:
    """A message: its carrier was approved for the activity then, and it cites its instruction."""
    at = datetime.fromisoformat(entry["at"])
    activity = ACTIVITY_OF_CHANNEL.get(entry["channel"], entry["channel"])
    found = _decided(session, entry["controller"], entry["subprocessor"], [activity], at)
    if not entry.get("instruction"):
        found.append("no-instruction")
    return found


def passed_on_findings(session: Session, entry: dict[str, Any]) -> list[str]:
    """A change passed on: the recipient was approved for some activity of the controller then."""
    at = datetime.fromisoformat(entry["at"])
    sp = session.proc.find(UUID(entry["subprocessor_id"]))
    if sp is None:
        return ["unknown-subprocessor"]
    return _decided(session, entry["controller"], sp.name, sorted(sp.details.activities), at)


def _decided(
    session: Session, controller: str, name: str, activities: list[str], at: datetime
) -> list[str]:
    registry = SubprocessorsService(session)
    try:
        registry.get(name)
    except (NotFoundError, InvalidInputError):  # an unknown name is itself the finding
        return ["unknown-subprocessor"]
    decisions = [registry.decide(controller, name, a, at) for a in activities]
    if any(d.allowed for d in decisions):
        return []
    return [decisions[0].rule if decisions else "no-activity"]


def check(session: Session, entry: dict[str, Any]) -> list[str]:
    """The findings for one sampled entry; an empty list means it followed instructions."""
    kind = entry["kind"]
    if kind == "user-change":
        # Staff changed a controller's user: a deviation candidate until the GDPA reviews it and
        # finds it carried out the controller's own request or a four-eyes recovery (ACC-13).
        return ["staff-changed-a-controllers-user"]
    if kind == "revealed":
        return reveal_findings(session.proc, entry)
    if kind == "viewed":
        return view_findings(session.proc, entry)
    if kind == "carried":
        return carried_findings(session, entry)
    return passed_on_findings(session, entry)
