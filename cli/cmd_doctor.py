"""`processor doctor`: check read models, key store and snapshots against the events (AUD-4).

Exit 0 when everything agrees with the events, 3 when anything differs (an integrity failure,
like `ledger verify`). Every difference is printed on its own line, or listed with `--json`.
"""

from __future__ import annotations

import click

from processor.errors import IntegrityFailureError
from processor.integrity.doctor import run_doctor
from processor.integrity.findings import Finding

from .output import emit
from .state import state


@click.command("doctor")
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Rebuild the read models beside the live ones and check the key store (GDPA, manager)."""
    st = state(ctx)
    # Like `ledger verify`: judge the store as it is, sign nothing on the way in.
    session = st.session(catch_up=False)
    with session.proc.using_clock():
        report = run_doctor(session)
    if st.as_json:
        emit(report, as_json=True)
    else:
        counts = ", ".join(f"{name} {n}" for name, n in report["counts"].items())
        lines = [Finding(**f).line() for f in report["findings"]]
        if report["ok"]:
            lines.append(f"doctor: clean at position {report['position']} ({counts})")
        click.echo("\n".join(lines))
    if not report["ok"]:
        found = ", ".join(f"{name} {n}" for name, n in report["counts"].items() if n)
        raise IntegrityFailureError(
            f"doctor found {len(report['findings'])} difference(s) from the events ({found})"
        )


def register(cli: click.Group) -> None:
    """Attach the command."""
    cli.add_command(doctor)
