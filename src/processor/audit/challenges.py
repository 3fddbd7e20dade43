"""A controller challenges a sub-processor's supervision and asks for a new audit (SUB-7).

The challenge is an event (`SupervisionChallenged`) with its reason sealed under the
controller's records key, stored in one transaction with a notice on the controller's record:
the processor's staff see it among the notices (`processor notices`), and the controller
has the receipt. A challenge names a supervision on record, or the latest when none is named.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from processor.audit.events import SupervisionChallenge
from processor.audit.reading import event_class, in_period, stored_events
from processor.kernel.errors import InvalidInputError, NotFoundError
from processor.keys import seal_records
from processor.notices.domain import SUPERVISION_CHALLENGED
from processor.notices.post import new_notice

if TYPE_CHECKING:
    from datetime import date, datetime

    from processor.app import Processor
    from processor.services.subprocessors import SubprocessorsService
    from processor.session import Session

REASON: Final = "supervision-challenge"


def challenges(
    proc: Processor,
    controller: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[dict[str, Any]]:
    """Recorded challenges (of one controller, in a period): ids, names and dates, no reasons."""
    cls = event_class(SupervisionChallenge, "SupervisionChallenged")
    return [
        {
            "challenge": str(e.originator_id),
            "at": e.timestamp.isoformat(),
            "controller": e.controller,
            "subprocessor": e.subprocessor,
            "supervision_on": e.supervision_on,
            "new_audit_requested": e.new_audit_requested,
            "by": e.actor,
        }
        for _, e in stored_events(proc, cls)
        if (controller is None or e.controller == controller) and in_period(e.timestamp, start, end)
    ]


class ChallengesService:
    """Record a controller's challenge of a supervision (SUB-7)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.proc = session.proc

    @cached_property
    def _subprocessors_service(self) -> SubprocessorsService:
        """The subprocessors use cases this one uses, as the same person (made on first use)."""
        from processor.services.subprocessors import SubprocessorsService

        return SubprocessorsService(self.s)

    def challenge(
        self, name: str, reason: str, supervision_on: date | None = None, new_audit: bool = True
    ) -> dict[str, Any]:
        """Record the challenge and notify, in one transaction."""
        user = self.s.authorize("subprocessors.challenge", command="subprocessors challenge")
        if user.controller is None:
            raise InvalidInputError("a supervision is challenged by a controller's administrator")
        controller = user.controller
        if not reason.strip():
            raise InvalidInputError("a challenge needs its reason (--reason)")
        sp = self._subprocessors_service.get(name)
        done = sorted(sp.supervisions, key=lambda s: s.on)
        if supervision_on is not None and not any(s.on == supervision_on for s in done):
            raise NotFoundError(f"no supervision of {sp.name} on {supervision_on.isoformat()}")
        on = supervision_on or (done[-1].on if done else None)
        with self.proc.using_clock():
            record = SupervisionChallenge(
                actor=self.s.user_name,
                controller=controller,
                subprocessor=sp.name,
                supervision_on=on.isoformat() if on else None,
                reason=seal_records(self.proc.sealer, controller, REASON, reason.strip()),
                new_audit_requested=new_audit,
                policy_version=self.proc.policies.version,
            )
            what = f"the supervision of {on.isoformat()}" if on else "the lack of supervision"
            notice = new_notice(
                self.proc,
                controller=controller,
                kind=SUPERVISION_CHALLENGED,
                title=f"{sp.name}: {what} challenged",
                body=f"{controller} challenged {what} of {sp.name}"
                + ("; a new audit is requested." if new_audit else ".")
                + f"\nReason: {reason.strip()}",
                actor=self.s.user_name,
                about=str(record.id),
            )
            self.proc.commit(record, notice)
        return {
            "challenge": str(record.id),
            "controller": controller,
            "subprocessor": sp.name,
            "supervision_on": record.supervision_on,
            "new_audit_requested": new_audit,
            "notice": str(notice.id),
        }
