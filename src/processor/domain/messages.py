"""Sent messages (RET-7, SUBJ-7, INSTR-1): the fact that a message went out, and its sealed content.

A message records what it was sent on: the list (and campaign), the channel, the sub-processor
that carried it, the instruction it relies on, and how many units the terms count it as. The
rules deciding who may be sent what are in `processor.domain.sending`.

Content is sealed with a key of the message's own (not the contact's), so it can be shredded on
its own short schedule (Effecttracker keeps sent e-mails 24 hours) while the non-personal facts
(when, which channel, how many) stay for statistics and account limits. The key is still
subordinate to the recipient: erasing the contact destroys it in the same command (RET-5).

Message ids are derived from the controller and a running number, so two processes recording a
message at the same time collide on the id and one is refused: the account limits stay exact.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import event

from processor.domain.ids import controller_id
from processor.kernel.aggregate import ProcessorAggregate

CHANNELS = ("email", "sms")

NOT_TRANSMITTED = "not-transmitted"
"""The `tls` of a message this system records but does not itself put on a network (ACC-17).

A message records how it went out: `tls` when it was delivered over TLS, `plain` when it was
not. This system opens no connection to a carrier: `messages send` records the message for the
sub-processor named on it, and says so rather than claiming an encryption it never used.
Messages recorded before the field existed read `""` (not recorded).
"""


def message_id(controller: str, number: int) -> UUID:
    """The id of the controller's `number`-th message."""
    return uuid5(controller_id(controller), f"message:{number}")


class Message(ProcessorAggregate):
    """One message sent to one contact."""

    @staticmethod
    def create_id(controller: str, number: int, **_: object) -> UUID:
        """Derived from the controller and the running number (see the module docstring)."""
        return message_id(controller, number)

    class MessageRecorded(ProcessorAggregate.Created):
        """A message was sent to one contact.

        Version 2 names the message's medium (`email`, `sms`) `medium`: version 1 called it
        `channel`, which hid the base event's `channel` (the request's channel: `cli`, `http`,
        `python`), so a recorded message never said how the request came in (ACC-12). Version 1
        events are read with their medium moved over and the request channel unknown (`""`).
        """

        class_version = 2

        actor: str
        controller: str
        number: int
        contact: str
        medium: str
        key_id: str
        content: str
        content_bytes: int
        content_expires_at: datetime | None
        policy_version: str
        list_name: str = ""
        campaign: str = ""
        subprocessor: str = ""
        instruction: str = ""
        units: int = 1
        test: bool = False
        tls: str = ""

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Move v1's `channel` (the medium) to `medium`; the request channel was not kept."""
            state["medium"] = state.pop("channel")
            state["channel"] = ""

    @event(MessageRecorded)
    def __init__(
        self,
        actor: str,
        controller: str,
        number: int,
        contact: str,
        medium: str,
        key_id: str,
        content: str,
        content_bytes: int,
        content_expires_at: datetime | None,
        policy_version: str,
        list_name: str = "",
        campaign: str = "",
        subprocessor: str = "",
        instruction: str = "",
        units: int = 1,
        test: bool = False,
        tls: str = "",
    ) -> None:
        # The defaults read messages recorded before these facts were kept.
        self.controller = controller
        self.sent_by = actor  # a user of the controller, on its behalf (INSTR-7)
        self.list_name = list_name
        self.campaign = campaign
        self.subprocessor = subprocessor
        self.instruction = instruction
        self.units = units
        self.test = test
        self.tls = tls  # whether it went out over TLS (ACC-17); see NOT_TRANSMITTED
        self.bounced_at: datetime | None = None
        self.number = number
        self.contact = contact
        self.channel = medium  # the aggregate's own word for it; events say `medium`
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

    def bounce(self, actor: str) -> bool:
        """Record that the message bounced; it still counts as sent (SUBJ-7). False if known."""
        if self.bounced_at is not None:
            return False
        self._bounced(actor=actor)
        return True

    @event("MessageBounced")
    def _bounced(self, actor: str) -> None:
        self.bounced_at = self.modified_on

    @event("MessageContentShredded")
    def _content_shredded(self, actor: str, reason: str, policy_version: str) -> None:
        self.content_shredded = True
