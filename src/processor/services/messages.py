"""Sending messages on the controller's instruction (INSTR-1, 7; SUBJ-3, 7, 8; RET-7).

`send` sends one message on a list (or a named campaign of it) over one channel; `record`
records a single message to one contact (a test, or a one-off); both ask the same questions
(`services.sending`) and record a `MessageRecorded` per recipient that names the list, the
channel, the sub-processor that carried it and the instruction it relies on.

The content is sealed with a fresh key of the message's own before its event is built, so the
sweep can shred it after the policy's hours without touching the contact. The message keys are
subordinate to the recipient: erasing the contact destroys them in the erasure's own key
destruction (`key_ids_of`), and deleting a controller's data shreds every message of it.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from processor.domain.contacts import Contact
from processor.domain.messages import CHANNELS, NOT_TRANSMITTED, Message
from processor.domain.sending import covering_lists, recipient_rules, sms_units
from processor.kernel.errors import ConflictError, InvalidInputError, NotFoundError
from processor.kernel.rules import first_broken
from processor.keys import Erased
from processor.readmodels import tables as t
from processor.retention_policy import decision_policy_version, load_retention_policy
from processor.services import validation as v
from processor.services.lifecycle import check_account_open
from processor.services.lookup import find_controller
from processor.services.sending import Carrier, SendChecks, month_start

if TYPE_CHECKING:
    from datetime import datetime

    from processor.domain.controllers import Controller
    from processor.services.contacts import ContactsService
    from processor.session import Session

CONTENT = "message-content"
MAX_CONTENT_BYTES = 1_000_000
RECIPIENT_BATCH = 1000
"""Contacts of a list whose events a send reads in one query (as an export reads 500)."""

_MESSAGE_TOPIC = get_topic(Message)


def _recorded(**fields: Any) -> Message.MessageRecorded:  # noqa: ANN401
    """The `MessageRecorded` event that creates a new message, as `Message(**fields)` makes it.

    The id, version, topic and timestamp are those the library's `_create` gives (the
    timestamp from the clock in force); the request channel and OS account come from the
    session's context, by the base event's own defaults.
    """
    recorded = Message.MessageRecorded
    return recorded(
        originator_id=Message.create_id(**fields),
        originator_version=Message.INITIAL_VERSION,
        originator_topic=_MESSAGE_TOPIC,
        timestamp=recorded.create_timestamp(),
        **fields,
    )


class MessagesService:
    """Sends and records messages to a controller's contacts."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    def counts(self, controller: str, now: datetime) -> tuple[int, int]:
        """E-mails sent in total and in the calendar month of `now` (UTC), tests and bounces too."""
        month = month_start(now)
        m = t.messages.c
        with self.proc.engines.readmodels.connect() as conn:
            total, this_month = conn.execute(
                sa.select(sa.func.count(), sa.func.count().filter(m.sent_at >= month)).where(
                    (m.controller == controller) & (m.channel == "email")
                )
            ).one()
        return int(total), int(this_month)

    def usage(self, controller: str) -> dict[str, Any]:
        """The account's usage as the terms count it (SUBJ-7), for its users."""
        self.s.authorize("messages.record", command="messages usage", controller=controller)
        ctrl = find_controller(self.proc, controller)
        now = self.proc.now()
        used = SendChecks(self.s, "messages usage").usage(controller, now)
        limits = self.proc.policies.accounts.accounts[ctrl.account]  # type: ignore[index]
        return {
            "controller": controller,
            "account": ctrl.account,
            "month": month_start(now).date().isoformat(),
            **used.__dict__,
            "max_emails_total": limits.max_emails_total,
            "max_emails_per_month": limits.max_emails_per_month,
            "sms_allowed": limits.sms_allowed,
        }

    def _next_number(self, controller: str) -> int:
        with self.proc.engines.readmodels.connect() as conn:
            last = conn.execute(
                sa.select(sa.func.max(t.messages.c.number)).where(
                    t.messages.c.controller == controller
                )
            ).scalar()
        return int(last or 0) + 1

    def content_hours(self) -> int | None:
        """How long content is kept under this processor's profile (None: until deletion)."""
        return load_retention_policy().message_content.hours(self.proc.store_info().profile)

    # -- sending --------------------------------------------------------------------------------

    def _opening(
        self, command: str, controller: str, channel: str
    ) -> tuple[SendChecks, Controller]:
        """The sender (INSTR-7), the permission, the controller and the channel."""
        checks = SendChecks(self.s, command)
        checks.sender(controller)
        self.s.authorize("messages.record", command=command, controller=controller)
        ctrl = find_controller(self.proc, controller)
        if channel not in CHANNELS:
            raise InvalidInputError(f"unknown channel {channel!r}: email or sms")
        check_account_open(self.proc, ctrl)
        checks.channel(ctrl, channel)  # an account that sends no SMS reads no list for one
        return checks, ctrl

    @staticmethod
    def _content(subject: str | None, body: str | None) -> tuple[dict[str, str], int]:
        content = {k: val for k, val in (("subject", subject), ("body", body)) if val is not None}
        size = len(json.dumps(content, ensure_ascii=False).encode())
        if size > MAX_CONTENT_BYTES:
            raise InvalidInputError(f"the message content exceeds {MAX_CONTENT_BYTES} bytes")
        return content, size

    def send(
        self,
        controller: str,
        list_name: str,
        channel: str,
        subject: str | None = None,
        body: str | None = None,
        *,
        campaign: str | None = None,
        via: str | None = None,
        instruction: int | None = None,
    ) -> dict[str, Any]:
        """Send a message on a list: to every subscribed contact whose consent covers it.

        Contacts the message may not reach (unsubscribed from the list, no consent for the
        channel on it, restricted, objected, erased, no address) are skipped and counted by
        rule, judged from their aggregates. The account's limits, the instruction and the
        sub-processor's decision are asked once for the whole send, before anything is
        recorded: any of them refuses it all.
        """
        command = "messages send"
        checks, ctrl = self._opening(command, controller, channel)
        name = v.list_name(list_name)
        label = v.list_name(campaign) if campaign else ""
        content, size = self._content(subject, body)
        recipients, skipped = self._recipients(controller, name, channel)
        now = self.proc.now()
        used = checks.account(ctrl, channel, len(recipients), now)
        relied_on = checks.instruction(ctrl, instruction)
        carrier = checks.carrier(ctrl, channel, via)
        units = sms_units(body) if channel == "sms" else 1
        messages = self._commit(
            controller, recipients, channel, content, size, now,
            list_name=name, campaign=label, carrier=carrier, instruction=relied_on,
            units=units, test=False,
        )  # fmt: skip
        return {
            "controller": controller,
            "list": name,
            "campaign": label or None,
            "channel": channel,
            "subprocessor": carrier.name,
            "decision_policy_version": carrier.decision.policy_version,
            "instruction": relied_on,
            "tls": NOT_TRANSMITTED,
            "sent": len(messages),
            "units": units * len(messages),
            "skipped": dict(sorted(skipped.items())),
            "message_ids": [str(m.originator_id) for m in messages],
            **self._count_after(channel, used.emails_total, len(messages)),
        }

    def record(
        self,
        controller: str,
        contact: str,
        channel: str,
        subject: str | None = None,
        body: str | None = None,
        *,
        list_name: str | None = None,
        via: str | None = None,
        instruction: int | None = None,
        test: bool = False,
    ) -> dict[str, Any]:
        """Record one message to one contact (a one-off or a test), under the same rules.

        Without `list_name`, the contact must be subscribed to some list with consent for the
        channel, and the message is recorded on the first such list. A test counts like any
        other message (SUBJ-7).
        """
        command = "messages record"
        checks, ctrl = self._opening(command, controller, channel)
        name = v.list_name(list_name) if list_name else None
        content, size = self._content(subject, body)
        recipient = self._contacts_service.load(controller, contact)
        checks.refuse(controller, first_broken(recipient_rules(recipient, name, channel)))
        now = self.proc.now()
        used = checks.account(ctrl, channel, 1, now)
        relied_on = checks.instruction(ctrl, instruction)
        carrier = checks.carrier(ctrl, channel, via)
        on = name or covering_lists(recipient, channel)[0]
        units = sms_units(body) if channel == "sms" else 1
        (message,) = self._commit(
            controller, [str(recipient.id)], channel, content, size, now,
            list_name=on, campaign="", carrier=carrier, instruction=relied_on,
            units=units, test=test,
        )  # fmt: skip
        return {
            "controller": controller,
            "message_id": str(message.originator_id),
            "contact_id": str(recipient.id),
            "channel": channel,
            "list": on,
            "subprocessor": carrier.name,
            "instruction": relied_on,
            "units": units,
            "test": test,
            "tls": NOT_TRANSMITTED,
            "sent_at": message.timestamp.isoformat(),
            "content_expires_at": (
                message.content_expires_at.isoformat() if message.content_expires_at else None
            ),
            **self._count_after(channel, used.emails_total, 1),
        }

    @staticmethod
    def _count_after(channel: str, before: int, sent: int) -> dict[str, int]:
        # The account's e-mail count, which only an e-mail moves (an SMS is not an e-mail).
        return {"emails_sent": before + sent} if channel == "email" else {}

    def _recipients(
        self, controller: str, list_name: str, channel: str
    ) -> tuple[list[str], dict[str, int]]:
        """The ids of the list's contacts the message may reach, and how many each rule skipped.

        The read model only says who was ever on the list; each contact's own events decide.
        Their events are read `RECIPIENT_BATCH` contacts per query (`EventStore.get_many`, the
        same MAC-checking mapper as any read) rather than one query per contact, and only the
        ids are kept, so a send to a large list holds one batch of aggregates at a time.
        """
        m = t.memberships.c
        with self.proc.engines.readmodels.connect() as conn:
            ids = [
                str(row[0])
                for row in conn.execute(
                    sa.select(m.contact_id)
                    .where((m.controller == controller) & (m.list_name == list_name))
                    .order_by(m.since, m.contact_id)
                )
            ]
        if not ids:
            raise NotFoundError(f"unknown list {list_name!r}")
        found: list[str] = []
        skipped: dict[str, int] = {}
        for start in range(0, len(ids), RECIPIENT_BATCH):
            chunk = ids[start : start + RECIPIENT_BATCH]
            for cid, contact in zip(chunk, self._contacts(controller, chunk), strict=True):
                broken = first_broken(recipient_rules(contact, list_name, channel))
                if broken is None:
                    found.append(cid)
                else:
                    skipped[broken.name] = skipped.get(broken.name, 0) + 1
        return found, skipped

    def _contacts(self, controller: str, ids: list[str]) -> list[Contact]:
        """The controller's contacts `ids`, rebuilt from their events read in one query.

        Refused as `contacts.load` refuses one: an id that is no contact of the controller.
        """
        try:
            aggregates = self.proc.store.get_many([uuid.UUID(cid) for cid in ids])
        except AggregateNotFoundError:
            raise NotFoundError("unknown contact on the list") from None
        for cid, aggregate in zip(ids, aggregates, strict=True):
            if not isinstance(aggregate, Contact) or aggregate.controller != controller:
                raise NotFoundError(f"unknown contact {cid}")
        return aggregates

    def _commit(
        self,
        controller: str,
        recipients: list[str],
        channel: str,
        content: dict[str, str],
        size: int,
        now: datetime,
        *,
        list_name: str,
        campaign: str,
        carrier: Carrier,
        instruction: str,
        units: int,
        test: bool,
    ) -> list[Message.MessageRecorded]:
        """Seal each message's content under its own key and record them in one commit.

        Every message gets a key of its own (RET-7: its content is shredded on its own
        schedule), all created in one key-store transaction before any event is stored. The
        `MessageRecorded` events are built directly (`_recorded`) rather than through a
        `Message` aggregate each: nothing is decided on the new aggregate, and the events are
        the same either way.
        """
        if not recipients:
            return []
        hours = self.content_hours()
        expires = None if hours is None else now + timedelta(hours=hours)
        keys = [str(uuid.uuid4()) for _ in recipients]
        first = self._next_number(controller)
        version = decision_policy_version(self.proc.policies)
        with self.proc.using_clock():
            self.proc.sealer.new_subjects(keys, now)
            events = [
                _recorded(
                    actor=self.s.user_name,
                    controller=controller,
                    number=first + i,
                    contact=contact,
                    medium=channel,
                    key_id=key_id,
                    content=self.proc.sealer.seal(key_id, CONTENT, content),
                    content_bytes=size,
                    content_expires_at=expires,
                    policy_version=version,
                    list_name=list_name,
                    campaign=campaign,
                    subprocessor=carrier.name,
                    instruction=instruction,
                    units=units,
                    test=test,
                    tls=NOT_TRANSMITTED,
                )
                for i, (contact, key_id) in enumerate(zip(recipients, keys, strict=True))
            ]
            try:
                self.proc.commit(*events)
            except ConflictError:
                self.proc.sealer.shred(keys, now)  # the keys of messages never stored
                raise
        return events

    def bounce(self, controller: str, message_id: str) -> dict[str, Any]:
        """Record that a message bounced: it still counts as sent (SUBJ-7, TC §5)."""
        self.s.authorize("messages.record", command="messages bounce", controller=controller)
        find_controller(self.proc, controller)
        message = self.load(controller, message_id)
        with self.proc.using_clock():
            if message.bounce(actor=self.s.user_name):
                self.proc.commit(message)
        assert message.bounced_at is not None  # noqa: S101 - just recorded or known
        return {
            "controller": controller,
            "message_id": str(message.id),
            "bounced_at": message.bounced_at.isoformat(),
            "still_counted": True,
        }

    def view(self, message: Message) -> dict[str, Any]:
        """A message as returned to its controller; shredded content reads as erased."""
        opened = self.proc.sealer.open(message.key_id, CONTENT, message.content)
        erased = isinstance(opened, Erased)
        return {
            "message_id": str(message.id),
            "contact_id": message.contact,
            "channel": message.channel,
            "list": message.list_name or None,
            "campaign": message.campaign or None,
            "subprocessor": message.subprocessor or None,
            "instruction": message.instruction or None,
            "units": message.units,
            "test": message.test,
            "tls": message.tls or None,
            "sent_by": message.sent_by,
            "bounced_at": message.bounced_at.isoformat() if message.bounced_at else None,
            "sent_at": message.created_on.isoformat(),
            "content_expires_at": (
                message.content_expires_at.isoformat() if message.content_expires_at else None
            ),
            "content_erased": erased,
            "subject": None if erased else opened.get("subject"),
            "body": None if erased else opened.get("body"),
        }

    def key_ids_of(self, contact_id: str) -> list[str]:
        """The keys of the contact's messages whose content is not yet shredded (RET-5).

        Erasing a contact destroys these with the contact's own key, in the same command, so its
        messages read as erased at once rather than after the next sweep. The read model is
        current here (the erasure's commit caught it up); a message it missed is reported by
        `processor doctor` as a key alive for an erased subject.
        """
        m = t.messages.c
        with self.proc.engines.readmodels.connect() as conn:
            rows = conn.execute(
                sa.select(m.key_id).where(
                    (m.contact_id == contact_id) & m.content_shredded.is_(False)
                )
            )
            return [str(r[0]) for r in rows]

    def load(self, controller: str, message_id: str) -> Message:
        """Load one of the controller's messages."""
        try:
            mid = uuid.UUID(message_id)
        except ValueError:
            raise InvalidInputError(f"invalid message id {message_id[:40]!r}") from None
        message: object = self.proc.find(mid)
        if not isinstance(message, Message) or message.controller != controller:
            raise NotFoundError(f"unknown message {message_id}")
        return message

    def show(self, controller: str, message_id: str) -> dict[str, Any]:
        """Show one message to the controller's users."""
        self.s.authorize("contacts.show", command="messages show", controller=controller)
        find_controller(self.proc, controller)
        return self.view(self.load(controller, message_id))
