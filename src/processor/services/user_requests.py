"""The controller's recorded requests that let the processor's staff change its users (ACC-13).

A controller's users are its own business: its administrators create, change and revoke them.
The processor's system manager may do it only when the controller asked: an instruction of kind
`user-request`, recorded by one of the controller's own administrators with their own credential,
whose details name the change (`change`, `user`, and for an addition the `role`). Processor
staff can never record one: a request they wrote in the controller's name would be the key to its
account. The command cites the instruction by its number; a request is carried out once, and that
is an event on the controller, committed with the change itself. A controller with no working
administrator left is helped by the four-eyes account recovery (`services/recovery.py`) instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from processor.kernel.errors import InvalidInputError
from processor.notices.domain import USER_REQUEST_RECORDED
from processor.notices.post import new_notice
from processor.services.agreements import rely_on

if TYPE_CHECKING:
    from eventsourcing.domain import Aggregate

    from processor.domain.controllers import Controller
    from processor.session import Session

KIND = "user-request"
CHANGES = ("add", "revoke", "credential")


def request_details(change: str | None, user: str | None, role: str | None) -> dict[str, str]:
    """The details of a `user-request` instruction, checked."""
    if change not in CHANGES:
        raise InvalidInputError(f"a user request needs --change, one of {', '.join(CHANGES)}")
    if not user:
        raise InvalidInputError("a user request needs --user NAME")
    if change == "add" and not role:
        raise InvalidInputError("a user request to add a user needs --role")
    details = {"change": change, "user": user}
    if role:
        details["role"] = role
    return details


def must_come_from_the_controller(session: Session, controller: str) -> None:
    """Refuse (recorded, counted) a `user-request` instruction not given by the controller's user.

    The role table already gives `controllers.instruct` to controller administrators only; this
    rule names the reason, so a role table widened by mistake still lets no staff member write
    the controller's request for it (ACC-13).
    """
    me = session.find_user(session.user_name)
    if me is None or me.controller is None:
        session.deny(
            "controllers instruct",
            controller,
            "UserRequestsComeFromTheController",
            "a user request is recorded by one of the controller's own administrators,"
            " never by the processor's staff",
        )


def must_cite_request(
    session: Session,
    controller: Controller,
    number: int | None,
    *,
    change: str,
    user: str,
    role: str | None,
) -> list[Aggregate]:
    """Refuse (recorded) unless `number` is an unused `user-request` naming exactly this change.

    On success the controller gets `UserRequestCarriedOut` and a notice tells it what was done
    in its name; the caller commits both (returned) with the change itself.
    """
    command = f"users {change}"
    if number is None:
        session.deny(
            command,
            controller.ref,
            "UserChangesNeedTheControllersRequest",
            "the processor's staff change a controller's users only on its recorded request"
            " (an instruction of kind user-request, cited with --request N)",
        )
    instructions = controller.instructions
    if not 1 <= number <= len(instructions) or instructions[number - 1].kind != KIND:
        session.deny(
            command,
            controller.ref,
            "UserChangesNeedTheControllersRequest",
            f"instruction {number} of {controller.ref} is not a user request",
        )
    details = instructions[number - 1].details
    wanted = {"change": change, "user": user} | ({"role": role} if role else {})
    if any(details.get(key) != value for key, value in wanted.items()):
        session.deny(
            command,
            controller.ref,
            "UserChangesNeedTheControllersRequest",
            f"user request {number} of {controller.ref} does not name this change",
        )
    # A request the processor flagged as infringing waits for the controller's word (INSTR-2).
    rely_on(session, controller, number, command)
    if number in controller.user_requests_done:
        session.refuse_rule(
            command,
            controller.ref,
            "UserRequestIsCarriedOutOnce",
            f"user request {number} of {controller.ref} was already carried out",
        )
    controller.carry_out_user_request(
        actor=session.user_name, number=number, change=change, user=user
    )
    notice = new_notice(
        session.proc,
        controller=controller.ref,
        kind=USER_REQUEST_RECORDED,
        title=f"User request {number} carried out by the processor",
        body=(
            f"{session.user_name} carried out your request {number}: {change} user {user}."
            " A credential the processor's staff issue must be replaced by its holder before it"
            " can be used; if anyone but the person named replaced it, tell the GDPA."
        ),
        actor=session.user_name,
        about=f"instruction:{number}",
    )
    return [controller, notice]
