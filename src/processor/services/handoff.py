"""Handing recorded messages to the sub-processor that carries them (SUB-9).

`messages send` records a message for a carrier (the sub-processor named on it); the delivery
system that talks to that carrier takes the messages from here, and from nowhere else. The
handoff is where a transfer to a sub-processor is made secure and minimal:

- **minimal**: each message carries only what its channel needs (`domain.handoff`): the address
  and the content, never the contact's other fields, lists, consents or id;
- **still allowed**: the carrier is asked again, at handoff time, whether it may process this
  controller's data for the activity (SUB-3, SUB-4, SUB-6): a controller's objection or a retired
  sub-processor stops messages recorded before it, and a closed account hands over nothing;
- **only live recipients**: an erased, restricted or objecting contact's message is withheld,
  as is content the retention sweep already shredded (RET-7);
- **secure**: the handoff is read over the command line on the processor's own machine or over
  the HTTP API, which `serve` offers only over TLS or on loopback (ACC-17);
- **logged**: every handoff is a `PersonalDataViewed` record naming the carrier, how many
  messages and which fields went out, in the ledger like every event (ACC-6).

The link from the delivery system to the carrier is outside this process; docs/messages.md
says what the operator must keep there.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from processor.domain.access import DataAccessRecord
from processor.domain.handoff import carrier_item, handed_over
from processor.domain.messages import Message
from processor.domain.sending import (
    ContactMustNotBeErased,
    ContactMustNotBeRestricted,
    ContactMustNotHaveObjected,
)
from processor.kernel.errors import InvalidInputError
from processor.kernel.rules import first_broken
from processor.keys import Erased
from processor.readmodels import tables as t
from processor.services.contacts import PROFILE
from processor.services.lifecycle import check_account_open
from processor.services.lookup import find_controller
from processor.services.messages import CONTENT
from processor.services.sending import SendChecks

if TYPE_CHECKING:
    from processor.domain.contacts import Contact
    from processor.session import Session

COMMAND = "messages handoff"
MAX_LIMIT = 1000
"""Messages one handoff returns at most: a page, so a large campaign is taken in steps."""


class HandoffService:
    """The handoff of one controller's recorded messages to their carrier."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    def handoff(
        self, controller: str, via: str, *, after: int = 0, limit: int = 500
    ) -> dict[str, Any]:
        """The controller's messages recorded for `via` after message number `after`.

        Returns at most `limit` items and `next_after`, the number to continue from; messages
        withheld (recipient erased, restricted or objecting; content shredded) are counted by
        reason, never listed. Refused as a send is when the carrier may no longer carry.
        """
        if not 0 < limit <= MAX_LIMIT:
            raise InvalidInputError(f"--limit must be between 1 and {MAX_LIMIT}")
        if after < 0:
            raise InvalidInputError("--after must be 0 or a message number")
        checks = SendChecks(self.s, COMMAND)
        checks.sender(controller)
        self.s.authorize("messages.handoff", command=COMMAND, controller=controller)
        ctrl = find_controller(self.proc, controller)
        check_account_open(self.proc, ctrl)
        messages, last = self._recorded_for(controller, via, after, limit)
        for channel in sorted({m.channel for m in messages}):
            checks.carrier(ctrl, channel, via)  # SUB-3, SUB-4, SUB-6 asked again, now
        items, withheld = self._items(messages)
        fields = sorted({f for m in messages for f in handed_over(m.channel)})
        if items:
            with self.proc.using_clock():
                self.proc.commit(
                    DataAccessRecord(
                        actor=self.s.user_name,
                        controller=controller,
                        contact=None,
                        scope="handoff",
                        command=COMMAND,
                        reason=f"{len(items)} messages to {via}: {', '.join(fields)}",
                    )
                )
        return {
            "controller": controller,
            "subprocessor": via,
            "after": after,
            "next_after": last,
            "handed_over": len(items),
            "fields": fields,
            "withheld": dict(sorted(withheld.items())),
            "messages": items,
        }

    def _recorded_for(
        self, controller: str, via: str, after: int, limit: int
    ) -> tuple[list[Message], int]:
        """Up to `limit` of the controller's unbounced messages for `via`, in number order.

        The read model gives the numbers; each message's own events (MAC-checked) say which
        carrier it was recorded for. Returns them and the last number looked at.
        """
        m = t.messages.c
        wanted = " ".join(via.split()).casefold()
        found: list[Message] = []
        last = after
        while len(found) < limit:
            with self.proc.engines.readmodels.connect() as conn:
                rows = conn.execute(
                    sa.select(m.message_id, m.number)
                    .where(
                        (m.controller == controller) & (m.number > last) & m.bounced_at.is_(None)
                    )
                    .order_by(m.number)
                    .limit(limit)
                ).all()
            if not rows:
                break
            for message in self.proc.store.get_many([uuid.UUID(str(r[0])) for r in rows]):
                last = max(last, message.number)
                if " ".join(message.subprocessor.split()).casefold() == wanted:
                    found.append(message)
                    if len(found) == limit:
                        break
        return found, last

    def _items(self, messages: list[Message]) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Each message as its carrier receives it, or the reason it is withheld."""
        ids = sorted({m.contact for m in messages})
        loaded = self.proc.store.get_many([uuid.UUID(c) for c in ids])
        contacts: dict[str, Contact] = dict(zip(ids, loaded, strict=True))
        items: list[dict[str, Any]] = []
        withheld: dict[str, int] = {}
        for message in messages:
            contact = contacts[message.contact]
            broken = first_broken(
                [
                    ContactMustNotBeErased(contact.erased),
                    ContactMustNotBeRestricted(contact.restricted),
                    ContactMustNotHaveObjected(contact.objected),
                ]
            )
            content = self.proc.sealer.open(message.key_id, CONTENT, message.content)
            profile = self.proc.sealer.open(message.contact, PROFILE, contact.profile)
            if broken is not None:
                reason = broken.name
            elif isinstance(content, Erased) or isinstance(profile, Erased):
                reason = "ContentShredded"
            else:
                items.append(carrier_item(str(message.id), message.channel, profile, content))
                continue
            withheld[reason] = withheld.get(reason, 0) + 1
        return items, withheld
