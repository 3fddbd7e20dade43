"""Generate `docs/cli.md`, the command reference, from the click commands themselves.

A hand-written reference drifts from the code (issue 18: `demo --data-dir` was documented and
refused). This one is written by walking the command tree, and tests/test_cli_reference.py
fails when the committed file differs from what the commands say.

    python tools/cli_reference.py            # rewrite docs/cli.md and cli/command_index.py
    python tools/cli_reference.py --check    # exit 1 if either is out of date
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "cli.md"
INDEX = ROOT / "cli" / "command_index.py"
PROG = "processor"

HEADER = """# Command reference

Generated from the commands by `tools/cli_reference.py`; do not edit by hand (a test compares).
Global options may be given before or after the subcommand: `processor lists show acme news
--json` is `processor --json lists show acme news`. Every command takes `-h`/`--help`.
"""


def _help_text(command: click.Command) -> str:
    """The command's help, without click's paragraph markers (a line of backspace)."""
    text = inspect.cleandoc(command.help or command.short_help or "")
    return "\n".join(line for line in text.splitlines() if line.strip() != "\b").strip()


def _option_row(param: click.Option) -> str:
    names = ", ".join(f"`{n}`" for n in (*param.opts, *param.secondary_opts))
    if not param.is_flag and param.metavar:
        names += f" `{param.metavar}`"
    elif not param.is_flag:
        names += f" `{param.type.name.upper()}`"
    extras: list[str] = []
    if param.envvar:
        extras.append(f"env `{param.envvar}`")
    if param.required:
        extras.append("required")
    if param.multiple:
        extras.append("repeatable")
    if param.show_default and param.default is not None and not param.is_flag:
        extras.append(f"default `{param.default}`")
    text = " ".join((param.help or "").split()).replace("|", "\\|")
    if extras:
        text = f"{text} ({'; '.join(extras)})" if text else "; ".join(extras)
    return f"| {names} | {text} |"


def _section(command: click.Command, ctx: click.Context, depth: int) -> list[str]:
    """The Markdown of one command, then of its subcommands (sorted)."""
    path = ctx.command_path
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"{'#' * min(depth, 6)} `{path}`", "", "```text", f"{path} {usage}".rstrip(), "```"]
    help_text = _help_text(command)
    if help_text:
        lines += ["", help_text]
    options = [
        p
        for p in command.get_params(ctx)
        if isinstance(p, click.Option)
        and not p.hidden
        and not set(p.opts) & set(ctx.help_option_names)
    ]
    if options:
        lines += ["", "| Option | Meaning |", "| --- | --- |", *map(_option_row, options)]
    lines.append("")
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            sub_ctx = click.Context(sub, info_name=name, parent=ctx)
            lines += _section(sub, sub_ctx, depth + 1)
    return lines


def render() -> str:
    """The whole reference, as committed in docs/cli.md."""
    from processor_cli.main import cli

    ctx = click.Context(cli, info_name=PROG, **cli.context_settings)
    return "\n".join([HEADER, *_section(cli, ctx, 2)]).rstrip("\n") + "\n"


def render_index() -> str:
    """`cli/command_index.py`: the lazy root's list of commands and the modules defining them."""
    from processor_cli.lazygroup import render_index as index_source
    from processor_cli.main import COMMAND_MODULES

    return index_source("processor_cli", COMMAND_MODULES)


def main(argv: list[str]) -> int:
    """Write docs/cli.md and cli/command_index.py, or with `--check` say if both are current."""
    outputs = {OUTPUT: render(), INDEX: render_index()}
    if "--check" in argv:
        stale = False
        for path, text in outputs.items():
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                sys.stderr.write(f"{path} is out of date: run python tools/cli_reference.py\n")
                stale = True
        return 1 if stale else 0
    OUTPUT.parent.mkdir(exist_ok=True)
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
