"""Global options work anywhere on the command line, as they do before the subcommand (issue 18)."""

from __future__ import annotations

import json

import click
import pytest
from cli_helpers import check_contract, describe, new_tenant
from click.testing import CliRunner
from processor_cli.globalopts import hoist_global_options
from processor_cli.main import cli

from processor.config import Settings

COMMAND = ["lists", "show", "acme", "news"]


def _global_options() -> list[click.Option]:
    """Every root option a user may give (help and version are not moved)."""
    return [p for p in cli.params if isinstance(p, click.Option) and not p.is_eager]


def run(runner, argv, user=None, env=None):
    """Run `argv` exactly as given (no options added in front), with `user`'s credential."""
    result = CliRunner(env={**runner.env_for(user), **(env or {})}).invoke(cli, argv)
    check_contract(result, argv)
    return result


@pytest.mark.parametrize("option", _global_options(), ids=lambda o: o.opts[0])
def test_every_global_option_after_the_subcommand_moves_before_it(option):
    """Each root option, in both spellings (`--opt V`, `--opt=V`), at the end or in between,
    is read as if it came first; so a new global option is covered without a new test.
    """
    name = option.opts[0]
    given = [name] if option.is_flag else [name, "VALUE"]
    assert hoist_global_options(cli, [*COMMAND, *given]) == [*given, *COMMAND]
    assert hoist_global_options(cli, ["lists", *given, *COMMAND[1:]]) == [*given, *COMMAND]
    if not option.is_flag:
        joined = [f"{name}=VALUE"]
        assert hoist_global_options(cli, [*COMMAND, *joined]) == [*joined, *COMMAND]


def test_values_own_options_and_double_dash_stay_where_they_are():
    """A subcommand option's value is never taken for a global option, a subcommand's own option
    of the same name stays with it (`login --credential-file`), and nothing after `--` moves.
    """
    erase = ["erase", "acme", "--contact", "c1", "--reason", "--json"]
    assert hoist_global_options(cli, erase) == erase
    login = ["login", "alice", "--credential-file", "f", "--json"]
    assert hoist_global_options(cli, login) == ["--json", *login[:-1]]
    dashes = [*COMMAND, "--", "--json"]
    assert hoist_global_options(cli, dashes) == dashes
    first = ["--json", *COMMAND, "--as", "alice"]
    assert hoist_global_options(cli, first) == ["--json", "--as", "alice", *COMMAND]
    assert hoist_global_options(cli, ["--as", "bo", "--help"]) == ["--as", "bo", "--help"]


def test_json_and_as_at_the_end_work_as_at_the_start(shared):
    """`lists show REF news --json --as ADMIN` prints the same document as with both first."""
    tenant = new_tenant(shared)
    tenant.add("end.options@example.dk")
    at_start = run(shared, ["--as", tenant.admin, "--json", "lists", "show", tenant.ref, "news"],
                   user=tenant.admin)  # fmt: skip
    at_end = run(shared, ["lists", "show", tenant.ref, "news", "--json", "--as", tenant.admin],
                 user=tenant.admin)  # fmt: skip
    assert at_start.exit_code == at_end.exit_code == 0, describe(at_end)
    assert json.loads(at_end.stdout) == json.loads(at_start.stdout)
    mixed = run(shared, ["controllers", f"--as={tenant.admin}", "show", tenant.ref, "--json"],
                user=tenant.admin)  # fmt: skip
    assert json.loads(mixed.stdout)["contacts"]["active"] == 1


def test_credential_file_and_data_dir_at_the_end_take_effect(shared, tmp_path):
    """`--credential-file` and `--data-dir` after the subcommand are honoured, not ignored."""
    tenant = new_tenant(shared)
    secret = tmp_path / "cred"
    secret.write_text(shared.credentials[tenant.admin], encoding="utf-8")
    secret.chmod(0o600)
    argv = ["controllers", "show", tenant.ref, "--as", tenant.admin, "--credential-file", secret]
    shown = run(shared, [*map(str, argv), "--json"])
    assert shown.exit_code == 0, describe(shown)
    if shared.settings.backend != "sqlite":
        return  # on PostgreSQL the database URL, not the data directory, names the store
    elsewhere = tmp_path / "no-store"
    error = run(
        shared, ["users", "list", "--data-dir", str(elsewhere), "--as", "grete"], user="grete"
    )
    assert error.exit_code == 2
    assert str(elsewhere) in error.stderr


def test_demo_takes_data_dir_after_its_name(tmp_path):
    """`processor demo --data-dir DIR`, as the reference writes it, builds the demo in DIR."""
    data_dir = tmp_path / "demo-here"
    result = CliRunner(env={"PROCESSOR_DATA_DIR": None}).invoke(
        cli, ["demo", "--contacts", "10", "--data-dir", str(data_dir), "--json"]
    )
    check_contract(result, ["demo"])
    assert result.exit_code == 0, describe(result)
    assert json.loads(result.stdout)["data_dir"] == str(data_dir)
    assert Settings(data_dir=data_dir).data_dir.exists()


def test_help_stays_clean():
    """A subcommand's `--help` lists its own options only; the root's lists the global ones."""
    sub = CliRunner().invoke(cli, ["lists", "show", "--help"])
    assert sub.exit_code == 0
    assert "--data-dir" not in sub.stdout
    assert "--json" not in sub.stdout
    root = CliRunner().invoke(cli, ["--help"])
    assert all(o.opts[0] in root.stdout for o in _global_options())
