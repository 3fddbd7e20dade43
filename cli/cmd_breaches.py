"""`processor breaches`: the breach register (BR-1 to BR-5). Thin: each command calls the service.

`open`, `impact`, `notify`, `update`, `authority-notice`, `subjects-notice`, `export-subjects`,
`timeline`, `list`, `show`, `rotate-keys`, `close`. `list` exits 1 when a clock is overdue, so
it can run from cron or alerting.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import click

from processor.breaches import timeline as timelines
from processor.breaches.domain import KINDS, MEASURE_KINDS, PHASES, STATUSES
from processor.breaches.register import breach_clocks, parse_window
from processor.breaches.responses import BreachResponsesService
from processor.breaches.service import BreachesService
from processor.kernel.errors import FindingsError
from processor.services.validation import iso_datetime

from . import outfile
from .options import NEW_MASTER_KEY_FILE
from .outfile import FORCE
from .output import emit
from .state import CliState, state


def _service(st: CliState) -> BreachesService:
    return BreachesService(st.session())


def _responses(st: CliState) -> BreachResponsesService:
    return BreachResponsesService(st.session())


def _when(value: str | None, what: str) -> Any:  # noqa: ANN401
    return None if value is None else iso_datetime(value, what)


@click.group()
def breaches() -> None:
    """The breach register: incidents, impact, notices, clocks and timelines (BR-1..BR-5)."""


@breaches.command("open")
@click.option("--kind", "kinds", multiple=True, required=True, type=click.Choice(KINDS))
@click.option("--nature", required=True, help="What happened (sealed at rest).")
@click.option("--cause", default="", help="The cause, as far as known (sealed).")
@click.option("--how", "discovery", default="", help="How the incident was discovered (sealed).")
@click.option("--discovered-at", help="When it was discovered (ISO-8601).")
@click.option("--aware-at", help="When the processor became aware (ISO-8601; default now).")
@click.option("--occurred", help="When it occurred: FROM..TO, either side may be empty.")
@click.option(
    "--system",
    "systems",
    multiple=True,
    help="subprocessor:NAME, hosting, keystore, store or controller:ID (repeatable).",
)
@click.option("--contact-point", help="Who the controllers contact (default: you).")
@click.pass_context
def open_breach(
    ctx: click.Context,
    kinds: tuple[str, ...],
    nature: str,
    cause: str,
    discovery: str,
    discovered_at: str | None,
    aware_at: str | None,
    occurred: str | None,
    systems: tuple[str, ...],
    contact_point: str | None,
) -> None:
    """Record a security incident and assess its impact (GDPA, system manager)."""
    st = state(ctx)
    start, end = parse_window(occurred)
    result = _service(st).open(
        kinds=list(kinds),
        nature=nature,
        cause=cause,
        discovery=discovery,
        discovered_at=_when(discovered_at, "--discovered-at"),
        aware_at=_when(aware_at, "--aware-at"),
        occurred_from=start,
        occurred_to=end,
        systems=list(systems),
        contact_point=contact_point,
    )
    impact = result["impact"] or {"subjects": 0, "controllers": []}
    emit(
        result,
        as_json=st.as_json,
        text=f"opened {result['reference']} {result['id']}: {impact['subjects']} subjects of "
        f"{len(impact['controllers'])} controllers affected",
    )


@breaches.command("impact")
@click.argument("breach_id")
@click.option("--controller", help="Only this controller's part.")
@click.pass_context
def impact(ctx: click.Context, breach_id: str, controller: str | None) -> None:
    """Recompute the impact from the event history and record it (BR-2)."""
    st = state(ctx)
    result = _service(st).impact(breach_id, controller)
    lines = [f"window {result['window']['from'] or 'unknown'} .. {result['window']['to']}"]
    if result.get("note"):
        lines.append(result["note"])
    lines += [
        f"{c['controller']} ({c['edition']}): {c['subjects']} subjects, ~{c['records']} records; "
        f"{', '.join(c['categories'])}"
        for c in result["controllers"]
    ]
    emit(result, as_json=st.as_json, text="\n".join(lines))


@breaches.command("notify")
@click.argument("breach_id")
@click.option("--controller", "controllers", multiple=True, help="Controller id (repeatable).")
@click.option("--all-affected", is_flag=True, help="Every controller the impact names.")
@click.option("--consequences", default="", help="The likely consequences (Art. 33(3)(c)).")
@click.option("--measures", default="", help="Measures taken or proposed (Art. 33(3)(d)).")
@click.pass_context
def notify(
    ctx: click.Context,
    breach_id: str,
    controllers: tuple[str, ...],
    all_affected: bool,
    consequences: str,
    measures: str,
) -> None:
    """Give each controller the Art. 33(3) notice, in Markdown and JSON (BR-1)."""
    st = state(ctx)
    result = _service(st).notify(
        breach_id,
        controllers=list(controllers),
        all_affected=all_affected,
        consequences=consequences,
        measures=measures,
    )
    text = "\n".join(
        f"notified {n['controller']} ({n['phase']}) at {n['given_at']}, due {n['due']}"
        f"{'' if n['on_time'] else ' (LATE)'}: notice {n['notice_id']}"
        for n in result["notices"]
    )
    emit(result, as_json=st.as_json, text=text)


@breaches.command("update")
@click.argument("breach_id")
@click.option("--phase", type=click.Choice(PHASES))
@click.option("--status", type=click.Choice([s for s in STATUSES if s != "closed"]))
@click.option("--reason", default="", help="Why the status changed (sealed).")
@click.option("--measure", "measures", multiple=True, help="A measure taken (repeatable).")
@click.option("--measure-kind", type=click.Choice(MEASURE_KINDS), default="contain")
@click.option("--measure-at", help="When the measures were taken (default now).")
@click.option("--occurred", help="A corrected window FROM..TO.")
@click.option("--system", "systems", multiple=True, help="Replace the affected systems.")
@click.option("--cause", default="", help="The cause as now known (sealed).")
@click.pass_context
def update(
    ctx: click.Context,
    breach_id: str,
    phase: str | None,
    status: str | None,
    reason: str,
    measures: tuple[str, ...],
    measure_kind: str,
    measure_at: str | None,
    occurred: str | None,
    systems: tuple[str, ...],
    cause: str,
) -> None:
    """Record what became known, and measures with their times (Art. 33(4), BR-5)."""
    st = state(ctx)
    start, end = parse_window(occurred)
    result = _service(st).update(
        breach_id,
        phase=phase,
        status=status,
        reason=reason,
        measures=list(measures),
        measure_kind=measure_kind,
        measure_at=_when(measure_at, "--measure-at"),
        occurred_from=start,
        occurred_to=end,
        systems=list(systems),
        cause=cause,
    )
    emit(
        result,
        as_json=st.as_json,
        text=f"{result['reference']}: {result['status']}, {result['phase']}; "
        f"{len(result['measures'])} measures recorded",
    )


@breaches.command("authority-notice")
@click.argument("breach_id")
@click.option("--controller", required=True)
@click.option("--at", "at", required=True, help="When the authority was notified (ISO-8601).")
@click.option("--authority", default="", help="The supervisory authority.")
@click.option("--reference", default="", help="The authority's case reference.")
@click.option("--delay-reason", default="", help="Why after 72 hours (sealed).")
@click.option(
    "--not-required",
    is_flag=True,
    help="The controller judged the breach unlikely to result in a risk: no notice is due.",
)
@click.option("--justification", default="", help="Why no notice is due (sealed).")
@click.pass_context
def authority_notice(
    ctx: click.Context,
    breach_id: str,
    controller: str,
    at: str,
    authority: str,
    reference: str,
    delay_reason: str,
    not_required: bool,
    justification: str,
) -> None:
    """Record the controller's notice to its authority, or why none is due (BR-3)."""
    if not_required and delay_reason:
        raise click.UsageError("--not-required takes --justification, not --delay-reason")
    st = state(ctx)
    result = _responses(st).authority_notice(
        breach_id,
        controller=controller,
        at=iso_datetime(at, "--at"),
        authority=authority,
        reference=reference,
        delay_reason=justification if not_required else delay_reason,
        not_required=not_required,
    )
    what = "that no notice is due" if not_required else f"the notice to {authority}"
    emit(result, as_json=st.as_json, text=f"recorded {controller}'s decision: {what}")


