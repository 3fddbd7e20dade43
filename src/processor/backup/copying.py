"""How bytes are copied: SQLite's online backup API, and pg_dump / psql for PostgreSQL.

SQLite: `sqlite3.Connection.backup` copies a database in one step under a read transaction, so
each copy is a consistent snapshot even while writers run (WAL mode lets them go on).

PostgreSQL: `pg_dump` of one schema (plain SQL, no owners or grants). pg_dump reads everything in
one REPEATABLE READ snapshot and takes only ACCESS SHARE locks, so writers go on and the dump is
consistent across events, read models and ledger. It must be at least the server's major version
(checked). A plain dump names its schema; restoring into another schema rewrites the schema name
in the SQL statements only, never inside COPY data, so no stored record changes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import subprocess
from typing import TYPE_CHECKING

import sqlalchemy as sa

from processor.kernel.errors import ConfigurationError, IntegrityFailureError

if TYPE_CHECKING:
    from pathlib import Path

    from processor.config import PostgresLocation

_DUMP_TIMEOUT = 3600  # seconds


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite database with the online backup API into a new 0600 file."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)  # pages=-1: the whole database in one step, one consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    _fsync(target)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pg_env(loc: PostgresLocation) -> dict[str, str]:
    env = dict(os.environ)
    if loc.password:
        env["PGPASSWORD"] = loc.password
    return env


def _pg_args(loc: PostgresLocation) -> list[str]:
    return ["--host", loc.host, "--port", str(loc.port), "--username", loc.user, loc.dbname]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigurationError(f"{name} is not installed: install the PostgreSQL client tools")
    return path


def _major(text: str) -> int:
    found = re.search(r"(\d+)(?:\.\d+)?", text)
    return int(found.group(1)) if found else 0


def pg_dump_schema(loc: PostgresLocation, target: Path) -> str:
    """Dump one schema with pg_dump into `target` (0600); return pg_dump's version."""
    tool = _tool("pg_dump")
    version = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [tool, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()
    engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            server = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
    finally:
        engine.dispose()
    if _major(version.rpartition(")")[2] or version) < server:
        raise ConfigurationError(
            f"{version} is older than the server (PostgreSQL {server}): install pg_dump {server}"
        )
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [tool, "--schema", loc.schema, "--no-owner", "--no-privileges", "--format", "plain",
         "--file", str(target), *_pg_args(loc)],
        env=_pg_env(loc), capture_output=True, text=True, check=False, timeout=_DUMP_TIMEOUT,
    )  # fmt: skip
    if done.returncode != 0:
        raise ConfigurationError(f"pg_dump failed: {_first_line(done.stderr)}")
    _fsync(target)
    return version


def rename_schema(dump: str, source: str, target: str) -> str:
    r"""Rewrite a plain dump of schema `source` to create and fill schema `target`.

    Only statement lines change; the lines of COPY data blocks (between `COPY ... FROM stdin;`
    and `\\.`) are left exactly as dumped.
    """
    names = rf'(?<![\w."])(?:"{re.escape(source)}"|{re.escape(source)})(?=\.)'
    quoted = target if re.fullmatch(r"[a-z_][a-z0-9_]*", target) else f'"{target}"'
    out: list[str] = []
    in_data = False
    for line in dump.splitlines(keepends=True):
        if in_data:
            in_data = line.rstrip("\n") != "\\."
            out.append(line)
            continue
        if line.startswith("--"):
            out.append(line)
            continue
        if re.fullmatch(rf'CREATE SCHEMA (?:"{re.escape(source)}"|{re.escape(source)});\n?', line):
            out.append(f"CREATE SCHEMA IF NOT EXISTS {quoted};\n")
            continue
        line = re.sub(names, quoted, line)  # noqa: PLW2901 - the rewritten statement line
        out.append(line)
        in_data = line.startswith("COPY ") and line.rstrip().endswith("FROM stdin;")
    return "".join(out)


def pg_restore_schema(loc: PostgresLocation, dump: Path, source_schema: str) -> None:
    """Load a plain dump of `source_schema` into `loc.schema`, in one transaction."""
    tool = _tool("psql")
    sql = rename_schema(dump.read_text(encoding="utf-8"), source_schema, loc.schema)
    done = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [tool, "--quiet", "--no-psqlrc", "--single-transaction", "--set", "ON_ERROR_STOP=1",
         "--file", "-", *_pg_args(loc)],
        input=sql, env=_pg_env(loc), capture_output=True, text=True, check=False,
        timeout=_DUMP_TIMEOUT,
    )  # fmt: skip
    if done.returncode != 0:
        raise IntegrityFailureError(f"the dump did not load: {_first_line(done.stderr)}")


def pg_schema_tables(loc: PostgresLocation, schema: str | None = None) -> list[str]:
    """The tables in a schema (none when it does not exist)."""
    engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                {"s": schema or loc.schema},
            ).scalars()
            return sorted(str(r) for r in rows)
    finally:
        engine.dispose()


def pg_execute(loc: PostgresLocation, *statements: str) -> None:
    """Run statements (schema renames and drops) in one transaction."""
    engine = sa.create_engine(loc.sqlalchemy_url(), poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def _first_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else "no message"
