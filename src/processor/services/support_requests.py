"""The controller's support requests that open its data to the processor's support (ACC-4).

Support staff look at a controller's data only for support, by prior agreement (SUM, TC §9). The
agreement is an instruction of kind `support-request`, recorded by one of the controller's own
administrators with their own credential, naming its support case (`case`). It stays open until
the controller or the processor's support closes it (`SupportRequestClosed`) or the profile's
`support_request_days` have passed. A support view names an open case of that controller and
the reason for looking, both logged with the view (ACC-6, DPA18 Bilag 2: date, reason and
representative). Processor staff can never record one: a request they wrote in the
controller's name would be their own permission.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from processor.kernel.errors import InvalidInputError
from processor.services.agreements import usable

if TYPE_CHECKING:
    from datetime import datetime

    from processor.domain.controllers import Controller, Instruction
    from processor.session import Session

KIND = "support-request"
_CASE_MAX = 80


def request_details(case: str | None) -> dict[str, str]:
    """The details of a `support-request` instruction, checked: the case it opens."""
    case = (case or "").strip()
    if not case:
        raise InvalidInputError("a support request needs --case REF (the support case it opens)")
    if len(case) > _CASE_MAX or not case.isprintable():
        raise InvalidInputError(f"--case must be at most {_CASE_MAX} printable characters")
    return {"case": case}


def must_come_from_the_controller(session: Session, controller: str) -> None:
    """Refuse (recorded, counted) a support request not given by the controller's own user."""
    me = session.find_user(session.user_name)
    if me is None or me.controller is None:
        session.deny(
            "controllers instruct",
            controller,
            "SupportRequestsComeFromTheController",
            "a support request is recorded by one of the controller's own administrators,"
            " never by the processor's staff",
        )


def open_requests(
    controller: Controller, now: datetime, days: int
) -> list[tuple[int, Instruction]]:
    """The controller's support requests still open at `now`: not closed, flagged or expired."""
    closed = set(controller.support_requests_closed)
    return [
        (n, i)
        for n, i in usable(controller, KIND)
        if n not in closed and now < i.given_at + timedelta(days=days)
    ]


def must_be_open(
    session: Session, controller: Controller, case: str, command: str, days: int
) -> int:
    """The number of the open support request naming `case`; else refuse (recorded, ACC-4)."""
    now = session.proc.now()
    found = next(
        (
            number
            for number, instruction in reversed(open_requests(controller, now, days))
            if instruction.details.get("case") == case
        ),
        None,
    )
    if found is None:
        session.refuse_rule(
            command,
            controller.ref,
            "SupportNeedsTheControllersOpenRequest",
            # The case as typed is not echoed: it is free text and might name a person.
            f"{controller.ref} has no open support request for this case; support sees a"
            " controller's data only for a case the controller opened (an instruction of kind"
            " support-request with --case)",
        )
    return found