@breaches.command("subjects-notice")
@click.argument("breach_id")
@click.option("--controller", required=True)
@click.option("--notified", is_flag=True, help="The data subjects were told.")
@click.option("--channel", default="", help="How they were told (e-mail, letter, ...).")
@click.option("--at", "at", help="When they were told (ISO-8601).")
@click.option("--exception", type=click.Choice(["a", "b", "c"]), help="Art. 34(3) exception.")
@click.option("--justification", default="", help="Why the exception applies (sealed).")
@click.pass_context
def subjects_notice(
    ctx: click.Context,
    breach_id: str,
    controller: str,
    notified: bool,
    channel: str,
    at: str | None,
    exception: str | None,
    justification: str,
) -> None:
    """Record the controller's decision on telling the data subjects (Art. 34, BR-3)."""
    st = state(ctx)
    _responses(st).subjects_notice(
        breach_id,
        controller=controller,
        notified=notified,
        channel=channel,
        at=_when(at, "--at"),
        exception=exception or "",
        justification=justification,
    )
    what = "subjects notified" if notified else f"exception Art. 34(3)({exception})"
    emit({"breach": breach_id, "controller": controller, "decision": what}, as_json=st.as_json)


@breaches.command("export-subjects")
@click.argument("breach_id")
@click.option("--controller", required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@FORCE
@click.pass_context
def export_subjects(
    ctx: click.Context, breach_id: str, controller: str, out: Path, force: bool
) -> None:
    """Write the affected subjects' contact data to a CSV file, for the Art. 34 notice (logged)."""
    st = state(ctx)
    target = outfile.plan(out, force=force, what="export")
    result = _responses(st).export_subjects(breach_id, controller)
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=["contact_id", "email", "phone", "first_name", "last_name"]
    )
    writer.writeheader()
    writer.writerows(result["rows"])
    with outfile.writing(target, what="export", private=True) as handle:
        handle.write(buffer.getvalue())
    shown = {"breach": breach_id, "controller": controller, "subjects": len(result["rows"])}
    emit(
        {**shown, "out": str(out)},
        as_json=st.as_json,
        text=f"exported {shown['subjects']} subjects' contact data to {out} (logged)",
    )


