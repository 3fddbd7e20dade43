"""The `processor` command line: a thin layer over `processor.Processor` sessions.

Exit codes: 0 done, 1 refused by policy or permission, 2 invalid input or unknown id,
3 integrity failure, 4 internal error. Errors are one line on stderr.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from processor.config import Settings
from processor.errors import ProcessorError
from processor.logs import configure, get_logger

from .state import CliState

INTERNAL_ERROR = 4


class ProcessorGroup(click.Group):
    """A click group that turns every ProcessorError into a one-line message and exit code."""

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,  # noqa: ANN401
    ) -> Any:  # noqa: ANN401
        """Run the CLI; usage errors become one `error:` line and exit 2, like every other error."""
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as exc:
            hint = f" (see {exc.ctx.command_path} --help)" if exc.ctx else ""
            click.echo(f"error: {exc.format_message()}{hint}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted", err=True)
            sys.exit(1)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        if standalone_mode:
            sys.exit(result if isinstance(result, int) else 0)
        return result

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401
        """Run the command; map errors to exit codes and close the store."""
        try:
            return super().invoke(ctx)
        except ProcessorError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("error: interrupted; completed batches are saved", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence keeps output to one line
            get_logger("processor.cli").exception("internal_error", error_type=type(exc).__name__)
            click.echo(
                f"error: internal error ({type(exc).__name__}); details are in the log", err=True
            )
            sys.exit(INTERNAL_ERROR)
        finally:
            obj = ctx.obj
            if isinstance(obj, CliState):
                obj.close()


@click.group(cls=ProcessorGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
@click.version_option(package_name="processor")
@click.pass_context
def cli(
    ctx: click.Context,
    data_dir: str | None,
    user: str | None,
    credential_file: str | None,
    as_json: bool,
    database_url: str | None,
    keystore_url: str | None,
) -> None:
    """Event-sourced, compliance-first core for GDPR Art. 28 data processors."""
    configure(os.environ.get("PROCESSOR_LOG_LEVEL", "WARNING"))
    settings = Settings.from_env(data_dir=data_dir, database_url=database_url)
    if keystore_url:
        settings = Settings(
            data_dir=settings.data_dir,
            database_url=settings.database_url,
            keystore_url=keystore_url,
            master_key_hex=settings.master_key_hex,
        )
    ctx.obj = CliState(
        settings=settings, user=user, as_json=as_json, credential_file=credential_file
    )


def _register() -> None:
    from . import (
        cmd_access,
        cmd_admin,
        cmd_contacts,
        cmd_demo,
        cmd_ledger,
        cmd_login,
        cmd_retention,
        cmd_subprocessors,
    )

    for module in (
        cmd_admin,
        cmd_login,
        cmd_access,
        cmd_contacts,
        cmd_ledger,
        cmd_subprocessors,
        cmd_retention,
        cmd_demo,
    ):
        module.register(cli)


_register()


def main() -> None:
    """Console entry point."""
    cli(prog_name="processor")
