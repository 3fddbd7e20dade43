"""`processor audit`: what the GDPA runs (issue 15).

The group lives here; its commands come from two modules so that the report and the checks
can grow apart: `cmd_audit_report` (the report) and `cmd_audit_checks` (samples, the change
log, the Art. 30(2) record, packs and reviews).
"""

from __future__ import annotations

import click

from . import cmd_audit_checks, cmd_audit_report


@click.group("audit")
def audit() -> None:
    """GDPA audit: the report, sample checks, the change log, records and packs."""


def register(cli: click.Group) -> None:
    """Attach the audit commands and the group."""
    cmd_audit_report.attach(audit)
    cmd_audit_checks.attach(audit)
    cli.add_command(audit)
