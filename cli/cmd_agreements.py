"""The agreement kept and the instructions judged (INSTR-2, INSTR-5, INSTR-6, RET-4).

`controllers agreement / accept / flag-instruction / confirm-instruction / withdraw-instruction /
legal-requirement / upgrade`. Thin: each command calls `desk.agreements`.
"""

from __future__ import annotations

from pathlib import Path

import click

from processor.kernel.errors import InvalidInputError

from .output import emit
from .state import state


@click.command("agreement")
@click.argument("controller_id")
@click.option("--edition", required=True, type=click.Choice(["scc", "dpa-2018"]))
@click.option("--signed-on", required=True, help="Date both parties signed (YYYY-MM-DD).")
@click.option(
    "--text-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The signed text; only its SHA-256 is kept.",
)
@click.option("--processor-signatory", required=True, help="Who signed for the processor.")
@click.option("--controller-signatory", required=True, help="Who signed for the controller.")
@click.pass_context
def agreement(
    ctx: click.Context,
    controller_id: str,
    edition: str,
    signed_on: str,
    text_file: Path,
    processor_signatory: str,
    controller_signatory: str,
) -> None:
    """Record a signed agreement (INSTR-5); a later one waits for the controller's acceptance."""
    st = state(ctx)
    try:
        text = text_file.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read --text-file: {exc.strerror}") from None
    result = st.desk().agreements.record(
        controller_id, edition, signed_on, text, processor_signatory, controller_signatory
    )
    emit(
        result,
        as_json=st.as_json,
        text=f"recorded {edition} agreement of {controller_id} "
        f"(sha256 {result['text_sha256'][:16]}…): {result['status']}",
    )


@click.command("accept")
@click.argument("controller_id")
@click.option("--edition", required=True, type=click.Choice(["scc", "dpa-2018"]))
@click.pass_context
def accept(ctx: click.Context, controller_id: str, edition: str) -> None:
    """Accept the pending amendment (controller administrator): its terms apply from now."""
    st = state(ctx)
    result = st.desk().agreements.accept(controller_id, edition)
    emit(result, as_json=st.as_json, text=f"{controller_id} is now on the {edition} agreement")


@click.command("flag-instruction")
@click.argument("controller_id")
@click.argument("number", type=int)
@click.option("--reason", required=True, help="Why the instruction infringes the law.")
@click.pass_context
def flag_instruction(ctx: click.Context, controller_id: str, number: int, reason: str) -> None:
    """Flag instruction NUMBER as infringing the law and tell the controller (GDPA, INSTR-2)."""
    st = state(ctx)
    result = st.desk().agreements.flag(controller_id, number, reason)
    emit(
        result,
        as_json=st.as_json,
        text=f"flagged instruction {number} of {controller_id}; the controller is notified",
    )


@click.command("confirm-instruction")
@click.argument("controller_id")
@click.argument("number", type=int)
@click.pass_context
def confirm_instruction(ctx: click.Context, controller_id: str, number: int) -> None:
    """Confirm a flagged instruction (controller administrator): processing on it may go on."""
    st = state(ctx)
    result = st.desk().agreements.settle(controller_id, number, confirm=True)
    emit(result, as_json=st.as_json, text=f"instruction {number} of {controller_id} confirmed")


@click.command("withdraw-instruction")
@click.argument("controller_id")
@click.argument("number", type=int)
@click.pass_context
def withdraw_instruction(ctx: click.Context, controller_id: str, number: int) -> None:
    """Withdraw a flagged instruction (controller administrator): nothing relies on it."""
    st = state(ctx)
    result = st.desk().agreements.settle(controller_id, number, confirm=False)
    emit(result, as_json=st.as_json, text=f"instruction {number} of {controller_id} withdrawn")


@click.command("legal-requirement")
@click.argument("controller_id")
@click.option("--text", required=True, help="The processing or transfer the law requires.")
@click.pass_context
def legal_requirement(ctx: click.Context, controller_id: str, text: str) -> None:
    """Record and tell the controller of a legally required processing, before it (INSTR-6)."""
    st = state(ctx)
    result = st.desk().agreements.legal_requirement(controller_id, text)
    emit(result, as_json=st.as_json, text=f"{controller_id} notified of the legal requirement")


@click.command("upgrade")
@click.argument("controller_id")
@click.option("--account", required=True, type=click.Choice(["freemium", "paying"]))
@click.option(
    "--request",
    type=int,
    help="Number of the controller's upgrade-request instruction this carries out (RET-4).",
)
@click.pass_context
def upgrade(ctx: click.Context, controller_id: str, account: str, request: int | None) -> None:
    """Upgrade the account on the controller's request (system manager); its data is kept."""
    st = state(ctx)
    result = st.desk().agreements.upgrade(controller_id, account, request)
    emit(result, as_json=st.as_json, text=f"{controller_id} upgraded to {account}; data kept")


def register(cli: click.Group) -> None:
    """Attach these commands to cmd_admin's controllers group."""
    group = cli.commands["controllers"]
    assert isinstance(group, click.Group)  # noqa: S101 - registered by cmd_admin first
    for command in (
        agreement,
        accept,
        flag_instruction,
        confirm_instruction,
        withdraw_instruction,
        legal_requirement,
        upgrade,
    ):
        group.add_command(command)
