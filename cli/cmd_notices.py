"""`notices` and `notices ack`: what the processor told a controller, and its acknowledgement."""

from __future__ import annotations

from typing import Any

import click

from .output import emit
from .state import state


def _text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no notices"
    blocks = []
    for r in rows:
        acked = (
            f"acknowledged by {r['acknowledged_by']} at {r['acknowledged_at'].isoformat()}"
            if r["acknowledged_at"] is not None
            else "UNACKNOWLEDGED"
        )
        blocks.append(
            f"{r['notice_id']}  {r['at'].isoformat()}  {r['controller']}  {r['kind']}  {acked}\n"
            f"  {r['title']}\n  {r['body']}"
        )
    return "\n\n".join(blocks)


@click.group(invoke_without_command=True)
@click.option("--controller", "controller", metavar="ID", help="Only this controller's notices.")
@click.option("--unacknowledged", is_flag=True, help="Only notices not yet acknowledged.")
@click.pass_context
def notices(ctx: click.Context, controller: str | None, unacknowledged: bool) -> None:
    """List notices to controllers (a controller's users see their own only, ACC-14)."""
    if ctx.invoked_subcommand is not None:
        return
    st = state(ctx)
    rows = st.desk().notices.list(controller, unacknowledged=unacknowledged)
    emit({"notices": rows}, as_json=st.as_json, text=_text(rows))


@notices.command("ack")
@click.argument("notice_id", metavar="ID")
@click.pass_context
def notices_ack(ctx: click.Context, notice_id: str) -> None:
    """Record that the controller read notice ID (once)."""
    st = state(ctx)
    result = st.desk().notices.ack(notice_id)
    emit(
        result,
        as_json=st.as_json,
        text=f"acknowledged {result['notice_id']} ({result['kind']}) for {result['controller']}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(notices)
