"""Posting a notice to a controller: the one way any part of the processor tells it something.

`new_notice` seals the content and returns the `Notice` aggregate *uncommitted*, so the caller
commits it in the same transaction as the fact it reports (a lockout, a breach, a sub-processor
change). Either both are stored, or neither is (ACC-14).

It sits below the services and the refusals that post notices (the core layer), and takes the
small port `Posting` (find, commit, clock, policies, the sealer and the read models) rather than
the whole `Processor`. Listing and acknowledging notices are use cases of `notices.service`.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Protocol

import sqlalchemy as sa

from processor.kernel.errors import (
    IntegrityFailureError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
)
from processor.kernel.ports import Core
from processor.keys.sealing import records_subject
from processor.notices.domain import KINDS, Notice
from processor.policies import Policies
from processor.readmodels import tables as t

if TYPE_CHECKING:
    from processor.keys.sealing import Sealer
    from processor.storage.engines import Engines

PURPOSE = "notice"
TITLE_MAX = 200


class Posting(Core[Policies], Protocol):
    """What posting a notice reads of the processor, besides the core port."""

    @property
    def sealer(self) -> Sealer:
        """Seals the notice with the controller's records key."""

    @property
    def engines(self) -> Engines:
        """The read models tell whether the controller exists."""


def new_notice(
    proc: Posting,
    *,
    controller: str,
    kind: str,
    title: str,
    body: str,
    actor: str,
    about: str | None = None,
) -> Notice:
    """A new notice to `controller`, content sealed with its records key; the caller commits it.

    `about` is the id of the fact the notice reports (a denial, a breach, a sub-processor), never
    personal data. Refused when the controller's data was deleted: nothing can be sealed for it.
    """
    if kind not in KINDS:
        raise InvalidInputError(f"unknown notice kind {kind!r} (one of {', '.join(KINDS)})")
    title, body = title.strip(), body.strip()
    if not title or len(title) > TITLE_MAX:
        raise InvalidInputError(f"a notice needs a title of 1 to {TITLE_MAX} characters")
    if not controller_exists(proc, controller):
        raise NotFoundError(f"unknown controller {controller!r}")
    if records_erased(proc, controller):
        raise RefusedError(
            f"the data of controller {controller!r} is deleted: there is no one left to notify",
            rule="ControllerDataMustNotBeDeleted",
        )
    subject = records_subject(controller)
    with proc.using_clock():
        return Notice(
            actor=actor,
            controller=controller,
            kind=kind,
            title=proc.sealer.seal(subject, PURPOSE, title),
            body=proc.sealer.seal(subject, PURPOSE, body),
            policy_version=proc.policies.version,
            about=about,
        )


def records_erased(proc: Posting, controller: str) -> bool:
    """Whether the controller's records key was destroyed (its data deleted, RET-1/RET-2)."""
    subject = records_subject(controller)
    try:
        return proc.sealer.key(subject) is None
    except IntegrityFailureError:
        # Workaround, remove when controller registration creates the records key (the
        # free-text sealing change): a controller registered without one gets it here, on its
        # first notice. The key store reports a subject with neither key nor tombstone as an
        # integrity failure; a concurrent creator wins the insert, and the next read finds it.
        with contextlib.suppress(sa.exc.IntegrityError):
            proc.sealer.new_subjects([subject], proc.now())
        return proc.sealer.key(subject) is None


def controller_exists(proc: Posting, ref: str) -> bool:
    """Whether the read models know the controller `ref`."""
    with proc.engines.readmodels.connect() as conn:
        found = conn.execute(
            sa.select(t.controllers.c.ref).where(t.controllers.c.ref == ref)
        ).first()
    return found is not None
