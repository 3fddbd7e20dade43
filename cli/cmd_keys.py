"""`keys` commands: the key hierarchy's state, the KEK rotation and the ratchet (RET-5)."""

from __future__ import annotations

from pathlib import Path

import click

from processor.services import keys as keyservice

from .options import NEW_MASTER_KEY_FILE
from .output import emit
from .state import state


@click.group()
def keys() -> None:
    """The key hierarchy: custodian's wrapping key -> key-encryption key -> subject keys."""


@keys.command("status")
@click.pass_context
def keys_status(ctx: click.Context) -> None:
    """Show the custodian, the KEK and wrapping generations, and when rotation is due."""
    st = state(ctx)
    data = keyservice.status(st.session())
    per = ", ".join(f"gen {g}: {n}" for g, n in data["keys_per_generation"].items()) or "none"
    cust = data["custodian"]
    if cust["can_ratchet"]:
        ratchet = (
            f"ratchet: wrapping generation {cust['wrapping_generation']}, last ran "
            f"{cust['last_ratchet_at'] or 'never'}, next due {cust['next_ratchet_due']}"
            + (" (overdue after an erasure)" if cust["ratchet_overdue"] else "")
        )
    else:
        ratchet = f"ratchet: not possible: {cust['why_not']}"
    text = "\n".join(
        [
            f"key custodian: {cust['where']}",
            ratchet,
            (
                f"key-encryption key: generation {data['generation']}, "
                f"made {data['created_at']} ({data['age_hours']} h ago)"
            ),
            f"subject keys per generation: {per}",
            f"last erasure: {data['last_erasure_at'] or 'none'}",
            f"next rotation due: {data['next_rotation_due']}"
            + (" (due now)" if data["due_now"] else ""),
        ]
    )
    emit(data, as_json=st.as_json, text=text)


@keys.command("rotate-kek")
@click.option(
    "--if-due",
    is_flag=True,
    help="Only when the schedule or an erasure since the last rotation makes it due (for cron).",
)
@click.pass_context
def keys_rotate_kek(ctx: click.Context, *, if_due: bool) -> None:
    """Make a new KEK, re-wrap every live subject key, destroy the old KEK; then ratchet."""
    st = state(ctx)
    session = st.session()
    with session.proc.using_clock():
        due = keyservice.rotate_kek_when_due(session) if if_due else keyservice.rotate_kek(session)
    if due is None:
        emit(
            {"rotated": False},
            as_json=st.as_json,
            text="not due: nothing rotated (`processor keys status` says when it is)",
        )
        return
    data = due
    gone = ", ".join(str(g) for g in data["destroyed_generations"]) or "none"
    text = (
        f"rotated to generation {data['generation']}: {data['rewrapped']} keys re-wrapped, "
        f"destroyed generations: {gone}"
    )
    if data["ratchet"] is not None:
        text += "\n" + _ratchet_text(data["ratchet"])
    else:
        text += "\nthe key custodian cannot ratchet (see `processor keys status`)"
    emit(data, as_json=st.as_json, text=text)


@keys.command("ratchet")
@click.pass_context
def keys_ratchet(ctx: click.Context) -> None:
    """Make a new wrapping key in the custodian, re-wrap every KEK, destroy the old key."""
    st = state(ctx)
    session = st.session()
    with session.proc.using_clock():
        data = keyservice.ratchet(session)
    emit(data, as_json=st.as_json, text=_ratchet_text(data))


def _ratchet_text(data: dict[str, object]) -> str:
    gone = data["destroyed_wrapping_generations"]
    listed = ", ".join(str(g) for g in gone) if isinstance(gone, list) and gone else "none"
    return (
        f"ratcheted to wrapping generation {data['wrapping_generation']}: "
        f"{data['keks_rewrapped']} KEKs and {data['system_keys_rewrapped']} system keys "
        f"re-wrapped, destroyed wrapping generations: {listed}"
    )


@keys.command("rotate-master")
@NEW_MASTER_KEY_FILE
@click.pass_context
def keys_rotate_master(ctx: click.Context, new_master_key_file: Path) -> None:
    """Re-wrap every KEK and system key under a new master key (resumable); then install it."""
    from .cmd_backup import rotate_master_command

    st = state(ctx)
    data = rotate_master_command(st, new_master_key_file)
    emit(data, as_json=st.as_json, text=data["message"])


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(keys)
