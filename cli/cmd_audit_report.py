"""`processor audit report`: the GDPA's report as Markdown, JSON or self-contained HTML (AUD-1).

With `--fail-on-deviations` it exits 1 when the report shows any deviation (after writing it in
full), so a cron job can mail the file only when something needs attention. Needs `audit.read`; a
controller's administrator runs it with `--controller` for its own controller only.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from processor.audit import render_html, render_json, render_markdown
from processor.audit.report import build_report
from processor.kernel.errors import FindingsError, InvalidInputError
from processor.services.validation import iso_date

from . import outfile
from .outfile import FORCE
from .output import emit
from .state import state

REPORT_MARK = b"GDPR data-processor audit report"
"""The title every format of the report carries near its start (see `outfile.plan`)."""

RENDERERS = {
    "markdown": render_markdown.render,
    "json": render_json.render,
    "html": render_html.render,
}


def _day(value: str | None, what: str) -> date | None:
    return date.fromisoformat(iso_date(value, what)) if value is not None else None


@click.command("report")
@click.option(
    "--controller", metavar="ID", help="Only this controller (its administrator: its own)."
)
@click.option(
    "--from", "start", metavar="DATE", help="First day of the period (default: the store's start)."
)
@click.option(
    "--to", "end", metavar="DATE", help="Last day of the period, included (default: now)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(RENDERERS)),
    help="markdown, json, or html (one self-contained file with charts). Required.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of standard output; `{date}` in it becomes the day "
    "(a daily file). An earlier report at the path is replaced; any other file needs --force.",
)
@click.option(
    "--fail-on-deviations",
    is_flag=True,
    help="Exit 1 when the report shows any deviation (for cron).",
)
@FORCE
@click.pass_context
def report(
    ctx: click.Context,
    controller: str | None,
    start: str | None,
    end: str | None,
    fmt: str | None,
    out: Path | None,
    fail_on_deviations: bool,
    force: bool,
) -> None:
    """The audit report: objectives A-I, evidence, deviations, ledger and coverage."""
    st = state(ctx)
    if fmt is None:
        raise InvalidInputError("give --format markdown, json or html")
    first, last = _day(start, "--from"), _day(end, "--to")
    session = st.session()
    if out is not None:
        out = outfile.dated(out, session.proc.now().date())
    target = outfile.plan(out, force=force, what="report", ours=REPORT_MARK) if out else None
    model = build_report(session, controller=controller, start=first, end=last)
    text = RENDERERS[fmt](model)
    if target is None:
        click.echo(text, nl=False)
    else:
        with outfile.writing(target, what="report") as handle:
            handle.write(text)
        summary = {"report": str(out), "format": fmt, "deviations": len(model["deviations"])}
        emit(
            summary,
            as_json=st.as_json,
            text=f"wrote the {fmt} report to {out} ({summary['deviations']} deviations)",
        )
    found = model["deviations"]
    if found and fail_on_deviations:
        raise FindingsError(
            f"the report shows {len(found)} deviations "
            f"({', '.join(sorted({d['kind'] for d in found}))})",
            rule="ReportShowsDeviations",
        )


def attach(group: click.Group) -> None:
    """Attach `audit report` to the `audit` group."""
    group.add_command(report)
