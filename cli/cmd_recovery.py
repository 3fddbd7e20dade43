"""`controllers recovery start / approve / cancel / complete / list` (ACC-13, AUD-5).

The four-eyes account recovery of a controller left without a working administrator. Thin:
each command calls `desk.recovery`; cmd_admin attaches the group to `controllers`.
"""

from __future__ import annotations

import click

from .cmd_login import check_new_file, credential_notice, write_credential
from .options import CREDENTIAL_OUT
from .output import emit
from .state import state


def _line(r: dict[str, object]) -> str:
    return f"recovery {r['recovery']} of {r['controller']} for {r['user']}: {r['state']}" + (
        f" (wait ends {r['wait_ends']})" if r.get("wait_ends") else ""
    )


@click.group("recovery")
def recovery() -> None:
    """Four-eyes recovery of a controller's administrator (system manager + GDPA, a wait)."""


@recovery.command("start")
@click.argument("controller_id")
@click.option(
    "--user", "user_name", required=True, help="The administrator to recover (or a new one)."
)
@click.option(
    "--verification",
    required=True,
    metavar="REF",
    help="Reference of the out-of-band check of who asked (ticket, call id); kept sealed.",
)
@click.pass_context
def recovery_start(
    ctx: click.Context, controller_id: str, user_name: str, verification: str
) -> None:
    """Start a recovery (system manager); the administrators and contact persons are told."""
    st = state(ctx)
    result = st.desk().recovery.start(controller_id, user_name, verification)
    emit(result, as_json=st.as_json, text=_line(result))


@recovery.command("approve")
@click.argument("controller_id")
@click.argument("number", type=int)
@click.pass_context
def recovery_approve(ctx: click.Context, controller_id: str, number: int) -> None:
    """Approve a recovery (GDPA, not its starter); the waiting period starts now."""
    st = state(ctx)
    result = st.desk().recovery.approve(controller_id, number)
    emit(result, as_json=st.as_json, text=_line(result))


@recovery.command("cancel")
@click.argument("controller_id")
@click.argument("number", type=int)
@click.option("--reason", default="", help="Why (kept sealed).")
@click.pass_context
def recovery_cancel(ctx: click.Context, controller_id: str, number: int, reason: str) -> None:
    """Cancel an open recovery (any administrator of the controller, or the GDPA)."""
    st = state(ctx)
    result = st.desk().recovery.cancel(controller_id, number, reason)
    emit(result, as_json=st.as_json, text=_line(result))


@recovery.command("complete")
@click.argument("controller_id")
@click.argument("number", type=int)
@CREDENTIAL_OUT
@click.pass_context
def recovery_complete(
    ctx: click.Context, controller_id: str, number: int, credential_out: str | None
) -> None:
    """Issue the recovered administrator's credential after the wait (printed once, handed over)."""
    st = state(ctx)
    check_new_file(credential_out)
    result = st.desk().recovery.complete(controller_id, number)
    write_credential(credential_out, result["credential"])
    text = (
        _line(result)
        + "\n"
        + credential_notice(result["name"], result["credential"], credential_out)
    )
    emit(result, as_json=st.as_json, text=text)


@recovery.command("list")
@click.argument("controller_id")
@click.pass_context
def recovery_list(ctx: click.Context, controller_id: str) -> None:
    """List a controller's recoveries."""
    st = state(ctx)
    rows = st.desk().recovery.list(controller_id)
    emit(
        {"recoveries": rows},
        as_json=st.as_json,
        text="\n".join(_line(r) for r in rows) or "no recoveries",
    )
