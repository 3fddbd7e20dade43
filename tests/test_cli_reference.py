"""The committed command reference (docs/cli.md) is what the commands say (issue 18)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location(
        "cli_reference", ROOT / "tools" / "cli_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_cli_reference_matches_the_commands():
    """docs/cli.md equals the reference generated from the click commands; if a command or option
    changed, run `python tools/cli_reference.py` and commit the result.
    """
    generator = _generator()
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == generator.render(), (
        "docs/cli.md is stale: run python tools/cli_reference.py"
    )


def test_cli_reference_covers_every_command():
    """Every command and subcommand has its own section, with its usage line."""
    import click
    from processor_cli.main import cli

    text = _generator().render()

    def walk(command, path):
        assert f"`{path}`" in text, path
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                if not sub.hidden:
                    walk(sub, f"{path} {name}")

    walk(cli, "processor")
    assert "processor status [OPTIONS]" in text
