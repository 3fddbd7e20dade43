"""`audit inform-pack`: what the controller tells its data subjects, from live state (SUBJ-10)."""

from __future__ import annotations

import click

from processor.audit.inform import inform_pack as build_inform_pack

from .output import emit
from .state import state


@click.command("inform-pack")
@click.argument("controller")
@click.pass_context
def inform_pack(ctx: click.Context, controller: str) -> None:
    """What is collected, from where, for which purpose; no automated decision (SUBJ-10)."""
    st = state(ctx)
    emit(build_inform_pack(st.session(), controller), as_json=st.as_json)


def attach(group: click.Group) -> None:
    """Attach the command to the `audit` group."""
    group.add_command(inform_pack)
