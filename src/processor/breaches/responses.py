"""The controller's part of a breach: its authority notice, its word to the subjects (BR-3).

A controller's administrator, once notified (`breaches notify`), records its own notification of
its supervisory authority (Art. 33) or why none was due, its decision on telling the data
subjects (Art. 34), and may export the affected subjects' contact data for that notice (logged).
The register itself (opening, impact, notifying, closing) is `service.BreachesService`, which
this part reads breaches through, so both see a breach under the same rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from processor.breaches.clocks import AUTHORITY_HOURS
from processor.breaches.domain import SUBJECT_EXCEPTIONS, Breach
from processor.breaches.service import PURPOSE, BreachesService, checked_text
from processor.kernel.errors import InvalidInputError, RefusedError
from processor.keys import seal_records

if TYPE_CHECKING:
    from processor.services.contacts import ContactsService
    from processor.session import Session

EXPORTED_FIELDS = ("email", "phone", "first_name", "last_name")


def _notices_to(breach: Breach, controller: str) -> list[dict[str, Any]]:
    """The notices `controller` was given: its part of a breach starts with the first (BR-3)."""
    notified = breach.notified(controller)
    if not notified:
        raise RefusedError(
            f"controller {controller} was not notified of this breach",
            rule="ControllerMustBeNotified",
        )
    return notified


class BreachResponsesService:
    """A notified controller's notices and export for one session (`breaches.respond/export`)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc
        self.register = BreachesService(session)

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    def _breach(self, breach_id: str, permission: str, command: str, controller: str) -> Breach:
        """The breach, for a user with `permission` whose controller was notified of it."""
        user = self.s.authorize(permission, command=command, controller=controller)
        breach = self.register.get(breach_id, user)
        _notices_to(breach, controller)
        return breach

    def authority_notice(
        self,
        breach_id: str,
        *,
        controller: str,
        at: datetime,
        authority: str,
        reference: str = "",
        delay_reason: str = "",
        not_required: bool = False,
    ) -> dict[str, Any]:
        """Record the controller's notification of its authority, or why none is due (BR-3)."""
        breach = self._breach(
            breach_id, "breaches.respond", "breaches authority-notice", controller
        )
        notified = breach.notified(controller)
        if at > self.proc.now():
            raise InvalidInputError("--at cannot be in the future")
        authority = checked_text(authority, "--authority", required=not not_required)
        due = notified[0]["at"] + timedelta(hours=AUTHORITY_HOURS)
        reason = checked_text(delay_reason, "--justification" if not_required else "--delay-reason")
        if not_required and not reason:
            raise InvalidInputError(
                "--not-required needs --justification: why the breach is unlikely to result in "
                "a risk (Art. 33(1), documented under Art. 33(5))"
            )
        if at > due and not reason:
            raise InvalidInputError(
                f"the notification came after {due.isoformat()} (72 h): give --delay-reason "
                "(Art. 33(1))"
            )
        with self.proc.using_clock():
            breach.record_authority_notice(
                self.s.user_name,
                controller,
                at,
                authority,
                checked_text(reference, "--reference"),
                seal_records(self.proc.sealer, controller, PURPOSE, reason),
                required=not not_required,
            )
            self.proc.commit(breach)
        return self.register.view(breach, controller)

    def subjects_notice(
        self,
        breach_id: str,
        *,
        controller: str,
        notified: bool,
        channel: str = "",
        at: datetime | None = None,
        exception: str = "",
        justification: str = "",
    ) -> dict[str, Any]:
        """Record the controller's decision on telling the data subjects (BR-3, Art. 34)."""
        breach = self._breach(breach_id, "breaches.respond", "breaches subjects-notice", controller)
        if notified:
            if not channel.strip() or at is None or exception:
                raise InvalidInputError("--notified needs --channel and --at, and no --exception")
            if at > self.proc.now():
                raise InvalidInputError("--at cannot be in the future")
        elif exception not in SUBJECT_EXCEPTIONS or not justification.strip():
            raise InvalidInputError(
                "give --notified --channel C --at T, or --exception a|b|c --justification TEXT"
            )
        with self.proc.using_clock():
            breach.record_subjects_decision(
                self.s.user_name,
                controller,
                notified,
                checked_text(channel, "--channel"),
                at,
                exception,
                seal_records(
                    self.proc.sealer,
                    controller,
                    PURPOSE,
                    checked_text(justification, "--justification"),
                ),
            )
            self.proc.commit(breach)
        return self.register.view(breach, controller)

    def export_subjects(self, breach_id: str, controller: str) -> dict[str, Any]:
        """The affected subjects' contact data, for the controller's notice to them (logged)."""
        breach = self._breach(breach_id, "breaches.export", "breaches export-subjects", controller)
        # The subjects of the impact the notice reported: its window, not one grown since.
        recorded = (breach.impact or {}).get("window", {}).get("to")
        end = datetime.fromisoformat(recorded) if recorded else None
        found = self.register.assess(breach, with_ids=True, end=end)
        ids = found.get("subject_ids", {}).get(controller, [])
        rows: list[dict[str, str]] = []
        contacts = self._contacts_service
        for cid in ids:
            agg = contacts.load(controller, cid)
            profile = contacts.opened_profile(agg)
            if not isinstance(profile, dict):
                continue  # erased since: nothing to export
            rows.append(
                {"contact_id": cid, **{k: str(profile.get(k, "")) for k in EXPORTED_FIELDS}}
            )
        with self.proc.using_clock():
            breach.record_export(self.s.user_name, controller, len(rows), list(EXPORTED_FIELDS))
            self.proc.commit(breach)
        return {"breach": str(breach.id), "controller": controller, "rows": rows}
