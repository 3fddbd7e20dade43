"""Contact persons of both parties, and telling the other party of each change (AUD-5).

The processor's contact persons (its representative, the data-protection administrator, the
security contact) and each controller's are kept per party in a `ContactPersons` aggregate.
A person's details are business contact data, sealed with that party's records key.

Each change is made known to the other party through the notices mechanism, in the same
transaction: a change of the processor's contact persons is a notice to every controller
whose data is still held; a change of a controller's is a notice on that controller's record,
which the processor's staff read (`processor notices`). Either the change and its notices are
stored together, or nothing is.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Final

from processor.audit.events import ContactPersons
from processor.audit.reading import event_class, in_period, stored_events
from processor.domain.ids import PROCESSOR_PARTY, contact_persons_id
from processor.kernel.errors import InvalidInputError
from processor.keys import seal_records
from processor.notices.domain import CONTACT_PERSONS_CHANGED
from processor.notices.post import new_notice, records_erased
from processor.services.contact_persons import PURPOSE, party_controller, persons
from processor.services.lookup import find_controller
from processor.services.subprocessors import SubprocessorsService
from processor.services.validation import no_control

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor
    from processor.notices.domain import Notice
    from processor.session import Session

ROLES: Final = ("representative", "data-protection", "security")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,63}$")
_MAX = 200


def change_count(
    proc: Processor,
    party: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> int:
    """How many contact-person changes were recorded (for one party, or all; in a period)."""
    classes = (
        event_class(ContactPersons, "ContactPersonRecorded"),
        event_class(ContactPersons, "ContactPersonRemoved"),
    )
    wanted = None if party is None else contact_persons_id(party)
    return sum(
        1
        for _, e in stored_events(proc, *classes)
        if (wanted is None or e.originator_id == wanted) and in_period(e.timestamp, start, end)
    )


def _details(name: str, email: str, phone: str | None) -> dict[str, str]:
    name = no_control(name.strip(), "--name")
    if not 0 < len(name) <= _MAX:
        raise InvalidInputError(f"--name must have 1 to {_MAX} characters")
    if not _EMAIL.match(email.strip()):
        raise InvalidInputError("--email is not an e-mail address")
    details = {"name": name, "email": email.strip()}
    if phone:
        phone = no_control(phone.strip(), "--phone")
        if not re.fullmatch(r"\+?[0-9 ()-]{4,32}", phone):
            raise InvalidInputError("--phone is not a telephone number")
        details["phone"] = phone
    return details


class ContactPersonsService:
    """Record, remove and show the contact persons of the processor and of controllers."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def _authorize(self, party: str, command: str, *, change: bool) -> None:
        if party == PROCESSOR_PARTY:
            permission = "contact-persons.processor" if change else "controllers.show"
            self.s.authorize(permission, command=command)
            return
        permission = "contact-persons.controller" if change else "controllers.show"
        self.s.authorize(permission, command=command, controller=party)
        find_controller(self.proc, party)

    def show(self, party: str) -> dict[str, Any]:
        """A party's contact persons."""
        command = "processor-contacts" if party == PROCESSOR_PARTY else "controllers contacts"
        self._authorize(party, command, change=False)
        return {"party": party, "contact_persons": persons(self.proc, party)}

    def set(
        self, party: str, role: str, name: str, email: str, phone: str | None = None
    ) -> dict[str, Any]:
        """Record (or replace) the contact person for a role, and notify the other party."""
        command = "processor-contacts set" if party == PROCESSOR_PARTY else "controllers contacts"
        self._authorize(party, command, change=True)
        if role not in ROLES:
            raise InvalidInputError(f"--role must be one of {', '.join(ROLES)}")
        details = _details(name, email, phone)
        with self.proc.using_clock():
            agg = self._aggregate(party)
            replaced = role in agg.persons
            sealed = seal_records(
                self.proc.sealer,
                party_controller(party),
                PURPOSE,
                json.dumps(details, sort_keys=True),
            )
            agg.record(actor=self.s.user_name, role=role, details=sealed, replaced=replaced)
            change = "changed" if replaced else "added"
            notices = self._notices(party, role, change, details)
            self.proc.commit(agg, *notices)
        return {**self.show(party), "notified": len(notices)}

    def remove(self, party: str, role: str) -> dict[str, Any]:
        """Remove the contact person for a role, and notify the other party."""
        command = (
            "processor-contacts remove" if party == PROCESSOR_PARTY else "controllers contacts"
        )
        self._authorize(party, command, change=True)
        with self.proc.using_clock():
            agg = self._aggregate(party)
            agg.remove(actor=self.s.user_name, role=role)
            notices = self._notices(party, role, "removed", None)
            self.proc.commit(agg, *notices)
        return {**self.show(party), "notified": len(notices)}

    def _aggregate(self, party: str) -> ContactPersons:
        found = self.proc.find(contact_persons_id(party))
        if isinstance(found, ContactPersons):
            return found
        return ContactPersons(actor=self.s.user_name, party=party)

    def _notices(
        self, party: str, role: str, change: str, details: dict[str, str] | None
    ) -> list[Notice]:
        """The notices telling the other party of the change (AUD-5)."""
        who = "the processor" if party == PROCESSOR_PARTY else f"controller {party}"
        title = f"Contact person ({role}) of {who} {change}"
        body = f"{who.capitalize()} {change} its {role} contact person." + (
            "\n" + "\n".join(f"{k}: {v}" for k, v in sorted(details.items())) if details else ""
        )
        if party == PROCESSOR_PARTY:
            targets = [
                c
                for c in SubprocessorsService(self.s).controller_refs()
                if not records_erased(self.proc, c)
            ]
        else:
            targets = [party]
        return [
            new_notice(
                self.proc,
                controller=c,
                kind=CONTACT_PERSONS_CHANGED,
                title=title,
                body=body,
                actor=self.s.user_name,
                about=str(contact_persons_id(party)),
            )
            for c in targets
        ]
