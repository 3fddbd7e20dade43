"""Audit commands (checks): filled in by this round's audit work."""

from __future__ import annotations

import click


def attach(group: click.Group) -> None:
    """Nothing yet: the commands are attached to `group` here."""
    del group
