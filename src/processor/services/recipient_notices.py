"""Recipient notices (SUBJ-5): telling recipients of a rectification, restriction or erasure.

A change to a contact is queued in the controller's `RecipientOutbox` in the same commit as
the change itself, so no change can be stored without its notices. Each outbox entry (one
change for one recipient) stays pending until staff record that the recipient applied it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.services.lookup import find_controller
from processor.services.subprocessor_facts import SubprocessorRegistry
from processor.services.subprocessor_views import iso
from subprocessors import RecipientOutbox, recipients

if TYPE_CHECKING:
    from collections.abc import Mapping

    from eventsourcing.domain import Aggregate

    from subprocessors import RecipientNotice

NOTICE_KINDS = {"rectification", "erasure", "restriction"}


def entry_id(notice: RecipientNotice) -> str:
    """The id of one outbox entry: one change for one recipient (`outbox ack ID`)."""
    return str(uuid5(UUID(notice.notice_id), str(notice.subprocessor_id)))


def outbox_entry(
    controller: str, notice: RecipientNotice, names: Mapping[UUID, str]
) -> dict[str, Any]:
    """One pending outbox entry, as printed; the contact is named by its id only."""
    return {
        "id": entry_id(notice),
        "notice_id": notice.notice_id,
        "controller": controller,
        "kind": notice.kind,
        "contact_id": notice.subject_ref,
        "subprocessor": names.get(notice.subprocessor_id, str(notice.subprocessor_id)),
        "subprocessor_id": str(notice.subprocessor_id),
        "queued_at": notice.queued_at.isoformat(),
        "queued_by": notice.queued_by,
    }


class RecipientNotices(SubprocessorRegistry):
    """The recipient outboxes: queued with each change, listed, and acknowledged one by one."""

    def _outbox(self, controller: str, *, create: bool) -> RecipientOutbox | None:
        oid = RecipientOutbox.create_id(controller)
        found = self.proc.find(oid)
        if found is not None:
            box: RecipientOutbox = found
            return box
        if not create:
            return None
        return RecipientOutbox(controller_id=controller, actor=self.s.user_name)

    def recipient_notices(
        self, controller: str, contact: Aggregate, kind: str | None
    ) -> list[RecipientOutbox]:
        """The controller's outbox with the change queued for every recipient, to commit with it.

        Called by rectification, restriction and erasure with the changed contact: nothing is
        queued when `kind` is None or the contact has no new event (a repeated restriction).
        The outbox names the contact by its id only, never by any personal value.
        """
        if kind is None or not contact.pending_events:
            return []
        return self.notices_for(controller, str(contact.id), kind)

    def notices_for(self, controller: str, contact_id: str, kind: str) -> list[RecipientOutbox]:
        """Queue one change of one contact (by id) for every recipient, to commit with it."""
        if kind not in NOTICE_KINDS:
            raise InvalidInputError(f"unknown change {kind!r}")
        facts = self.controller_facts(find_controller(self.proc, controller))
        now = self.proc.now()
        to = [sp.subprocessor_id for sp in recipients(facts, self.facts(), now)]
        box = self._outbox(controller, create=True)
        assert box is not None  # noqa: S101 - create=True always returns one
        box.queue(kind, contact_id, to, actor=self.s.user_name)
        return [box]

    def deletion_notices(self, controller: str) -> list[RecipientOutbox]:
        """All of a controller's contact data was deleted: one notice per recipient (SUBJ-5).

        A retention sweep erases thousands of contacts at once; recipients are told once that
        every contact of the controller is gone, rather than once per contact. A rerun of an
        interrupted sweep finds the notice already queued and queues nothing.
        """
        facts = self.controller_facts(find_controller(self.proc, controller))
        to = [sp.subprocessor_id for sp in recipients(facts, self.facts(), self.proc.now())]
        box = self._outbox(controller, create=True)
        assert box is not None  # noqa: S101 - create=True always returns one
        subject = f"controller:{controller}:all-contacts"
        if any(n.subject_ref == subject for n in box.notices.values()):
            return []
        box.queue("erasure", subject, to, actor=self.s.user_name)
        return [box]

    def outbox(self, controller: str | None = None) -> dict[str, Any]:
        """Pending recipient notices (all controllers for staff, one's own for its users)."""
        ref = self._scope("subprocessors.read", "subprocessors outbox", controller)
        names = self._names()
        pending: list[dict[str, Any]] = []
        for each in [ref] if ref is not None else self.controller_refs():
            box = self._outbox(each, create=False)
            if box is not None:
                pending.extend(outbox_entry(each, n, names) for n in box.pending())
        return {"controller": ref, "pending": pending}

    def acknowledge(self, entry: str, controller: str | None = None) -> dict[str, Any]:
        """Record that a recipient confirmed it applied a change (one outbox entry)."""
        ref = self._scope("subprocessors.outbox", "subprocessors outbox ack", controller)
        wanted = entry.strip()
        for each in [ref] if ref is not None else self.controller_refs():
            box = self._outbox(each, create=False)
            if box is None:
                continue
            for notice in list(box.notices.values()):
                if entry_id(notice) != wanted:
                    continue
                with self.proc.using_clock():
                    box.acknowledge(
                        notice.notice_id, notice.subprocessor_id, actor=self.s.user_name
                    )
                    self.proc.commit(box)
                done = box.notices[notice.notice_id, notice.subprocessor_id]
                view = outbox_entry(each, done, self._names())
                view["acknowledged_at"] = iso(done.acknowledged_at)
                view["acknowledged_by"] = done.acknowledged_by
                return view
        raise NotFoundError(f"unknown outbox entry {wanted[:40]!r}")
