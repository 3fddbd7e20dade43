"""`processor doctor`: check read models, key store and snapshots against the events (AUD-4).

Exit 0 when everything agrees with the events, 3 when anything differs (an integrity failure,
like `ledger verify`). Every difference is printed on its own line, or listed with `--json`.
`--repair` destroys the keys of no subject (each batch as an event) once `--confirm` is given.
"""

from __future__ import annotations

import click

from processor.integrity.doctor import run_doctor
from processor.integrity.duplicates import repair_duplicates
from processor.integrity.findings import Finding
from processor.integrity.orphans import repair_orphans
from processor.kernel.errors import IntegrityFailureError, InvalidInputError, RefusedError
from processor.services import validation

from .output import emit
from .state import CliState, state


@click.command("doctor")
@click.option(
    "--repair",
    is_flag=True,
    help="Destroy the subject keys no event created a subject for (with --confirm).",
)
@click.option(
    "--repair-duplicates",
    is_flag=True,
    help="Merge duplicate live contacts of --controller into the oldest (controller admin).",
)
@click.option("--controller", default=None, help="The controller whose duplicates to repair.")
@click.option("--confirm", is_flag=True, help="Write the repair (without it: only the plan).")
@click.pass_context
def doctor(
    ctx: click.Context,
    repair: bool,
    repair_duplicates: bool,
    controller: str | None,
    confirm: bool,
) -> None:
    """Rebuild the read models beside the live ones and check the key store (GDPA, manager)."""
    st = state(ctx)
    if repair:
        if repair_duplicates or controller:
            raise InvalidInputError("--repair and --repair-duplicates are separate runs")
        _repair_orphans(st, confirm=confirm)
        return
    if repair_duplicates or controller or confirm:
        _repair(st, controller, confirm=confirm, repair=repair_duplicates)
        return
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


def _repair_orphans(st: CliState, *, confirm: bool) -> None:
    """`--repair`: list the keys of no subject; destroy them only with `--confirm` (RET-5)."""
    report = repair_orphans(st.session(), confirm=confirm)
    orphans = report["orphan_keys"]
    if st.as_json:
        emit(report, as_json=True)
    elif not orphans:
        click.echo(f"no keys of no subject older than {report['older_than_minutes']} minutes")
    elif confirm:
        click.echo(
            f"destroyed {report['destroyed']} key(s) of no subject, recorded in "
            f"{report['events']} OrphanSubjectKeysDestroyed event(s)"
        )
    else:
        click.echo("\n".join(f"would destroy key of no subject {sid}" for sid in orphans))
    if orphans and not confirm:
        raise RefusedError(
            f"{len(orphans)} key(s) of no subject: nothing changed; run again with --confirm "
            "to destroy them",
            rule="RepairMustBeConfirmed",
        )


def _repair(st: CliState, controller: str | None, *, confirm: bool, repair: bool) -> None:
    """`--repair-duplicates`: show the plan, and write it only with `--confirm` (SUBJ-4)."""
    if not repair or not controller:
        raise InvalidInputError("--controller and --confirm go with --repair-duplicates")
    session = st.session()
    report = repair_duplicates(session, validation.controller_ref(controller), confirm=confirm)
    if st.as_json:
        emit(report, as_json=True)
    else:
        lines = [f"keep {g['keep']}, erase {', '.join(g['erase'])}" for g in report["groups"]]
        lines += [
            f"erased {r['erased']} (duplicate of {r['kept']})"
            + (f"; merged: {', '.join(r['merged'])}" if r["merged"] else "")
            for r in report["repaired"]
        ]
        if not report["groups"]:
            lines.append(f"no duplicate contacts for {controller}")
        click.echo("\n".join(lines))
    if report["groups"] and not confirm:
        raise RefusedError(
            f"{len(report['groups'])} group(s) of duplicates: nothing changed; once the "
            "controller agrees, run again with --confirm",
            rule="ControllerMustConfirmRepair",
        )


def register(cli: click.Group) -> None:
    """Attach the command."""
    cli.add_command(doctor)
