"""`audit` commands of the checks: samples, the change log, the record, packs and reviews.

ACC-7/SUB-8 (`sample`, `review`, `samples`), ACC-10 (`changes`), AUD-3 (`record`), AUD-2/SUB-7
(`controller-pack`), SUBJ-9 (`dpia-pack`) and AUD-6 (`risk-review`, `policy-review`). Every
output holds ids, kinds, names of fields and counts: never a value of a data subject's data.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from processor.audit import record, reviews
from processor.audit.changes import change_log
from processor.audit.packs import controller_pack as build_controller_pack
from processor.audit.packs import dpia_pack as build_dpia_pack
from processor.audit.samples import SamplesService
from processor.services.validation import iso_date, iso_datetime

from . import outfile
from .cmd_audit_sample import sample, sample_text
from .outfile import FORCE
from .output import emit, printable, to_json
from .state import state


def _when(value: str | None, what: str) -> datetime | None:
    return iso_datetime(value, what) if value is not None else None


def _period(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    return _when(start, "--from"), _when(end, "--to")


@click.command("review")
@click.argument("sample_id", metavar="SAMPLE")
@click.option("--entry", required=True, help="The entry id (e.g. e42).")
@click.option("--finding", required=True, type=click.Choice(("ok", "deviation")))
@click.option("--note", required=True, help="What the GDPA found (sealed).")
@click.pass_context
def review(ctx: click.Context, sample_id: str, entry: str, finding: str, note: str) -> None:
    """Record the GDPA's finding on one entry of a sample (ACC-7)."""
    st = state(ctx)
    data = SamplesService(st.session()).review(sample_id, entry, finding, note)
    emit(data, as_json=st.as_json, text=sample_text(data))


@click.command("samples")
@click.pass_context
def samples(ctx: click.Context) -> None:
    """Recorded samples, what is unreviewed, and when the next sample is due."""
    st = state(ctx)
    data = SamplesService(st.session()).list()
    lines = [
        f"{s['drawn_at'][:19]}  {s['sample']}  {s['of']:<13} {s['size']:>3} entries  "
        f"{s['deviations']} deviations  {s['unreviewed']} unreviewed"
        for s in data["samples"]
    ]
    lines.append(
        f"{data['unreviewed']} entries unreviewed; next sample due {data['next_due'][:10]}"
        + (" OVERDUE" if data["overdue"] else "")
    )
    emit(data, as_json=st.as_json, text="\n".join(lines))


@click.command("changes")
@click.option("--controller", help="Only changes concerning this controller.")
@click.option("--from", "start", metavar="DATE")
@click.option("--to", "end", metavar="DATE")
@click.option("--actor", metavar="NAME", help="Only changes by this user.")
@click.pass_context
def changes_(
    ctx: click.Context,
    controller: str | None,
    start: str | None,
    end: str | None,
    actor: str | None,
) -> None:
    """Every creation, change and deletion with actor, time and fields changed (ACC-10)."""
    st = state(ctx)
    session = st.desk()
    user = session.authorize("audit.read", command="audit changes", controller=controller)
    # A controller's administrator reads its own controller's changes only.
    controller = user.controller or controller
    if controller is not None:
        session.controllers.get(controller)
    first, last = _period(start, end)
    rows = change_log(session.proc, controller=controller, start=first, end=last, actor=actor)
    lines = [
        printable(
            f"{r['at'][:19]}  {r['action']:<7} {r['aggregate']}.{r['event']}  by {r['actor']}"
            f"  {r['controller'] or '-'}  fields: {', '.join(r['fields']) or '-'}"
        )
        for r in rows
    ]
    emit({"changes": rows}, as_json=st.as_json, text="\n".join(lines) or "no changes")


RECORD_MARK = b"Art. 30(2) GDPR record of processing activities"
"""What every format of the record carries near its start (see `outfile.plan`)."""


@click.command("record")
@click.option(
    "--format", "fmt", type=click.Choice(record.FORMATS), default="markdown", show_default=True
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the record here; `{date}` becomes the day. An earlier record at the path is "
    "replaced; any other file needs --force.",
)
@FORCE
@click.pass_context
def record_(ctx: click.Context, fmt: str, out: Path | None, force: bool) -> None:
    """The Art. 30(2) record of processing for every controller (AUD-3); dpv: W3C DPV JSON-LD."""
    st = state(ctx)
    session = st.session()
    target = None
    if out is not None:
        out = outfile.dated(out, session.proc.now().date())
        target = outfile.plan(out, force=force, what="record", ours=RECORD_MARK)
    data = record.build(session)
    if target is None:
        if fmt == "dpv":
            doc = record.as_dpv(data)
            if st.as_json:
                emit(doc, as_json=True)
            else:
                click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
            return
        emit(data, as_json=st.as_json or fmt == "json", text=record.as_markdown(data))
        return
    if fmt == "dpv":
        text = json.dumps(record.as_dpv(data), indent=2, ensure_ascii=False) + "\n"
    elif fmt == "json":
        text = to_json(data) + "\n"
    else:
        text = record.as_markdown(data)
    with outfile.writing(target, what="record") as handle:
        handle.write(text)
    emit(
        {"record": str(out), "format": fmt},
        as_json=st.as_json,
        text=f"wrote the {fmt} record to {out}",
    )


@click.command("controller-pack")
@click.argument("controller")
@click.pass_context
def controller_pack(ctx: click.Context, controller: str) -> None:
    """The controller's information pack, free of charge (AUD-2, SUB-7)."""
    st = state(ctx)
    emit(build_controller_pack(st.session(), controller), as_json=st.as_json)


@click.command("dpia-pack")
@click.argument("controller")
@click.pass_context
def dpia_pack(ctx: click.Context, controller: str) -> None:
    """What the controller needs for its impact assessment and prior consultation (SUBJ-9)."""
    st = state(ctx)
    emit(build_dpia_pack(st.session(), controller), as_json=st.as_json)


def _next(value: str | None) -> date | None:
    return date.fromisoformat(iso_date(value, "--next")) if value is not None else None


def _review_text(data: dict[str, Any]) -> str:
    return f"{data['kind']} review recorded; next due {data['next_due'][:10]}"


@click.command("risk-review")
@click.option("--text", required=True, help="What the review of the risk assessment found.")
@click.option("--next", "next_", required=True, metavar="DATE", help="When the next is due.")
@click.pass_context
def risk_review(ctx: click.Context, text: str, next_: str) -> None:
    """Record a review of the processor's own risk assessment (AUD-6)."""
    st = state(ctx)
    data = reviews.ReviewsService(st.session()).record(reviews.RISK, text, _next(next_))
    emit(data, as_json=st.as_json, text=_review_text(data))


@click.command("policy-review")
@click.option("--text", required=True, help="What the review of the IT-security policy found.")
@click.option("--next", "next_", metavar="DATE", help="When the next is due (at most a year).")
@click.pass_context
def policy_review(ctx: click.Context, text: str, next_: str | None) -> None:
    """Record a review of the IT-security policy, at least yearly (AUD-6)."""
    st = state(ctx)
    data = reviews.ReviewsService(st.session()).record(reviews.POLICY, text, _next(next_))
    emit(data, as_json=st.as_json, text=_review_text(data))


def attach(group: click.Group) -> None:
    """Attach the checks' commands to the `audit` group."""
    for command in (
        sample,
        review,
        samples,
        changes_,
        record_,
        controller_pack,
        dpia_pack,
        risk_review,
        policy_review,
    ):
        group.add_command(command)
