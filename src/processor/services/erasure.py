"""Erasure of one data subject by crypto-shredding (SUBJ-4, RET-5), with a receipt.

The `ContactErased` event is stored first, then the subject's key is destroyed. If the process
dies between the two, the projector destroys the key when it applies the event (any later
command does), so an erasure that was recorded always completes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from processor.domain.contacts import Contact
from processor.errors import InvalidInputError

if TYPE_CHECKING:
    from processor.session import Session

ERASURE_REASON = "erasure-reason"


class ErasureService:
    """Erases contacts and issues receipts."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

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
        self.s.controllers.get(controller)
        if (contact is None) == (email is None):
            raise InvalidInputError("give exactly one of --contact or --email")
        if not reason.strip():
            raise InvalidInputError("an erasure needs a reason (--reason)")
        cid = self.s.contacts.resolve_live(controller, contact or email or "")
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
            notices = self.s.subprocessors.notices_for(controller, str(cid), "erasure")
            recordings = self.proc.commit(*notices, erased)
            # RET-5: the subject's messages go with it, in this command (their keys are theirs).
            messages = self.s.messages.key_ids_of(str(cid))
            self.proc.sealer.shred([str(cid), *messages], self.proc.now())
        position = recordings[-1].notification.id
        receipt = self.proc.ledger.receipt(
            position,
            kind="erasure",
            details={
                "controller": controller,
                "contact_id": str(cid),
                "erased_at": erased.timestamp.isoformat(),
                "erased_by": self.s.user_name,
                "reason": reason.strip(),
                "method": "crypto-shredding: the subject's AES-256-GCM key was destroyed",
                "policy_version": self.proc.policies.version,
            },
        )
        if receipt_path is not None:
            receipt_path.write_text(json.dumps(receipt, indent=2) + "\n", encoding="utf-8")
        return receipt
