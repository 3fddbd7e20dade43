"""`login`, `logout` and `users credential`: personal credentials on the command line (ACC-12)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from processor.credentials import keeper
from processor.kernel.errors import InvalidInputError

from .options import CREDENTIAL_OUT, USER_REQUEST
from .output import emit
from .state import cli_via, state


def credential_notice(name: str, text: str, out: str | None) -> str:
    """The one-time text shown when a credential is issued."""
    where = f" (also written to {out})" if out else ""
    return (
        f"credential for {name}, shown once{where}:\n  {text}\n"
        f"keep it secret; `processor login {name}` keeps it for this account"
    )


def check_new_file(out: str | None) -> None:
    """Refuse a --credential-out path that exists or cannot be created, before any write."""
    if out is None:
        return
    path = Path(out)
    if path.exists() or path.is_symlink():
        raise InvalidInputError(f"{out} exists; the credential file must be new")
    if not path.parent.is_dir():
        raise InvalidInputError(f"{path.parent} is not a directory")


def write_credential(out: str | None, text: str) -> None:
    """Write an issued credential to its new 0600 file, if one was asked for."""
    if out is not None:
        keeper.write_secret_file(Path(out), text)


@click.command()
@click.argument("name")
@click.option(
    "--credential-file",
    "credential_file",
    type=click.Path(dir_okay=False),
    help="Read the credential from this file instead of the prompt or standard input.",
)
@click.pass_context
def login(ctx: click.Context, name: str, credential_file: str | None) -> None:
    """Check NAME's credential and keep it (0600) for later commands with --as NAME.

    The credential is read from --credential-file, from standard input when it is not a
    terminal, or from a hidden prompt. A wrong credential is refused, recorded and counted
    towards the lockout.
    """
    st = state(ctx)
    if credential_file:
        text = keeper.read_secret_file(Path(credential_file))
    elif not sys.stdin.isatty():
        text = sys.stdin.readline().strip()
    else:
        text = click.prompt(f"credential for {name}", hide_input=True).strip()
    if not text:
        raise InvalidInputError("no credential given")
    from processor import desk

    session = desk.login(st.processor(), name, text, via=cli_via())
    session.authorize("self.credential", command="login")
    path = keeper.keep(st.settings, name, text)
    emit(
        {"user": name, "kept_in": str(path)},
        as_json=st.as_json,
        text=f"logged in as {name}; the credential is kept in {path}",
    )


@click.command()
@click.argument("name")
@click.pass_context
def logout(ctx: click.Context, name: str) -> None:
    """Forget the kept credential of NAME for this store."""
    st = state(ctx)
    removed = keeper.forget(st.settings, name)
    emit(
        {"user": name, "forgotten": removed},
        as_json=st.as_json,
        text=f"logged out {name}" if removed else f"no kept credential for {name}",
    )


@click.command("credential")
@click.argument("name")
@click.option("--rotate", is_flag=True, help="Issue a new credential now (required).")
@CREDENTIAL_OUT
@USER_REQUEST
@click.pass_context
def users_credential(
    ctx: click.Context, name: str, rotate: bool, credential_out: str | None, request: int | None
) -> None:
    """Issue NAME a new credential; the old one stops working at once."""
    st = state(ctx)
    if not rotate:
        raise InvalidInputError("give --rotate to issue a new credential (the old one dies)")
    check_new_file(credential_out)
    result = st.desk().users.rotate_credential(name, request=request)
    write_credential(credential_out, result["credential"])
    if st.user == name:
        # A person rotating their own credential stays logged in with the new one.
        keeper.keep(st.settings, name, result["credential"])
    emit(
        result,
        as_json=st.as_json,
        text=credential_notice(name, result["credential"], credential_out),
    )


@click.command("undertaking")
@click.argument("name")
@click.option("--confidentiality-signed", required=True, metavar="DATE")
@click.option("--trained", required=True, metavar="DATE")
@click.pass_context
def users_undertaking(
    ctx: click.Context, name: str, confidentiality_signed: str, trained: str
) -> None:
    """Record a staff member's confidentiality undertaking and training (ACC-1).

    A pending GDPA or system manager records their own; the system manager records others'.
    """
    st = state(ctx)
    result = st.desk().users.record_undertaking(name, confidentiality_signed, trained)
    emit(result, as_json=st.as_json, text=f"recorded the undertaking and training of {name}")


def register(cli: click.Group) -> None:
    """Attach these commands."""
    cli.add_command(login)
    cli.add_command(logout)
    users = cli.commands["users"]
    assert isinstance(users, click.Group)  # noqa: S101 - cmd_admin registers it first
    users.add_command(users_credential)
    users.add_command(users_undertaking)
