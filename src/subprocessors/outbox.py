# Copyright 2026 The processor contributors
# SPDX-License-Identifier: Apache-2.0
"""Passing rectification, erasure and restriction on to every recipient (SUBJ-5, Art. 19).

One `RecipientOutbox` per controller, not events on each `SubProcessor`: a data subject's
request belongs to one controller, the question asked is "what is still pending for this
controller?", and writing every erasure into every sub-processor's stream would make those
streams grow with all controllers' requests and make concurrent requests collide on the same
aggregates. The outbox records what was queued for whom and every acknowledgement, so the
audit can show that each recipient was told.

Subjects are referred to by a pseudonymous reference only: the outbox must never become a
second copy of the personal data it reports on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import event

from processor.kernel.aggregate import ProcessorAggregate
from processor.kernel.errors import InvalidInputError, NotFoundError, RefusedError
from subprocessors.vocabulary import RECIPIENT_NOTICE_KINDS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

OUTBOX_NAMESPACE = UUID("b7f4f0c2-8a3d-5e0e-9c55-0d6a1e9c3f21")


@dataclass(frozen=True)
class RecipientNotice:
    """One change to pass on to one recipient, and whether it confirmed receipt."""

    notice_id: str
    kind: str
    subject_ref: str
    subprocessor_id: UUID
    queued_at: datetime
    queued_by: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""


class RecipientOutbox(ProcessorAggregate):
    """A controller's notices to recipients of its data, pending until acknowledged."""

    @staticmethod
    def create_id(controller_id: str) -> UUID:
        """One outbox per controller, found from the controller's id alone."""
        return uuid5(OUTBOX_NAMESPACE, controller_id)

    @event("RecipientOutboxOpened")
    def __init__(self, *, controller_id: str, actor: str) -> None:
        self.controller_id = controller_id
        self.opened_by = actor
        self.notices: dict[tuple[str, UUID], RecipientNotice] = {}
        self.requests: dict[str, tuple[UUID, ...]] = {}

    def queue(self, kind: str, subject_ref: str, recipients: Iterable[UUID], *, actor: str) -> str:
        """Queue a change for every recipient and return the notice id.

        A notice with no recipients is still recorded: it proves the question was asked.
        """
        if kind not in RECIPIENT_NOTICE_KINDS:
            expected = sorted(RECIPIENT_NOTICE_KINDS)
            raise InvalidInputError(f"unknown change {kind!r}: expected one of {expected}")
        if not subject_ref.strip() or "@" in subject_ref:
            raise InvalidInputError("subject_ref must be a pseudonymous reference, not an address")
        notice_id = str(uuid4())
        self._queued(
            notice_id=notice_id,
            kind=kind,
            subject_ref=subject_ref,
            recipients=sorted({str(recipient) for recipient in recipients}),
            actor=actor,
        )
        return notice_id

    def acknowledge(self, notice_id: str, subprocessor_id: UUID, *, actor: str) -> None:
        """Record that a recipient confirmed it applied the change."""
        notice = self.notices.get((notice_id, subprocessor_id))
        if notice is None:
            raise NotFoundError(f"no notice {notice_id} for recipient {subprocessor_id}")
        if notice.acknowledged_at is not None:
            raise RefusedError(
                f"RecipientNoticeMustBePending: notice {notice_id} was acknowledged by "
                f"{subprocessor_id} on {notice.acknowledged_at.date()}",
                rule="RecipientNoticeMustBePending",
            )
        self._acknowledged(notice_id=notice_id, subprocessor_id=str(subprocessor_id), actor=actor)

    def pending(self) -> list[RecipientNotice]:
        """Return the notices not yet acknowledged, oldest first."""
        waiting = [n for n in self.notices.values() if n.acknowledged_at is None]
        return sorted(waiting, key=lambda n: (n.queued_at, n.notice_id, str(n.subprocessor_id)))

    # `timestamp` comes from the injected clock when triggered and is handed back on replay.

    @event("RecipientNoticeQueued")
    def _queued(
        self,
        timestamp: datetime | None = None,
        *,
        notice_id: str,
        kind: str,
        subject_ref: str,
        recipients: list[str],
        actor: str,
    ) -> None:
        queued_at = timestamp or self.modified_on
        ids = tuple(UUID(recipient) for recipient in recipients)
        self.requests[notice_id] = ids
        for recipient in ids:
            notice = RecipientNotice(notice_id, kind, subject_ref, recipient, queued_at, actor)
            self.notices[notice_id, recipient] = notice

    @event("RecipientNoticeAcknowledged")
    def _acknowledged(
        self, timestamp: datetime | None = None, *, notice_id: str, subprocessor_id: str, actor: str
    ) -> None:
        key = (notice_id, UUID(subprocessor_id))
        self.notices[key] = dataclasses.replace(
            self.notices[key], acknowledged_at=timestamp or self.modified_on, acknowledged_by=actor
        )
