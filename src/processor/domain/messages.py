"""Sent messages (RET-7, SUBJ-7): the fact that a message went out, and its sealed content.

Content is sealed with a key of the message's own (not the contact's), so it can be shredded on
its own short schedule (Effecttracker keeps sent e-mails 24 hours) while the non-personal facts
(when, which channel, how many) stay for statistics and account limits. The key is still
subordinate to the recipient: erasing the contact destroys it in the same command (RET-5).

Message ids are derived from the controller and a running number, so two processes recording a
message at the same time collide on the id and one is refused: the account limits stay exact.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid5

from eventsourcing.domain import event

from processor.domain.base import ProcessorAggregate
from processor.domain.contacts import Contact
from processor.domain.ids import controller_id
from processor.errors import RefusedError

CHANNELS = ("email", "sms")


def message_id(controller: str, number: int) -> UUID:
    """The id of the controller's `number`-th message."""
    return uuid5(controller_id(controller), f"message:{number}")


def check_recipient(contact: Contact, channel: str) -> None:
    """Refuse a recipient who may not be sent anything (SUBJ-3, Art. 18, Art. 21)."""
    if contact.erased:
        raise RefusedError("the contact is erased", rule="ContactMustNotBeErased")
    if contact.restricted:
        raise RefusedError(
            "processing of the contact is restricted (Art. 18)", rule="ContactMustNotBeRestricted"
        )
    if contact.objected:
        raise RefusedError(
            "the contact objected to processing (Art. 21)", rule="ContactMustNotHaveObjected"
        )
    if not any(m.subscribed for m in contact.lists.values()):
        raise RefusedError(
            "the contact is unsubscribed from every list (SUBJ-3)",
            rule="ContactMustBeSubscribed",
        )
    needed = "phone" if channel == "sms" else "email"
    if needed not in contact.fields:
        raise RefusedError(f"the contact has no {needed} for {channel}", rule="ChannelNeedsAddress")


def check_account_limits(
    account: str,
    channel: str,
    *,
    sms_allowed: bool,
    max_total: int | None,
    sent_total: int,
    max_per_month: int | None,
    sent_this_month: int,
) -> None:
    """Refuse a message beyond the account's limits (SUBJ-7, TC §5, §6)."""
    if channel == "sms" and not sms_allowed:
        raise RefusedError(f"a {account} account sends no SMS (SUBJ-7)", rule="AccountMustAllowSms")
    if channel != "email":
        return
    if max_total is not None and sent_total >= max_total:
        raise RefusedError(
            f"a {account} account sends at most {max_total} e-mails in total (SUBJ-7)",
            rule="AccountEmailLimit",
        )
    if max_per_month is not None and sent_this_month >= max_per_month:
        raise RefusedError(
            f"a {account} account sends at most {max_per_month} e-mails a month (SUBJ-7)",
            rule="AccountMonthlyEmailLimit",
        )


class Message(ProcessorAggregate):
    """One message sent to one contact."""

    @staticmethod
    def create_id(controller: str, number: int, **_: object) -> UUID:
        """Derived from the controller and the running number (see the module docstring)."""
        return message_id(controller, number)

    @event("MessageRecorded")
    def __init__(
        self,
        actor: str,
        controller: str,
        number: int,
        contact: str,
        channel: str,
        key_id: str,
        content: str,
        content_bytes: int,
        content_expires_at: datetime | None,
        policy_version: str,
    ) -> None:
        self.controller = controller
        self.number = number
        self.contact = contact
        self.channel = channel
        self.key_id = key_id
        self.content = content
        self.content_bytes = content_bytes
        self.content_expires_at = content_expires_at
        self.content_shredded = False

    def shred_content(self, actor: str, reason: str, policy_version: str) -> bool:
        """Record that the content's key is destroyed; False when it already was."""
        if self.content_shredded:
            return False
        self._content_shredded(actor=actor, reason=reason, policy_version=policy_version)
        return True

    @event("MessageContentShredded")
    def _content_shredded(self, actor: str, reason: str, policy_version: str) -> None:
        self.content_shredded = True
