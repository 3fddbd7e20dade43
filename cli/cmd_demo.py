"""`processor demo`: the main job."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from processor.demo.scenario import default_demo_dir, run_demo
from processor.kernel.errors import RefusedError

from .output import emit
from .state import state


@click.command("demo")
@click.option(
    "--contacts",
    type=click.IntRange(10, 1_000_000),
    default=3000,
    show_default=True,
    help="How many contacts the first controller imports.",
)
@click.pass_context
def demo(ctx: click.Context, contacts: int) -> None:
    """Build a fresh, realistic scenario in a simulation store and summarise it."""
    st = state(ctx)
    given = ctx.find_root().params.get("data_dir")
    data_dir = Path(given) if given else default_demo_dir()
    if st.settings.backend == "sqlite" and data_dir.exists() and any(data_dir.iterdir()):
        raise RefusedError(_not_empty_hint(ctx, data_dir))
    settings = st.settings.with_data_dir(data_dir)
    result = run_demo(settings, contacts=contacts)
    lines = [f"SIMULATION store in {result['data_dir']}", ""]
    lines += [f"{i}. {line}" for i, line in enumerate(result["story"], start=1)]
    lines += ["", "Verify the erasure receipt offline:", f"  {result['verify_receipt']}"]
    lines += ["", "The audit report (HTML):", f"  {result['report']}"]
    emit(result, as_json=st.as_json, text=_as_invoked("\n".join(lines)))


def _not_empty_hint(ctx: click.Context, data_dir: Path) -> str:
    """One line that says why, and names a free directory the way the store was chosen.

    The demo uses `--data-dir` or `PROCESSOR_DATA_DIR` when given (so `export
    PROCESSOR_DATA_DIR=./store; make demo` builds ./store), but only if it is empty or absent: it
    never adds a simulation to a real store.
    """
    free = default_demo_dir()
    source = ctx.find_root().get_parameter_source("data_dir")
    how = (
        f"PROCESSOR_DATA_DIR={free}"
        if source is click.core.ParameterSource.ENVIRONMENT
        else f"--data-dir {free}"
    )
    return (
        f"{data_dir} is not empty: the demo builds a fresh store; "
        f"run it with {how}, a free directory"
    )


def _as_invoked(text: str) -> str:
    """Print commands the way this program was run when `processor` is not on PATH.

    After `make demo` the command lives in `.venv/bin/`; a hint that cannot be pasted is no hint.
    """
    program = sys.argv[0]
    if Path(program).name != "processor" or shutil.which("processor"):
        return text
    return text.replace("processor receipts verify", f"{program} receipts verify")


def register(cli: click.Group) -> None:
    """Attach this command."""
    cli.add_command(demo)
