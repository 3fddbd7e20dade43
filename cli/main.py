"""The `processor` command line: a thin layer over `processor.Processor` sessions.

Exit codes: 0 done, 1 refused by policy or permission, 2 invalid input or unknown id,
3 integrity failure, 4 internal error. Errors are one line on stderr.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from processor.kernel.errors import AccessDeniedError, ProcessorError, RefusedError

from .command_index import INDEX, INDEXED_MODULES
from .globalopts import hoist_global_options
from .lazygroup import LazyGroup
from .output import printed_json, start_invocation, to_json

if TYPE_CHECKING:
    from .state import CliState

INTERNAL_ERROR = 4

# Each module has `register(cli)`. A new command group adds one name here, then runs
# `python tools/cli_reference.py`, which also regenerates `command_index.py` (the lazy index).
COMMAND_MODULES = (
    "cmd_admin",
    "cmd_login",
    "cmd_access",
    "cmd_contacts",
    "cmd_ledger",
    "cmd_subprocessors",
    "cmd_retention",
    "cmd_agreements",
    "cmd_notices",
    "cmd_doctor",
    "cmd_keys",
    "cmd_demo",
    "cmd_witness",
    "cmd_status",
    "cmd_policy",
    "cmd_backup",
    "cmd_breaches",
    "cmd_audit",
    "cmd_stores",
    "cmd_audit_parties",
    "cmd_serve",
)


def get_logger(name: str) -> Any:  # noqa: ANN401
    """The redacting logger, imported only when something is logged (structlog is not free)."""
    from processor.logs import get_logger as logger

    return logger(name)


def _cli_state(obj: object) -> CliState | None:
    """`obj` if it is the invocation's CliState (imported only once a command has run)."""
    state_module = sys.modules.get(f"{__package__}.state")
    if state_module is None:
        return None
    return obj if isinstance(obj, state_module.CliState) else None


