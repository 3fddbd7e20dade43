"""`processor serve`: the HTTP API (issue 16). Filled in by the HTTP work."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Nothing yet: the serve command is added here."""
    del cli
