"""Start-up stays cheap: `processor --help` never imports the heavy libraries (issue 17).

The root group lists its commands from `cli/command_index.py` and imports a command module
only when one of its commands runs (`processor_cli.lazygroup`). These tests pin that down: the
modules loaded by `--help` (in a fresh interpreter, as a user runs it), the help text (the same
as with every module loaded), the index (the same as what the modules register), and that a
command still runs when the index does not know it. A `contacts find` (a one-shot read) loads
neither structlog nor the services it does not use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import click
import pytest
from cli_helpers import cli_env
from support import login

if TYPE_CHECKING:
    from processor.app import Processor

HEAVY = ("sqlalchemy", "eventsourcing", "cryptography", "structlog", "pydantic", "psycopg")

_PROBE = """
import json, sys
from processor_cli.main import main
sys.argv = ["processor", *json.loads(sys.argv[1])]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nEXIT " + json.dumps(code))
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)))
"""


def _run(args: list[str], env: dict[str, str | None] | None = None) -> tuple[set[str], str, str]:
    """Run `processor ARGS` in a fresh interpreter: its modules (full names), stdout, exit code."""
    merged = {**os.environ, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={k: v for k, v in merged.items() if v is not None},
    )
    rest, modules = done.stderr.rsplit("\nMODULES ", 1)
    code = rest.rsplit("\nEXIT ", 1)[1]
    return set(json.loads(modules)), done.stdout, code


def _loaded_by(args: list[str]) -> set[str]:
    return _run(args)[0]


def _top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_help_imports_no_heavy_library(args):
    """`processor --help` loads click and the CLI only."""
    heavy = _top_level(_loaded_by(args)) & set(HEAVY)
    assert not heavy, f"processor {' '.join(args)} imported {sorted(heavy)}"


def test_lazy_help_lists_what_the_modules_register():
    """The root's `--help` from the index equals its `--help` with every module imported."""
    from processor_cli.lazygroup import LazyGroup
    from processor_cli.main import COMMAND_MODULES, cli

    assert isinstance(cli, LazyGroup)
    fresh = LazyGroup(
        name="processor",
        params=cli.params,
        help=cli.help,
        context_settings=cli.context_settings,
        package=cli.lazy_package,
        modules=COMMAND_MODULES,
        index=cli.lazy_index,
        indexed_modules=COMMAND_MODULES,
    )
    lazy = fresh.get_help(click.Context(fresh, info_name="processor"))
    assert not fresh.commands, "formatting --help imported a command module"
    fresh.load_all()
    loaded = fresh.get_help(click.Context(fresh, info_name="processor"))
    assert lazy == loaded


def test_command_index_is_current():
    """cli/command_index.py is what the modules register today (else: python tools/cli_reference.py)."""
    from processor_cli import command_index
    from processor_cli.lazygroup import build_index
    from processor_cli.main import COMMAND_MODULES

    assert command_index.INDEXED_MODULES == COMMAND_MODULES, "run python tools/cli_reference.py"
    assert build_index("processor_cli", COMMAND_MODULES) == command_index.INDEX, (
        "cli/command_index.py is stale: run python tools/cli_reference.py"
    )


def test_unindexed_command_still_runs():
    """A command the index does not know (added since it was generated) is still found."""
    from processor_cli.lazygroup import LazyGroup
    from processor_cli.main import COMMAND_MODULES, cli

    index = {k: v for k, v in cli.lazy_index.items() if k != "status"}
    group = LazyGroup(
        name="processor",
        package=cli.lazy_package,
        modules=COMMAND_MODULES,
        index=index,
        indexed_modules=COMMAND_MODULES,
    )
    ctx = click.Context(group, info_name="processor")
    assert group.get_command(ctx, "status") is not None
    assert group.get_command(ctx, "no-such-command") is None


def test_a_command_loads_only_the_modules_it_needs():
    """Running `users` loads the modules that extend it (login, access), in order, and no more."""
    from processor_cli.lazygroup import LazyGroup
    from processor_cli.main import COMMAND_MODULES, cli

    group = LazyGroup(
        name="processor",
        package=cli.lazy_package,
        modules=COMMAND_MODULES,
        index=cli.lazy_index,
        indexed_modules=COMMAND_MODULES,
    )
    ctx = click.Context(group, info_name="processor")
    users = group.get_command(ctx, "users")
    assert isinstance(users, click.Group)
    assert {"add", "review", "revoke"} <= set(users.commands)
    assert "contacts" not in group.commands


# What a `contacts find` has no use for: logging at the default level, the services of other
# commands (each with its domain modules), and (issue 28) the sub-processor rules the event store
# does not need, what a refusal records, the agreements and the retention rules. The desk makes a
# service on first use.
NOT_FOR_FIND = (
    "structlog",
    "rich",
    "processor.services.imports",
    "processor.services.exports",
    "processor.services.erasure",
    "processor.services.messages",
    "processor.services.retention",
    "processor.services.returns",
    "subprocessors.decisions",
    "subprocessors.loader",
    "processor.domain.denials",
    "processor.notices.domain",
    "processor.services.agreements",
    "processor.services.columnmap",
    "processor.services.lifecycle",
    "processor.domain.retention",
)


def test_contacts_find_loads_neither_structlog_nor_unused_services(acme: Processor):
    """A `contacts find` in a fresh interpreter finds the contact without loading NOT_FOR_FIND."""
    alice = login(acme, "alice")
    alice.contacts.add("acme", "news", "found@example.dk", "email:form")
    env = {**cli_env(acme.settings), "PROCESSOR_CREDENTIAL": acme.issued["alice"]}
    args = ["--as", "alice", "--json", "contacts", "find", "acme", "--email", "found@example.dk"]
    loaded, out, code = _run(args, env)
    assert code == "0", out
    assert json.loads(out)["fields"]["email"] == "found@example.dk"
    unused = sorted(m for m in NOT_FOR_FIND if m in loaded)
    assert not unused, f"contacts find imported {unused}"
