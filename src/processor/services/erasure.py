"""Erasure of one data subject by crypto-shredding (SUBJ-4, RET-5), with a receipt.

The `ContactErased` event is stored first, then the subject's key is destroyed. If the process
dies between the two, the projector destroys the key when it applies the event (any later
command does), so an erasure that was recorded always completes.

The receipt carries what a controller needs to check the erasure (ids, times, who, the ledger
position, leaf hash and signed checkpoint) and no free text: the reason may name the person
(a receipt is kept, mailed and filed for years), so it stays sealed in the event with the
subject's key, and goes with it. A receipt file is written 0600 whatever the umask.
"""

from __future__ import annotations

import json
import os
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any

from processor.domain.contacts import Contact
from processor.kernel.errors import CannotWriteError, InvalidInputError, NotFoundError, RefusedError
from processor.services.evidence import erasure_event
from processor.services.lookup import find_controller

if TYPE_CHECKING:
    from pathlib import Path

    from processor.services.contacts import ContactsService
    from processor.services.messages import MessagesService
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session

ERASURE_REASON = "erasure-reason"


class ErasureService:
    """Erases contacts and issues receipts."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _contacts_service(self) -> ContactsService:
        """The contacts use cases this one uses, as the same person (made on first use)."""
        from processor.services.contacts import ContactsService

        return ContactsService(self.s)

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    @cached_property
    def _messages_service(self) -> MessagesService:
        """The messages use cases this one uses, as the same person (made on first use)."""
        from processor.services.messages import MessagesService

        return MessagesService(self.s)

    def erase(
        self,
        controller: str,
        reason: str,
        contact: str | None = None,
        email: str | None = None,
        receipt_path: Path | None = None,
    ) -> dict[str, Any]:
        """Erase one subject; returns (and optionally writes) the deletion receipt."""
        self.s.authorize("erase", command="erase", controller=controller)
        find_controller(self.proc, controller)
        if (contact is None) == (email is None):
            raise InvalidInputError("give exactly one of --contact or --email")
        if not reason.strip():
            raise InvalidInputError("an erasure needs a reason (--reason)")
        cid = self._contacts_service.resolve_live(controller, contact or email or "")
        last = self.proc.store.recorder.select_events(cid, desc=True, limit=1)
        with self.proc.using_clock():
            erased = Contact.erasure_event(
                cid,
                last[0].originator_version,
                actor=self.s.user_name,
                # About this subject alone: sealed with its key, shredded with it (RET-5).
                reason=self.proc.sealer.seal(str(cid), ERASURE_REASON, reason.strip()),
                policy_version=self.proc.policies.version,
            )
            # SUBJ-5: the erasure is queued for every recipient in the same commit, before the
            # ContactErased event, so the receipt's position stays that event's.
            notices = self._subprocessors_service.notices_for(controller, str(cid), "erasure")
            recordings = self.proc.commit(*notices, erased)
            # RET-5: the subject's messages go with it, in this command (their keys are theirs).
            messages = self._messages_service.key_ids_of(str(cid))
            self.proc.sealer.shred([str(cid), *messages], self.proc.now())
        position = recordings[-1].notification.id
        receipt = self._receipt(position, controller, str(cid), erased)
        if receipt_path is not None:
            try:
                write_private(receipt_path, json.dumps(receipt, indent=2) + "\n")
            except OSError as exc:
                raise CannotWriteError(
                    f"contact {cid} is erased, but the receipt cannot be written: {exc.strerror}"
                ) from None
        return receipt

    def reissue(self, contact: str, controller: str | None = None) -> dict[str, Any]:
        """The receipt of an erasure, issued again from the ledger (a lost copy is not lost).

        Everything in it comes from the stored `ContactErased` event and its ledger position, so
        a reissued receipt says what the first one said (neither repeats the reason).
        """
        try:
            cid = uuid.UUID(contact)
        except ValueError:
            raise InvalidInputError(
                f"invalid contact id {contact[:40]!r}: an erased contact is known by its id only"
            ) from None
        aggregate: object = self.proc.find(cid)
        if not isinstance(aggregate, Contact) or controller not in (None, aggregate.controller):
            raise NotFoundError(f"unknown contact {contact}")
        self.s.authorize("erase", command="receipts issue", controller=aggregate.controller)
        found = erasure_event(self.proc.store, cid)
        if found is None:
            raise RefusedError(
                f"contact {contact} is not erased: there is no erasure receipt",
                rule="ContactMustBeErased",
            )
        position, event = found
        return self._receipt(position, aggregate.controller, str(cid), event)

    def _receipt(
        self,
        position: int,
        controller: str,
        contact_id: str,
        event: Any,  # noqa: ANN401 - the ContactErased event class is built by @event
    ) -> dict[str, Any]:
        self.proc.settle()  # the receipt proves a signed record (the server signs in groups)
        return self.proc.ledger.receipt(
            position,
            kind="erasure",
            details={
                "controller": controller,
                "contact_id": contact_id,
                "erased_at": event.timestamp.isoformat(),
                "erased_by": event.actor,
                "reason": "sealed in the erasure event with the subject's key, destroyed with it",
                "method": "crypto-shredding: the subject's AES-256-GCM key was destroyed",
                "policy_version": event.policy_version,
            },
        )


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its mode otherwise
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
