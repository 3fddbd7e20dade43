"""`processor breaches`: the breach register (issue 14). Filled in by the breach work."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Nothing yet: the breach commands are added here."""
    del cli
