"""`processor audit`: what the GDPA runs (issue 15).

The group lives here; its commands come from modules so that they can grow apart:
`cmd_audit_report` (the report), `cmd_audit_checks` (samples, the change log, the Art. 30(2)
record, packs and reviews), `cmd_audit_inspections` (AUD-7) and `cmd_audit_inform` (SUBJ-10).
"""

from __future__ import annotations

import click

from . import cmd_audit_checks, cmd_audit_inform, cmd_audit_inspections, cmd_audit_report


@click.group("audit")
def audit() -> None:
    """GDPA audit: the report, sample checks, the change log, records and packs."""


def register(cli: click.Group) -> None:
    """Attach the audit commands and the group."""
    cmd_audit_report.attach(audit)
    cmd_audit_checks.attach(audit)
    cmd_audit_inspections.attach(audit)
    cmd_audit_inform.attach(audit)
    cli.add_command(audit)
