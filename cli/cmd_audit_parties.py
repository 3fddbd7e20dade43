"""Contact persons of both parties (AUD-5) and challenges of a supervision (SUB-7).

`controllers contacts ID` and `subprocessors challenge` join their groups (attached there);
`processor-contacts` is a command of its own. Each change of a contact person is made known to
the other party as a notice; a challenge is recorded and notified.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from processor.audit.challenges import ChallengesService
from processor.audit.contactpersons import ROLES, ContactPersonsService
from processor.domain.ids import PROCESSOR_PARTY
from processor.services.validation import iso_date

from .output import emit, printable
from .state import state


def _persons_text(data: dict[str, Any]) -> str:
    persons = data["contact_persons"]
    lines = [
        printable(f"{role:<16} " + ", ".join(str(v) for _, v in sorted(d.items())))
        for role, d in sorted(persons.items())
    ]
    if "notified" in data:
        lines.append(f"notified: {data['notified']} notice(s)")
    return "\n".join(lines) or "no contact persons recorded"


def _change(
    ctx: click.Context,
    party: str,
    role: str | None,
    name: str | None,
    email: str | None,
    phone: str | None,
    remove: str | None,
) -> None:
    st = state(ctx)
    service = ContactPersonsService(st.session())
    if remove is not None:
        if role or name or email or phone:
            raise click.UsageError("--remove goes alone")
        data = service.remove(party, remove)
    elif role is not None:
        if not (name and email):
            raise click.UsageError("--role needs --name and --email")
        data = service.set(party, role, name, email, phone)
    else:
        if name or email or phone:
            raise click.UsageError("--name, --email and --phone need --role")
        data = service.show(party)
    emit(data, as_json=st.as_json, text=_persons_text(data))


def _person_options(func: Any) -> Any:  # noqa: ANN401 - a click decorator stack
    for option in reversed(
        (
            click.option("--role", type=click.Choice(ROLES), help="Record this role's person."),
            click.option("--name", help="The contact person's name."),
            click.option("--email", help="The contact person's e-mail."),
            click.option("--phone", help="The contact person's telephone (optional)."),
            click.option("--remove", type=click.Choice(ROLES), help="Remove this role's person."),
        )
    ):
        func = option(func)
    return func


@click.command("contacts")
@click.argument("controller")
@_person_options
@click.pass_context
def controller_contacts(
    ctx: click.Context,
    controller: str,
    role: str | None,
    name: str | None,
    email: str | None,
    phone: str | None,
    remove: str | None,
) -> None:
    """Show or change the controller's contact persons; a change is notified (AUD-5)."""
    _change(ctx, controller, role, name, email, phone, remove)


@click.command("processor-contacts")
@_person_options
@click.pass_context
def processor_contacts(
    ctx: click.Context,
    role: str | None,
    name: str | None,
    email: str | None,
    phone: str | None,
    remove: str | None,
) -> None:
    """Show or change the processor's contact persons; every controller is notified (AUD-5)."""
    _change(ctx, PROCESSOR_PARTY, role, name, email, phone, remove)


@click.command("challenge")
@click.argument("name")
@click.option("--reason", required=True, help="Why the supervision does not convince (sealed).")
@click.option("--supervision", metavar="DATE", help="The supervision's date (default: latest).")
@click.option(
    "--new-audit/--no-new-audit", default=True, show_default=True, help="Ask for a new audit."
)
@click.pass_context
def challenge(
    ctx: click.Context, name: str, reason: str, supervision: str | None, new_audit: bool
) -> None:
    """A controller's administrator challenges a supervision and asks for a new audit (SUB-7)."""
    st = state(ctx)
    on = date.fromisoformat(iso_date(supervision, "--supervision")) if supervision else None
    data = ChallengesService(st.session()).challenge(name, reason, on, new_audit)
    emit(
        data,
        as_json=st.as_json,
        text=f"challenge {data['challenge']} recorded and notified (notice {data['notice']})",
    )


def register(cli: click.Group) -> None:
    """Attach `processor-contacts`.

    `controllers contacts` and `subprocessors challenge` are attached by the modules that own
    those groups (`cmd_admin`, `cmd_subprocessors`), so a lazily loaded root finds them with
    their group, whichever module it loads.
    """
    cli.add_command(processor_contacts)
