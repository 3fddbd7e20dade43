"""`audit sample`, and its alias `access sample`: draw, check and record a sample (ACC-7, SUB-8).

A module of its own so that `access`, which attaches the alias, does not import the audit
package's other commands (records, packs, reviews) to run a grant or read the log: the service
is imported when a sample is drawn.
"""

from __future__ import annotations

from typing import Any

import click

from processor.audit.populations import POPULATIONS, STAFF
from processor.services.validation import iso_datetime

from .output import emit, printable
from .state import state


def sample_text(data: dict[str, Any]) -> str:
    """A sample as text: the head line, then one line per entry with its findings and review."""
    head = (
        f"sample {data['sample']} of {data['of']}: {data['size']} of {data['population']} "
        f"entries (seed {data['seed']}), {data['deviations']} deviations, "
        f"{data['unreviewed']} unreviewed"
    )
    lines = [head]
    for e in data.get("entries", []):
        review = e["review"]
        lines.append(
            f"  {e['entry']:<10} {e['at'][:19]}  {e['kind']:<10} {e['actor']:<14} "
            f"{e['controller'] or '-':<12} {','.join(e['findings']) or 'ok'}"
            + (f"  reviewed: {review['finding']}" if review else "")
        )
    return "\n".join(printable(line) for line in lines)


@click.command("sample")
@click.option("--size", type=int, help="How many entries (default: the audit policy's).")
@click.option("--seed", type=int, help="Repeat an earlier draw.")
@click.option("--from", "start", metavar="DATE", help="Entries at or after this time.")
@click.option("--to", "end", metavar="DATE", help="Entries before this time.")
@click.option("--of", "of", type=click.Choice(POPULATIONS), default=STAFF, show_default=True)
@click.pass_context
def sample(
    ctx: click.Context,
    size: int | None,
    seed: int | None,
    start: str | None,
    end: str | None,
    of: str,
) -> None:
    """Draw a random sample of access events, check each entry, record it (ACC-7, SUB-8)."""
    from processor.audit.samples import SamplesService

    st = state(ctx)
    service = SamplesService(st.session())  # who asks comes first, then what they ask
    first = iso_datetime(start, "--from") if start is not None else None
    last = iso_datetime(end, "--to") if end is not None else None
    data = service.draw(size, seed, first, last, of=of)
    emit(data, as_json=st.as_json, text=sample_text(data))


# `access sample` was once a sampler of its own (`AccessLogSampleChecked`); `audit sample` checks
# each entry against its grant and instruction as they stood, so the old name now runs it.
access_sample = click.Command(
    "sample",
    params=sample.params,
    callback=sample.callback,
    help=f"Alias of `audit sample`. {sample.help}",
    short_help="Alias of `audit sample` (ACC-7, SUB-8).",
)
