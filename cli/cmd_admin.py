"""`init`, `users` and `controllers` commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from processor.app import Processor
from processor.services.setup import initialise

from .cmd_audit_parties import controller_contacts
from .cmd_login import check_new_file, credential_notice, write_credential
from .cmd_recovery import recovery
from .options import CREDENTIAL_OUT, USER_REQUEST
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
    type=click.Choice(["standard", "no-staff-access", "effecttracker"]),
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
@click.option(
    "--credential-out",
    type=click.Path(file_okay=False),
    help="Also write the two new credentials to DIR/<name>.credential (0600).",
)
@click.option(
    "--allow-keys-in-data-dir",
    is_flag=True,
    help="Allow the master key or key store inside the data directory (a backup of it would "
    "then bring erased subjects back).",
)
@click.option(
    "--gdpa-undertaking",
    nargs=2,
    metavar="SIGNED TRAINED",
    help="Dates the GDPA signed the confidentiality undertaking and was trained (ACC-1).",
)
@click.option(
    "--manager-undertaking",
    nargs=2,
    metavar="SIGNED TRAINED",
    help="The same for the system manager; without it they are pending (ACC-1).",
)
@click.pass_context
def init(
    ctx: click.Context,
    gdpa: str,
    system_manager: str,
    simulation: bool,
    profile: str,
    processor_name: str,
    credential_out: str | None,
    gdpa_undertaking: tuple[str, str] | None,
    manager_undertaking: tuple[str, str] | None,
    allow_keys_in_data_dir: bool,
) -> None:
    """Create the data directory, keys, the GDPA and the system manager.

    Each of the two gets a personal credential, printed once (and written to
    --credential-out DIR when given). Without their undertaking dates they are pending: they can
    only record them (`users undertaking`) until then (ACC-1).
    """
    st: CliState = state(ctx)
    Processor.check_init(
        st.settings,
        profile=profile,
        processor_name=processor_name,
        allow_keys_in_data_dir=allow_keys_in_data_dir,
    )  # before anything is written: a refused init writes nothing
    if requested_now() is not None and not simulation:
        resolve_clock(simulation=False, last_event=None)  # raises the refusal
    outs = _credential_paths(credential_out, (gdpa, system_manager))
    clock = resolve_clock(simulation, None)
    proc = initialise(
        st.settings,
        gdpa=gdpa,
        system_manager=system_manager,
        simulation=simulation,
        profile=profile,
        processor_name=processor_name,
        clock=clock,
        gdpa_undertaking=gdpa_undertaking or None,
        manager_undertaking=manager_undertaking or None,
        allow_keys_in_data_dir=allow_keys_in_data_dir,
    )
    try:
        issued = {gdpa: proc.issued[gdpa], system_manager: proc.issued[system_manager]}
        data: dict[str, object] = {
            "store": str(st.settings.data_dir) if st.settings.backend == "sqlite" else "postgres",
            "backend": st.settings.backend,
            "simulation": simulation,
            "profile": profile,
            "gdpa": gdpa,
            "system_manager": system_manager,
            "ledger_public_key": proc.ledger.vkey(),
            "credentials": issued,
        }
    finally:
        proc.close()
    for name, out in outs.items():
        write_credential(out, issued[name])
    text = "\n".join(
        [
            f"initialised {data['store']} ({st.settings.backend}"
            + (", simulation" if simulation else "")
            + ")",
            *(credential_notice(n, c, outs.get(n)) for n, c in issued.items()),
        ]
    )
    emit(data, as_json=st.as_json, text=text)


def _credential_paths(folder: str | None, names: tuple[str, ...]) -> dict[str, str]:
    """DIR/<name>.credential for each name, checked to be new before anything is written."""
    if folder is None:
        return {}
    Path(folder).mkdir(mode=0o700, parents=True, exist_ok=True)
    outs = {name: str(Path(folder) / f"{name}.credential") for name in names}
    for out in outs.values():
        check_new_file(out)
    return outs


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
@CREDENTIAL_OUT
@USER_REQUEST
@click.pass_context
def users_add(
    ctx: click.Context,
    name: str,
    role: str,
    controller: str | None,
    confidentiality_signed: str | None,
    trained: str | None,
    credential_out: str | None,
    request: int | None,
) -> None:
    """Add a user with one role and a personal credential (printed once)."""
    st = state(ctx)
    check_new_file(credential_out)
    result = st.desk().users.add(
        name, role, controller, confidentiality_signed, trained, request=request
    )
    write_credential(credential_out, result["credential"])
    text = f"added user {name} ({role})\n" + credential_notice(
        name, result["credential"], credential_out
    )
    emit(result, as_json=st.as_json, text=text)


@users.command("list")
@click.option("--controller")
@click.pass_context
def users_list(ctx: click.Context, controller: str | None) -> None:
    """List users (controller users see only their own controller's)."""
    st = state(ctx)
    rows = st.desk().users.list(controller)
    text = "\n".join(
        f"{r['name']:<24} {r['role']:<15} {r['controller'] or '(processor)'}" for r in rows
    )
    emit({"users": rows}, as_json=st.as_json, text=text or "no users")


@click.group()
def controllers() -> None:
    """Controllers: the processor's customers."""


controllers.add_command(controller_contacts)  # AUD-5 (cmd_audit_parties)
controllers.add_command(recovery)  # ACC-13 (cmd_recovery)


@controllers.command("register")
@click.argument("controller_id")
@click.option("--name", required=True)
@click.option("--country", required=True, help="ISO country code, e.g. DK.")
@click.option("--account", required=True, type=click.Choice(["demo", "freemium", "paying"]))
@click.option("--agreement", required=True, type=click.Choice(["scc", "dpa-2018"]))
@click.option("--cvr", help="Company registration number.")
@click.option("--admin", help="Create the controller's first administrator with this name.")
@click.option(
    "--admin-credential-out",
    type=click.Path(dir_okay=False),
    help="Also write the administrator's credential to this new file (0600).",
)
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
    admin_credential_out: str | None,
) -> None:
    """Register a controller on an agreement edition, with its first administrator."""
    st = state(ctx)
    check_new_file(admin_credential_out)
    result = st.desk().controllers.register(
        controller_id, name, country, account, agreement, cvr, admin
    )
    text = f"registered controller {controller_id}"
    if admin is not None:
        write_credential(admin_credential_out, result["admin_credential"])
        text += "\n" + credential_notice(admin, result["admin_credential"], admin_credential_out)
    emit(result, as_json=st.as_json, text=text)


