"""`init`, `users` and `controllers` commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from processor.app import Processor

from .output import emit
from .state import requested_now, resolve_clock, state

if TYPE_CHECKING:
    from .state import CliState


@click.command()
@click.option("--gdpa", required=True, help="Name of the data-protection administrator.")
@click.option("--system-manager", required=True, help="Name of the system manager.")
@click.option(
    "--simulation", is_flag=True, help="Mark the store as a simulation (PROCESSOR_NOW honoured)."
)
@click.option(
    "--profile",
    type=click.Choice(["standard", "no-staff-access"]),
    default="standard",
    show_default=True,
    help="Staff-access profile of this processor (ACC-11).",
)
@click.option(
    "--processor-name",
    default="processor",
    show_default=True,
    help="Name used in signed checkpoints (the log's origin).",
)
@click.pass_context
def init(
    ctx: click.Context,
    gdpa: str,
    system_manager: str,
    simulation: bool,
    profile: str,
    processor_name: str,
) -> None:
    """Create the data directory, keys, the GDPA and the system manager."""
    st: CliState = state(ctx)
    if requested_now() is not None and not simulation:
        resolve_clock(simulation=False, last_event=None)  # raises the refusal
    clock = resolve_clock(simulation, None)
    proc = Processor.init(
        st.settings,
        gdpa=gdpa,
        system_manager=system_manager,
        simulation=simulation,
        profile=profile,
        processor_name=processor_name,
        clock=clock,
    )
    try:
        data = {
            "store": str(st.settings.data_dir) if st.settings.backend == "sqlite" else "postgres",
            "backend": st.settings.backend,
            "simulation": simulation,
            "profile": profile,
            "gdpa": gdpa,
            "system_manager": system_manager,
            "ledger_public_key": proc.ledger.vkey(),
        }
    finally:
        proc.close()
    emit(data, as_json=st.as_json)


@click.group()
def users() -> None:
    """Processor staff and controller users."""


@users.command("add")
@click.argument("name")
@click.option("--role", required=True)
@click.option("--controller", help="The controller a controller-role user belongs to.")
@click.option(
    "--confidentiality-signed",
    metavar="DATE",
    help="Date the confidentiality undertaking was signed.",
)
@click.option("--trained", metavar="DATE", help="Date of data-protection training.")
@click.pass_context
def users_add(
    ctx: click.Context,
    name: str,
    role: str,
    controller: str | None,
    confidentiality_signed: str | None,
    trained: str | None,
) -> None:
    """Add a user with one role."""
    st = state(ctx)
    result = st.session().users.add(name, role, controller, confidentiality_signed, trained)
    emit(result, as_json=st.as_json, text=f"added user {name} ({role})")


@users.command("list")
@click.option("--controller")
@click.pass_context
def users_list(ctx: click.Context, controller: str | None) -> None:
    """List users (controller users see only their own controller's)."""
    st = state(ctx)
    rows = st.session().users.list(controller)
    text = "\n".join(
        f"{r['name']:<24} {r['role']:<15} {r['controller'] or '(processor)'}" for r in rows
    )
    emit({"users": rows}, as_json=st.as_json, text=text or "no users")


@click.group()
def controllers() -> None:
    """Controllers: the processor's customers."""


@controllers.command("register")
@click.argument("controller_id")
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO country code, e.g. DK.")
@click.option("--account", required=True, type=click.Choice(["demo", "freemium", "paying"]))
@click.option("--agreement", required=True, type=click.Choice(["scc", "dpa-2018"]))
@click.option("--cvr", help="Company registration number.")
@click.option("--admin", help="Create the controller's first administrator with this name.")
@click.pass_context
def controllers_register(
    ctx: click.Context,
    controller_id: str,
    name: str,
    country: str,
    account: str,
    agreement: str,
    cvr: str | None,
    admin: str | None,
) -> None:
    """Register a controller on an agreement edition."""
    st = state(ctx)
    result = st.session().controllers.register(
        controller_id, name, country, account, agreement, cvr, admin
    )
    emit(result, as_json=st.as_json, text=f"registered controller {controller_id}")


@controllers.command("instruct")
@click.argument("controller_id")
@click.option(
    "--kind", required=True, help="e.g. general, sensitive-data, transfer, support-access."
)
@click.option("--text", required=True, help="The instruction as given by the controller.")
@click.option("--country", help="--kind transfer: the third country (ISO code), SUB-6.")
@click.option("--basis", help="--kind transfer: the Chapter V basis (scc, dpf, adequacy, ...).")
@click.pass_context
def controllers_instruct(
    ctx: click.Context,
    controller_id: str,
    kind: str,
    text: str,
    country: str | None,
    basis: str | None,
) -> None:
    """Record a documented instruction of the controller (INSTR-1)."""
    st = state(ctx)
    given = {"country": country, "basis": basis}
    details = {key: value for key, value in given.items() if value is not None}
    result = st.session().controllers.instruct(controller_id, kind, text, details)
    emit(result, as_json=st.as_json, text=f"recorded {kind} instruction for {controller_id}")


@controllers.command("show")
@click.argument("controller_id")
@click.pass_context
def controllers_show(ctx: click.Context, controller_id: str) -> None:
    """Show a controller's account, agreement terms, instructions and counts."""
    st = state(ctx)
    emit(st.session().controllers.show(controller_id), as_json=st.as_json)


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(init)
    cli.add_command(users)
    cli.add_command(controllers)
