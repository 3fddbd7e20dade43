"""Shared helpers of the end-to-end tests of the `processor` command line (tests/test_cli_*.py).

Commands run in-process through click's CliRunner (fast), with the environment variables the
command line documents; a few tests run the installed console script in a subprocess. Every
run checks the CLI contract: exit code 0-3 (never 4, an internal error) and, on failure, exactly
one line on stderr starting with `error: `.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from click.testing import CliRunner, Result
from processor_cli.main import cli
from support import UNDERTAKING, drop_schemas, make_settings

from processor.app import Processor
from processor.config import Settings
from processor.domain.ids import controller_id, user_id
from processor.readmodels import tables

if TYPE_CHECKING:
    from collections.abc import Iterator

PROCESSOR = Path(sys.executable).parent / "processor"
OUR_VARS = (
    "PROCESSOR_DATA_DIR",
    "PROCESSOR_USER",
    "PROCESSOR_DATABASE_URL",
    "PROCESSOR_KEYSTORE_URL",
    "PROCESSOR_MASTER_KEY",
    "PROCESSOR_MASTER_KEY_FILE",
    "PROCESSOR_KEYSTORE_PATH",
    "PROCESSOR_NOW",
    "PROCESSOR_LOG_LEVEL",
    "PROCESSOR_CREDENTIAL",
    "PROCESSOR_CREDENTIAL_FILE",
    "PROCESSOR_CUSTODIAN",
    "PROCESSOR_PKCS11_MODULE",
    "PROCESSOR_PKCS11_TOKEN",
    "PROCESSOR_PKCS11_PIN",
    "PROCESSOR_PKCS11_PIN_FILE",
)
CONSENT = "email:double-opt-in:signup form"
_names = itertools.count(1)


# -- stores ------------------------------------------------------------------------------------


@contextlib.contextmanager
def shared_store(
    backend: str, base: Path, *init_options: object, env: dict[str, str | None] | None = None
) -> Iterator[Cli]:
    """An initialised store (GDPA `grete`, system manager `sam`) shared by a module's tests.

    The one builder behind every module-scoped store of the command-line tests (conftest's
    `shared` and the modules' own variants): `init_options` and `env` go to `processor init`
    (`"--simulation"` and a simulated time, say). Tests on a shared store each work on a
    controller of their own (see `new_tenant`).
    """
    settings, schemas = make_settings(backend, base)
    try:
        runner = Cli(settings)
        runner.init(*init_options, env=env)
        yield runner
    finally:
        drop_schemas(*schemas)


# -- running the command line --------------------------------------------------------------------


def check_contract(result: Result, argv: list[str]) -> None:
    """The CLI contract every invocation keeps: exit 0-3, failures as one `error: ` line."""
    shown = f"processor {' '.join(argv)}\nexit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    assert result.exit_code in (0, 1, 2, 3), f"internal error or crash:\n{shown}"
    if result.exit_code == 0:
        assert result.exception is None, shown
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"the error is not one line:\n{shown}"
    assert lines[0].startswith("error: "), f"the error does not start with 'error: ':\n{shown}"


def describe(result: Result) -> str:
    """What a test failure should show about a run."""
    return f"exit {result.exit_code}\nstdout: {result.stdout}\nstderr: {result.stderr}"


def cli_env(settings: Settings) -> dict[str, str | None]:
    """The environment of a command on `settings`' store (everything else of ours unset)."""
    env: dict[str, str | None] = dict.fromkeys(OUR_VARS)
    env["PROCESSOR_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["PROCESSOR_DATABASE_URL"] = settings.database_url
    if settings.keystore_url:
        env["PROCESSOR_KEYSTORE_URL"] = settings.keystore_url
    if settings.master_key_file:
        env["PROCESSOR_MASTER_KEY_FILE"] = str(settings.master_key_file)
    if settings.keystore_path:
        env["PROCESSOR_KEYSTORE_PATH"] = str(settings.keystore_path)
    if settings.custodian:
        env["PROCESSOR_CUSTODIAN"] = settings.custodian
        env["PROCESSOR_PKCS11_MODULE"] = settings.pkcs11_module
        env["PROCESSOR_PKCS11_TOKEN"] = settings.pkcs11_token
        env["PROCESSOR_PKCS11_PIN"] = settings.pkcs11_pin
    return env


class Cli:
    """Runs `processor` commands in-process against one store."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.env = cli_env(settings)
        # The credentials the commands issued, by user name: tests act as each person with
        # their own credential (PROCESSOR_CREDENTIAL), as a script or CI job would (ACC-12).
        self.credentials: dict[str, str] = {}

    def env_for(self, user: str | None) -> dict[str, str | None]:
        """The environment of a command run as `user`, with that person's credential."""
        env = dict(self.env)
        if user is not None and user in self.credentials:
            env["PROCESSOR_CREDENTIAL"] = self.credentials[user]
        return env

    def remember(self, data: Any, env: dict[str, str | None] | None = None) -> None:
        """Keep the credentials a command printed (init, users add, register, rotate)."""
        if not isinstance(data, dict):
            return
        for name, text in (data.get("credentials") or {}).items():
            self.credentials[name] = text
        if data.get("credential") and data.get("name"):
            self.credentials[data["name"]] = data["credential"]
            if data.get("request") is not None and data.get("controller"):
                # Added by the processor's staff on a request: handed over, so replace it.
                self.ok("users", "credential", data["name"], "--rotate", user=data["name"], env=env)
        if data.get("admin_credential") and data.get("admin"):
            self.credentials[data["admin"]] = data["admin_credential"]
            # A first administrator replaces the credential the system manager handed over,
            # as its holder must before acting (ACC-13).
            self.ok("users", "credential", data["admin"], "--rotate", user=data["admin"], env=env)

    def run(
        self,
        *args: object,
        user: str | None = None,
        as_json: bool = False,
        env: dict[str, str | None] | None = None,
    ) -> Result:
        """Run one command; the contract (exit code, one-line error) is checked here."""
        argv = (["--as", user] if user else []) + (["--json"] if as_json else [])
        argv += [str(a) for a in args]
        acting = user or (env or {}).get("PROCESSOR_USER")
        result = CliRunner(env={**self.env_for(acting), **(env or {})}).invoke(cli, argv)
        check_contract(result, argv)
        if as_json and result.exit_code == 0:
            with contextlib.suppress(ValueError):
                self.remember(json.loads(result.stdout), env)
        return result

    def ok(
        self, *args: object, user: str | None = None, env: dict[str, str | None] | None = None
    ) -> Any:
        """Run with `--json`, expect exit 0 and return the one JSON document printed."""
        result = self.run(*args, user=user, as_json=True, env=env)
        assert result.exit_code == 0, describe(result)
        return json.loads(result.stdout)

    def text(
        self, *args: object, user: str | None = None, env: dict[str, str | None] | None = None
    ) -> str:
        """Run without `--json`, expect exit 0 and return stdout."""
        result = self.run(*args, user=user, env=env)
        assert result.exit_code == 0, describe(result)
        return result.stdout

    def fails(
        self,
        code: int,
        *args: object,
        user: str | None = None,
        env: dict[str, str | None] | None = None,
        as_json: bool = False,
    ) -> str:
        """Expect exit `code` (with its one-line error) and return the error line."""
        result = self.run(*args, user=user, as_json=as_json, env=env)
        assert result.exit_code == code, describe(result)
        return result.stderr.strip()

    def sign(self, ref: str, edition: str, env: dict[str, str | None] | None = None) -> Any:
        """Record `ref`'s signed agreement as the system manager (INSTR-5): processing needs it."""
        text = self.settings.data_dir.parent / f"agreement-{ref}.txt"
        text.parent.mkdir(parents=True, exist_ok=True)
        text.write_text(f"{edition} agreement between the processor and {ref}\n", encoding="utf-8")
        return self.ok(
            "controllers", "agreement", ref, "--edition", edition, "--signed-on", "2020-01-01",
            "--text-file", text, "--processor-signatory", "Sam Manager",
            "--controller-signatory", f"Administrator of {ref}", user="sam", env=env,
        )  # fmt: skip

    def init(self, *extra: object, env: dict[str, str | None] | None = None) -> Any:
        """`processor init` with GDPA `grete` and system manager `sam`, both bound and trained."""
        return self.ok(
            "init", "--gdpa", "grete", "--system-manager", "sam",
            "--gdpa-undertaking", *UNDERTAKING, "--manager-undertaking", *UNDERTAKING,
            *extra, env=env,
        )  # fmt: skip

    def public_key(self, path: Path, user: str = "grete") -> Path:
        """Write the ledger's public key (from `ledger public-key`) to `path`."""
        path.write_text(self.text("ledger", "public-key", user=user), encoding="utf-8")
        return path

    # -- the Python API, for what the command line does not show --------------------------------

    def open(self) -> Processor:
        """Open the store through the Python API (close it after use)."""
        return Processor.open(self.settings)

    def denials(self, actor: str) -> list[dict[str, Any]]:
        """The recorded refusals (AccessDenied) of `actor`, oldest first (ACC-8)."""
        with self.open() as proc, proc.engines.readmodels.connect() as conn:
            rows = conn.execute(
                sa.select(tables.denials)
                .where(tables.denials.c.actor == actor)
                .order_by(tables.denials.c.position)
            ).mappings()
            return [dict(r) for r in rows]

    def events(self, originator: uuid.UUID | str) -> list[Any]:
        """The stored domain events of one aggregate, oldest first."""
        oid = originator if isinstance(originator, uuid.UUID) else uuid.UUID(originator)
        with self.open() as proc:
            return list(proc.store.events.get(oid))

    def controller_events(self, ref: str) -> list[Any]:
        """The stored events of a controller."""
        return self.events(controller_id(ref))

    def user_events(self, name: str) -> list[Any]:
        """The stored events of a user."""
        return self.events(user_id(name))


# -- controllers of their own on a shared store ------------------------------------------------


@dataclass
class Tenant:
    """One controller on a store, with its administrator (`<ref>-admin`)."""

    cli: Cli
    ref: str
    admin: str

    def user(self, role: str) -> str:
        """Add a user of this controller with `role` (named `<ref>-<role>`); return the name."""
        name = f"{self.ref}-{role}"
        self.cli.ok("users", "add", name, "--role", role, "--controller", self.ref, user=self.admin)
        return name

    def add(
        self,
        email: str,
        *extra: object,
        list_name: str = "news",
        user: str | None = None,
        consent: str = CONSENT,
    ) -> str:
        """Add a contact with consent; return its id."""
        out = self.cli.ok(
            "contacts", "add", self.ref, "--list", list_name, "--email", email,
            "--consent", consent, *extra, user=user or self.admin,
        )  # fmt: skip
        return str(out["contact_id"])

    def members(self, list_name: str = "news") -> dict[str, Any]:
        """`lists show --json` of one of this controller's lists."""
        return self.cli.ok("lists", "show", self.ref, list_name, user=self.admin)  # type: ignore[no-any-return]

    def active(self) -> int:
        """How many live contacts the controller holds (`controllers show`)."""
        return int(
            self.cli.ok("controllers", "show", self.ref, user=self.admin)["contacts"]["active"]
        )


def new_tenant(
    runner: Cli, account: str = "paying", agreement: str = "scc", *, signed: bool = True
) -> Tenant:
    """Register a controller with a unique id and its administrator (and, unless told not to,
    its signed agreement, which processing needs: INSTR-5).
    """
    ref = f"c{next(_names)}-{uuid.uuid4().hex[:6]}"
    admin = f"{ref}-admin"
    runner.ok(
        "controllers", "register", ref, "--name", f"Controller {ref}", "--country", "DK",
        "--account", account, "--agreement", agreement, "--admin", admin, user="sam",
    )  # fmt: skip
    if signed:
        runner.sign(ref, agreement)
    return Tenant(runner, ref, admin)


# -- files ---------------------------------------------------------------------------------------


def write_bytes(path: Path, *lines: bytes) -> Path:
    """Write a file of raw lines (each gets `\\n`)."""
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def write_rows(path: Path, header: str, rows: list[str]) -> Path:
    """Write a UTF-8 CSV file from a header and ready-made rows."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def rejects_of(path: Path) -> list[list[str]]:
    """The line and reason of each row of a rejects file (without its header).

    The row's own cells follow them in the file; `rejected_rows` returns those too.
    """
    return [row[:2] for row in rejected_rows(path)]


def rejected_rows(path: Path) -> list[list[str]]:
    """The complete rows of a rejects file: line, reason, then the rejected row's cells."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0][:2] == ["_line", "_reason"]
    return rows[1:]


# -- subprocesses --------------------------------------------------------------------------------


def run_processor(args: list[str], env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    """Run the installed `processor` console script in a subprocess."""
    full = {k: v for k, v in os.environ.items() if k not in OUR_VARS}
    full.update({k: v for k, v in env.items() if v is not None})
    return subprocess.run(
        [str(PROCESSOR), *args], env=full, capture_output=True, text=True, timeout=60, check=False
    )


def keep_listed_agreements(runner: Cli) -> None:
    """Record the agreement of every sub-processor on the store's lists (SUB-5), as the README's
    set-up does, so that `status` and the report of a fresh store find nothing to do.
    """
    text = runner.settings.data_dir.parent / "sp-agreement.txt"
    text.write_text("Sub-processor agreement, with SCC 7.6\n", encoding="utf-8")
    for sp in runner.ok("subprocessors", "list", user="grete")["subprocessors"]:
        runner.ok("subprocessors", "agreement", sp["name"], "--ref", "SPA-2025", "--date",
                  "2025-11-01", "--text-file", text, "--beneficiary-clause", user="grete")  # fmt: skip