@controllers.command("instruct")
@click.argument("controller_id")
@click.option(
    "--kind", required=True, help="e.g. general, sensitive-data, transfer, support-access."
)
@click.option("--text", required=True, help="The instruction as given by the controller.")
@click.option("--country", help="--kind transfer: the third country (ISO code), SUB-6.")
@click.option("--basis", help="--kind transfer: the Chapter V basis (scc, dpf, adequacy, ...).")
@click.option(
    "--change",
    type=click.Choice(["add", "revoke", "credential"]),
    help="--kind user-request: the change to a user the controller asks for (ACC-13).",
)
@click.option("--user", "user_name", help="--kind user-request: the user concerned.")
@click.option("--role", help="--kind user-request with --change add: the role.")
@click.option(
    "--account",
    type=click.Choice(["freemium", "paying"]),
    help="--kind upgrade-request: the account asked for (RET-4).",
)
@click.option("--case", help="--kind support-request: the support case it opens (ACC-4).")
@click.pass_context
def controllers_instruct(
    ctx: click.Context,
    controller_id: str,
    kind: str,
    text: str,
    country: str | None,
    basis: str | None,
    change: str | None,
    user_name: str | None,
    role: str | None,
    account: str | None,
    case: str | None,
) -> None:
    """Record a documented instruction of the controller (INSTR-1).

    Kind `user-request` records the controller's request that the processor's staff change one
    of its users: only its own administrator records it; the system manager cites its number.
    Kind `support-request` (with --case) opens the controller's data to the processor's support
    for that case, until it is closed (`support close`) or the policy's days pass (ACC-4).
    """
    st = state(ctx)
    given = {
        "country": country, "basis": basis, "change": change, "user": user_name, "role": role,
        "account": account, "case": case,
    }  # fmt: skip
    details = {key: value for key, value in given.items() if value is not None}
    result = st.desk().controllers.instruct(controller_id, kind, text, details)
    emit(
        result,
        as_json=st.as_json,
        text=f"recorded {kind} instruction {result['number']} for {controller_id}",
    )


@controllers.command("show")
@click.argument("controller_id")
@click.pass_context
def controllers_show(ctx: click.Context, controller_id: str) -> None:
    """Show a controller's account, agreement terms, instructions and counts."""
    st = state(ctx)
    emit(st.desk().controllers.show(controller_id), as_json=st.as_json)


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(init)
    cli.add_command(users)
    cli.add_command(controllers)
