"""`processor policy show / acknowledge` (ACC-15) and `processor gdpa renew` (ACC-16)."""

from __future__ import annotations

import click

from .output import emit
from .state import state


@click.group()
def policy() -> None:
    """The IT-security policy: every change is acknowledged before staff act again (ACC-15)."""


@policy.command("show")
@click.pass_context
def policy_show(ctx: click.Context) -> None:
    """Show the IT-security policy in force and whether you have acknowledged it."""
    st = state(ctx)
    data = st.desk().policy.show()
    lines = [f"{data['title']} ({data['version']})", *(f"  - {p}" for p in data["points"])]
    lines.append(
        "acknowledged" if data["acknowledged"] else "not yet acknowledged: `policy acknowledge`"
    )
    emit(data, as_json=st.as_json, text="\n".join(lines))


@policy.command("acknowledge")
@click.pass_context
def policy_acknowledge(ctx: click.Context) -> None:
    """Record that you read and acknowledge the IT-security policy in force."""
    st = state(ctx)
    data = st.desk().policy.acknowledge()
    emit(data, as_json=st.as_json, text=f"{data['user']} acknowledged {data['version']}")


@click.group()
def gdpa() -> None:
    """The GDPA's appointment: at least two years at a time, recorded and renewed (ACC-16)."""


@gdpa.command("renew")
@click.option("--years", type=int, help="The new term; at least the policy's minimum (2).")
@click.pass_context
def gdpa_renew(ctx: click.Context, years: int | None) -> None:
    """Renew the GDPA's appointment for a further term (system manager)."""
    st = state(ctx)
    data = st.desk().policy.renew_gdpa(years)
    emit(
        data,
        as_json=st.as_json,
        text=f"GDPA {data['gdpa']} appointed from {data['starts']} until {data['ends']}",
    )


@gdpa.command("appoint")
@click.argument("name")
@click.option("--years", type=int, help="The term; at least the policy's minimum (2).")
@click.pass_context
def gdpa_appoint(ctx: click.Context, name: str, years: int | None) -> None:
    """Appoint a GDPA user from today: a new GDPA, or a store with none on record."""
    st = state(ctx)
    data = st.desk().policy.appoint_gdpa(name, years)
    emit(
        data,
        as_json=st.as_json,
        text=f"GDPA {data['gdpa']} appointed from {data['starts']} until {data['ends']}",
    )


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(policy)
    cli.add_command(gdpa)
