"""`processor status`: the store at a glance; exit 1 when something needs attention (cron)."""

from __future__ import annotations

from typing import Any

import click

from processor.audit.status import StatusService

from .output import emit
from .state import state

NEEDS_ATTENTION = 1


def _text(data: dict[str, Any]) -> str:
    """One screen: where, how big, how fresh, what is due, and what to look at."""
    counts, ledger, rm, ret = data["counts"], data["ledger"], data["read_models"], data["retention"]
    verified = ledger["last_verified"]
    if verified is None:
        checked = "never (run `processor ledger verify`)"
    else:
        checked = f"{verified['at']} ({'ok' if verified['ok'] else 'FAILED'})"
    kind = "SIMULATION store" if data["simulation"] else "store"
    lines = [
        (
            f"{kind}: {data['store']} ({data['backend']}, profile {data['profile']}, "
            f"schema {data['store_schema']})"
        ),
        (
            f"controllers: {counts['controllers']}   contacts: {counts['contacts']} "
            f"(+{counts['contacts_erased']} erased)   events: {counts['events']}"
        ),
        (
            f"ledger: {ledger['size']} records signed, root {ledger['root'] or '-'}, "
            f"signed {ledger['signed_at'] or '-'}"
        ),
        f"last verified: {checked}",
        f"read models: at {rm['position']}, {rm['behind']} behind",
        (
            f"retention: {len(ret['controllers_due'])} controllers due, "
            f"{ret['subjects_due']} subjects, {ret['message_contents_due']} message contents"
        ),
        (
            f"notices unacknowledged: {counts['notices_unacknowledged']}   "
            f"staff reviews overdue: {len(data['staff_reviews_overdue'])}   "
            f"users locked: {counts['users_locked']}"
        ),
    ]
    if data["attention"]:
        lines += ["", "needs attention:", *(f"  - {item}" for item in data["attention"])]
    else:
        lines += ["", "all well"]
    if data.get("advice"):
        lines += ["", "advice (does not change the exit status):"]
        lines += [f"  - {item}" for item in data["advice"]]
    return "\n".join(lines)


@click.command("status")
@click.pass_context
def status(ctx: click.Context) -> None:
    """Show the store, its size, the ledger, what is due; exit 1 if something needs attention.

    Reads the store as it is, without catching up, so a lagging ledger or read model shows.
    For GDPAs and system managers; run it from cron and act on a non-zero exit.
    """
    st = state(ctx)
    session = st.session(catch_up=False)
    with session.proc.using_clock():
        data = StatusService(session).status()
    emit(data, as_json=st.as_json, text=_text(data))
    if data["attention"]:
        # The CLI's contract: a non-zero exit comes with one `error:` line on stderr.
        more = len(data["attention"]) - 1
        extra = f" (and {more} more)" if more else ""
        click.echo(f"error: needs attention: {data['attention'][0]}{extra}", err=True)
        ctx.exit(NEEDS_ATTENTION)


def register(cli: click.Group) -> None:
    """Attach this command."""
    cli.add_command(status)