class ProcessorGroup(LazyGroup):
    """A click group that turns every ProcessorError into a one-line message and exit code."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,  # noqa: ANN401
    ) -> Any:  # noqa: ANN401
        """Run the CLI; usage errors become one `error:` line and exit 2, like every other error.

        Global options given after a subcommand are moved before it first (`hoist_global_options`).
        """
        start_invocation()
        argv = hoist_global_options(self, list(sys.argv[1:] if args is None else args))
        try:
            result = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
            fail(f"{exc.format_message()}{hint}", exc.exit_code, as_json=_json_wanted(argv))
        except click.Abort:
            fail("aborted", 1, as_json=_json_wanted(argv))
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code, as_json=_json_wanted(argv))
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401
        """Run the command; map errors to exit codes and close the store."""
        try:
            return super().invoke(ctx)
        except ProcessorError as exc:
            _record_refusal(ctx, exc)
            fail(str(exc), exc.exit_code, getattr(exc, "rule", ""), as_json=_json_of(ctx))
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            fail("interrupted; completed batches are saved", 130, as_json=_json_of(ctx))
        except Exception as exc:  # noqa: BLE001 - the last line of defence keeps output to one line
            # The traceback is for whoever debugs, at debug level only: the error contract is one
            # line on stderr, and a traceback can carry values from the failing statement.
            get_logger("processor.cli").debug(
                "internal_error", error_type=type(exc).__name__, exc_info=True
            )
            fail(
                f"internal error ({type(exc).__name__}); "
                "run again with PROCESSOR_LOG_LEVEL=DEBUG for details",
                INTERNAL_ERROR,
                as_json=_json_of(ctx),
            )
        finally:
            obj = _cli_state(ctx.obj)
            if obj is not None:
                obj.close()


def fail(message: str, code: int, rule: str = "", *, as_json: bool) -> NoReturn:
    """Exit with `code` after one `error:` line on stderr (and, with --json, one JSON document).

    A script reading `--json` output gets a document on failure too, so it never has to parse
    stderr: `{"error": {"code": N, "message": "...", "rule": "..."}}`.
    """
    click.echo(f"error: {message}", err=True)
    if as_json and not printed_json():
        click.echo(to_json({"error": {"code": code, "message": message, "rule": rule}}))
    sys.exit(code)


def _json_of(ctx: click.Context) -> bool:
    obj = _cli_state(ctx.obj)
    return bool(obj.as_json) if obj is not None else False


def _json_wanted(argv: list[str]) -> bool:
    """Whether --json was given, for errors found before the options were parsed."""
    head = argv[: argv.index("--")] if "--" in argv else argv
    return "--json" in head


def _record_refusal(ctx: click.Context, exc: ProcessorError) -> None:
    """Record a business-rule refusal of an authenticated session as `AccessDenied` (ACC-8).

    Refusals of access were recorded where they happened (`AccessDeniedError`); a rule a use
    case enforced is recorded here, once, at the boundary. If even that cannot be stored, the
    user still gets the refusal's own message.
    """
    obj = _cli_state(ctx.obj)
    session = obj.current_session() if obj is not None else None
    if obj is None or session is None:
        return
    if not isinstance(exc, RefusedError) or isinstance(exc, AccessDeniedError):
        return
    try:
        session.record_refusal(obj.command, exc.rule, str(exc))
    except ProcessorError:
        get_logger("processor.cli").warning("refusal_not_recorded", rule=exc.rule)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """Print what `--version` reports (see `processor.versions`) and stop."""
    if not value or ctx.resilient_parsing:
        return
    from processor.versions import version_text

    click.echo(version_text())
    ctx.exit()


@click.group(
    cls=ProcessorGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    package=__package__,
    modules=COMMAND_MODULES,
    index=INDEX,
    indexed_modules=INDEXED_MODULES,
)
@click.option(
    "--data-dir",
    envvar="PROCESSOR_DATA_DIR",
    type=click.Path(file_okay=False),
    help="Data directory (default ./processor-data).",
)
@click.option("--as", "user", envvar="PROCESSOR_USER", help="The user running the command.")
@click.option(
    "--credential-file",
    envvar="PROCESSOR_CREDENTIAL_FILE",
    type=click.Path(dir_okay=False),
    help="Read the acting user's credential from this file (0600); see also PROCESSOR_CREDENTIAL.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option(
    "--database-url",
    envvar="PROCESSOR_DATABASE_URL",
    help="PostgreSQL URL for events and read models (postgresql://user@host/db?schema=s).",
)
@click.option(
    "--keystore-url",
    envvar="PROCESSOR_KEYSTORE_URL",
    help="PostgreSQL URL of the separate key store (default: schema <schema>_keys).",
)
@click.option(
    "--keystore-path",
    envvar="PROCESSOR_KEYSTORE_PATH",
    type=click.Path(dir_okay=False),
    help="SQLite key store file (default: keys.sqlite in the per-store config folder).",
)
@click.option(
    "--master-key-file",
    envvar="PROCESSOR_MASTER_KEY_FILE",
    type=click.Path(dir_okay=False),
    help="Master key file, 0600 (default: master.key in the per-store config folder).",
)
@click.option(
    "--checkpoint-log",
    envvar="PROCESSOR_CHECKPOINT_LOG",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append-only file of signed checkpoints, outside the database (default: config folder).",
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, the policy versions and the store schema version, and exit.",
)
@click.pass_context
def cli(
    ctx: click.Context,
    data_dir: str | None,
    user: str | None,
    credential_file: str | None,
    as_json: bool,
    database_url: str | None,
    keystore_url: str | None,
    keystore_path: str | None,
    master_key_file: str | None,
    checkpoint_log: Path | None,
) -> None:
    """Event-sourced, compliance-first core for GDPR Art. 28 data processors."""
    from processor.config import Settings
    from processor.logs import configure

    from .state import CliState

    configure(os.environ.get("PROCESSOR_LOG_LEVEL", "WARNING"))
    settings = Settings.from_env(
        data_dir=data_dir,
        database_url=database_url,
        keystore_url=keystore_url,
        keystore_path=keystore_path,
        master_key_file=master_key_file,
    )
    if checkpoint_log:
        import dataclasses

        settings = dataclasses.replace(settings, checkpoint_log=checkpoint_log)
    ctx.obj = CliState(
        settings=settings, user=user, as_json=as_json, credential_file=credential_file
    )


def main() -> None:
    """Console entry point."""
    cli(prog_name="processor")
