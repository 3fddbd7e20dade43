"""Recording sent messages (RET-7, SUBJ-7): who may be sent what, and the account limits.

The content is sealed with a fresh key of the message's own before the aggregate sees it, so the
sweep can shred it after the policy's hours without touching the contact. The message keys are
subordinate to the recipient: erasing the contact destroys them in the erasure's own key
destruction (`key_ids_of`), and deleting a controller's data shreds every message of it.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.domain.messages import (
    CHANNELS,
    Message,
    check_account_limits,
    check_recipient,
)
from processor.errors import ConflictError, InvalidInputError, NotFoundError
from processor.readmodels import tables as t
from processor.retention_policy import decision_policy_version, load_retention_policy
from processor.sealing import Erased
from processor.services.lifecycle import check_account_open

if TYPE_CHECKING:
    from processor.session import Session

CONTENT = "message-content"
MAX_CONTENT_BYTES = 1_000_000


class MessagesService:
    """Records messages sent to a controller's contacts."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def counts(self, controller: str, now: datetime) -> tuple[int, int]:
        """E-mails sent in total and in the calendar month of `now` (UTC)."""
        month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        m = t.messages.c
        with self.proc.engines.readmodels.connect() as conn:
            total, this_month = conn.execute(
                sa.select(sa.func.count(), sa.func.count().filter(m.sent_at >= month)).where(
                    (m.controller == controller) & (m.channel == "email")
                )
            ).one()
        return int(total), int(this_month)

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

    def record(
        self,
        controller: str,
        contact: str,
        channel: str,
        subject: str | None = None,
        body: str | None = None,
    ) -> dict[str, Any]:
        """Record one sent message, refusing recipients and volumes the rules forbid."""
        self.s.authorize("messages.record", command="messages record", controller=controller)
        ctrl = self.s.controllers.get(controller)
        if channel not in CHANNELS:
            raise InvalidInputError(f"unknown channel {channel!r}: email or sms")
        check_account_open(self.proc, ctrl)
        recipient = self.s.contacts.load(controller, contact)
        check_recipient(recipient, channel)
        now = self.proc.now()
        limits = self.proc.policies.accounts.accounts[ctrl.account]  # type: ignore[index]
        total, this_month = self.counts(controller, now)
        check_account_limits(
            ctrl.account,
            channel,
            sms_allowed=limits.sms_allowed,
            max_total=limits.max_emails_total,
            sent_total=total,
            max_per_month=limits.max_emails_per_month,
            sent_this_month=this_month,
        )
        content = {k: val for k, val in (("subject", subject), ("body", body)) if val is not None}
        size = len(json.dumps(content, ensure_ascii=False).encode())
        if size > MAX_CONTENT_BYTES:
            raise InvalidInputError(f"the message content exceeds {MAX_CONTENT_BYTES} bytes")
        hours = self.content_hours()
        key_id = str(uuid.uuid4())
        with self.proc.using_clock():
            self.proc.sealer.new_subjects([key_id], now)
            message = Message(
                actor=self.s.user_name,
                controller=controller,
                number=self._next_number(controller),
                contact=str(recipient.id),
                channel=channel,
                key_id=key_id,
                content=self.proc.sealer.seal(key_id, CONTENT, content),
                content_bytes=size,
                content_expires_at=None if hours is None else now + timedelta(hours=hours),
                policy_version=decision_policy_version(self.proc.policies),
            )
            try:
                self.proc.commit(message)
            except ConflictError:
                self.proc.sealer.shred([key_id], now)  # the key of a message never stored
                raise
        return {
            "controller": controller,
            "message_id": str(message.id),
            "contact_id": str(recipient.id),
            "channel": channel,
            "sent_at": message.created_on.isoformat(),
            "content_expires_at": (
                message.content_expires_at.isoformat() if message.content_expires_at else None
            ),
            "emails_sent": total + (channel == "email"),
        }

    def view(self, message: Message) -> dict[str, Any]:
        """A message as returned to its controller; shredded content reads as erased."""
        opened = self.proc.sealer.open(message.key_id, CONTENT, message.content)
        erased = isinstance(opened, Erased)
        return {
            "message_id": str(message.id),
            "contact_id": message.contact,
            "channel": message.channel,
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
        self.s.controllers.get(controller)
        return self.view(self.load(controller, message_id))
