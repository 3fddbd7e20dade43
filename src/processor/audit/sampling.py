"""The population of access events a sample is drawn from, and the reproducible draw (ACC-7, SUB-8).

Staff entries are the reveals and logged views of personal data. Sub-processor entries are the
messages each sub-processor carried and the changes passed on to it through a controller's
recipient outbox. All come from the ledger-covered events, so an entry forged into a read model
is not in the population, and an event written around the services' checks is.

An entry holds ids, kinds, actors, controllers and times only: never a value of personal data.
The same seed, period and store always give the same sample.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from processor.audit.populations import POPULATIONS, STAFF, SUBPROCESSORS, USER_CHANGES
from processor.audit.reading import event_class, in_period, stored_events
from processor.domain.access import AccessGrant, DataAccessRecord
from processor.domain.messages import Message
from processor.kernel.errors import InvalidInputError
from subprocessors.outbox import RecipientOutbox

if TYPE_CHECKING:
    from datetime import datetime

    from processor.app import Processor


def _base(pos: int, e: Any, kind: str, controller: str) -> dict[str, Any]:  # noqa: ANN401
    return {
        "entry": f"e{pos}",
        "position": pos,
        "kind": kind,
        "at": e.timestamp.isoformat(),
        "actor": e.actor,
        "controller": controller,
        "aggregate": str(e.originator_id),
        "version": e.originator_version,
    }


def staff_population(
    proc: Processor, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """Every reveal and logged view of personal data in the period, oldest first."""
    revealed = event_class(AccessGrant, "PersonalDataRevealed")
    viewed = event_class(DataAccessRecord, "PersonalDataViewed")
    entries: list[dict[str, Any]] = []
    for pos, e in stored_events(proc, revealed, viewed):
        if not in_period(e.timestamp, start, end):
            continue
        if isinstance(e, revealed):
            entries.append(
                {**_base(pos, e, "revealed", e.controller), "grant": str(e.originator_id)}
            )
        else:
            entries.append({**_base(pos, e, "viewed", e.controller), "scope": e.scope})
    return entries


def subprocessor_population(
    proc: Processor, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """Every message a sub-processor carried and every change passed on to one, oldest first."""
    carried = event_class(Message, "MessageRecorded")
    queued = event_class(RecipientOutbox, "RecipientNoticeQueued")
    opened = event_class(RecipientOutbox, "RecipientOutboxOpened")
    outboxes: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    for pos, e in stored_events(proc, carried, queued, opened):
        if isinstance(e, opened):
            outboxes[str(e.originator_id)] = e.controller_id
            continue
        if not in_period(e.timestamp, start, end):
            continue
        if isinstance(e, carried):
            if e.subprocessor and not e.test:
                entries.append(
                    {
                        **_base(pos, e, "carried", e.controller),
                        "subprocessor": e.subprocessor,
                        "channel": e.medium,
                        "instruction": e.instruction,
                    }
                )
            continue
        controller = outboxes.get(str(e.originator_id), "")
        for n, recipient in enumerate(e.recipients):
            entries.append(
                {
                    **_base(pos, e, "passed-on", controller),
                    "entry": f"e{pos}.{n + 1}",
                    "subprocessor_id": recipient,
                    "change": e.kind,
                }
            )
    return entries


def population(
    proc: Processor, of: str, start: datetime | None, end: datetime | None
) -> list[dict[str, Any]]:
    """The entries a sample of `of` (staff, subprocessors or user-changes) is drawn from."""
    if of == STAFF:
        return staff_population(proc, start, end)
    if of == SUBPROCESSORS:
        return subprocessor_population(proc, start, end)
    if of == USER_CHANGES:
        from processor.audit.userchanges import staff_user_changes

        return staff_user_changes(proc, start, end)
    raise InvalidInputError(f"--of must be one of {', '.join(POPULATIONS)}")


def draw(entries: list[dict[str, Any]], size: int, seed: int) -> list[dict[str, Any]]:
    """A reproducible random sample of `size` entries (all when fewer), in log order."""
    if size < 1:
        raise InvalidInputError("--size must be at least 1")
    chosen = random.Random(seed).sample(entries, min(size, len(entries)))  # noqa: S311 - reproducible sampling, not security
    return sorted(chosen, key=lambda e: (e["position"], e["entry"]))


def new_seed() -> int:
    """A fresh seed for a sample whose caller gave none (recorded, so it can be repeated)."""
    return random.SystemRandom().randrange(2**31)