@breaches.command("timeline")
@click.argument("breach_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "svg"]), default="text")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@FORCE
@click.pass_context
def timeline(ctx: click.Context, breach_id: str, fmt: str, out: Path | None, force: bool) -> None:
    """Every step against its deadline: text, JSON or a self-contained SVG."""
    st = state(ctx)
    target = outfile.plan(out, force=force, what="timeline") if out else None
    service = _service(st)
    user = service.s.authorize("breaches.read", command="breaches timeline")
    breach = service.get(breach_id, user)
    clocks = [
        c for c in breach_clocks(service.proc, breach) if user.controller in (None, c.controller)
    ]
    now = service.proc.now()
    if fmt == "svg":
        text = timelines.as_svg(breach, clocks, now, user.controller)
    elif fmt == "json" or st.as_json:
        from .output import to_json

        text = to_json(timelines.as_json(breach, clocks, now, user.controller))
    else:
        text = timelines.as_text(breach, clocks, now, user.controller)
    if target is None:
        click.echo(text)
        return
    with outfile.writing(target, what="timeline") as handle:
        handle.write(text + "\n")
    click.echo(f"wrote the {fmt} timeline to {out}")


@breaches.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only breaches not closed.")
@click.option(
    "--overdue", "overdue_only", is_flag=True, help="Only breaches with an overdue clock."
)
@click.option("--controller", help="Only this controller's breaches.")
@click.pass_context
def list_breaches(
    ctx: click.Context, open_only: bool, overdue_only: bool, controller: str | None
) -> None:
    """The register with its clocks; exits 1 when any clock is overdue (for cron)."""
    st = state(ctx)
    result = _service(st).list(
        open_only=open_only, overdue_only=overdue_only, controller=controller
    )
    lines = []
    for b in result["breaches"]:
        late = [c for c in b["clocks"] if c["state"] == "overdue"]
        lines.append(
            f"{b['reference']} {b['id']}  {b['status']}/{b['phase']}  aware {b['aware_at']}"
            f"  {', '.join(b['kinds'])}" + (f"  OVERDUE {len(late)}" if late else "")
        )
    emit(result, as_json=st.as_json, text="\n".join(lines) or "no breaches")
    if result["overdue"]:
        raise FindingsError(
            f"BreachClockOverdue: {result['overdue']} notification clocks overdue",
            rule="BreachClockOverdue",
        )


@breaches.command("show")
@click.argument("breach_id")
@click.pass_context
def show(ctx: click.Context, breach_id: str) -> None:
    """One breach: facts, impact, notices, measures, clocks."""
    st = state(ctx)
    emit(_service(st).show(breach_id), as_json=st.as_json)


@breaches.command("rotate-keys")
@click.argument("breach_id")
@NEW_MASTER_KEY_FILE
@click.pass_context
def rotate_keys(ctx: click.Context, breach_id: str, new_master_key_file: Path) -> None:
    """Re-wrap every subject key under a new KEK and a new master key; record it (BR-5)."""
    from processor.services import keys as keyservice

    from .cmd_backup import rotate_master_command

    st = state(ctx)
    service = _service(st)
    service.check_rotation(breach_id)
    with service.proc.using_clock():
        kek = keyservice.rotate_kek(service.s)
    service.record_rotation(
        breach_id,
        "key-encryption key",
        {"generation": kek["generation"], "rewrapped": kek["rewrapped"]},
    )
    master = rotate_master_command(st, new_master_key_file)
    st.close()
    detail = {k: master[k] for k in ("state", "keks_rewrapped", "system_keys_rewrapped")}
    if master["installed_at"] is None:
        emit(
            {"kek": kek, "master": master},
            as_json=st.as_json,
            text=master["message"] + " Record it on the breach once the new key is in place.",
        )
        return
    result = _service(st).record_rotation(breach_id, "master key", detail)
    emit(
        {"kek": kek, "master": master, "breach": result["id"]},
        as_json=st.as_json,
        text=f"{kek['rewrapped']} subject keys re-wrapped under KEK generation "
        f"{kek['generation']}; {master['message']} Recorded on {result['reference']}.",
    )


@breaches.command("close")
@click.argument("breach_id")
@click.option("--review", required=True, help="Causes, measures and lessons (sealed).")
@click.pass_context
def close(ctx: click.Context, breach_id: str, review: str) -> None:
    """Close the breach with its review (BR-4)."""
    st = state(ctx)
    result = _service(st).close(breach_id, review)
    emit(result, as_json=st.as_json, text=f"closed {result['reference']} with its review")


def register(cli: click.Group) -> None:
    """Attach the `breaches` group."""
    cli.add_command(breaches)
