"""Options that several commands take with the same meaning, written once.

An option shared this way has one name, one help text and one type wherever it appears, so
`docs/cli.md` and the behaviour cannot drift apart between commands. Options that only look
alike (`--request` citing an upgrade request, `--credential-out` naming a folder) stay with their
command. `--force` lives beside the output-file logic it controls (`outfile.FORCE`).
"""

from __future__ import annotations

from pathlib import Path

import click

USER_REQUEST = click.option(
    "--request",
    type=int,
    metavar="N",
    help="Processor staff, for a controller's user: its user-request instruction (ACC-13).",
)
"""The controller's user-request instruction a staff member carries out for it (ACC-13)."""

CREDENTIAL_OUT = click.option(
    "--credential-out",
    type=click.Path(dir_okay=False),
    help="Also write the new credential to this new file (0600).",
)
"""Hand an issued credential over in a new 0600 file as well as on screen."""

NEW_MASTER_KEY_FILE = click.option(
    "--new-master-key-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The new master key (64 hex, 0600); made with a fresh random key if it does not exist.",
)
"""Where the master key that replaces the current one is (or is made)."""

AS_OF = click.option("--at", metavar="DATE", help="As of a date or time (time travel).")
"""Answer as the records stood at a past moment."""

CONTROLLER_FILTER = click.option(
    "--controller", help="Only this controller (a controller's users: always theirs)."
)
"""Narrow a report to one controller; a controller's own users always see only theirs."""
