"""Every runnable example of the README and docs/ runs as written (issue 18 item 1, "Done when").

A fenced block tagged `sh` is runnable. Each page's `sh` blocks run in order, in one `bash -e`
(so `export`s carry over), in a fresh empty directory with a fresh `XDG_CONFIG_HOME`, with the
installed `processor` on PATH and none of the tester's `PROCESSOR_*` variables. The first
failing command fails the test, naming the page and the command.

Other fences are not run: `text` (synopses with placeholders, sample output), `sh clone` (the
set-up commands, which run in a clone of the repository: `make ...` only), and any other
language (`toml`, `json`, ...). So that nothing runnable escapes, a `processor` command may stand
only in an `sh` or `text` block.

Commands named inline in the prose (`processor demo --data-dir DIR`) must exist with the options
they show.

The PostgreSQL page's blocks name a database URL: the test runs them against
PROCESSOR_TEST_POSTGRES_URL instead, each `?schema=NAME` replaced by a fresh schema (dropped
afterwards), and skips (failing in CI, PROCESSOR_REQUIRE_POSTGRES=1) without it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import POSTGRES_URL, drop_schemas

from processor.config import with_schema

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(`{3,}|~{3,})\s*(.*)$")
# A `processor` command: the program name at a command position, then an option or a word.
COMMAND = re.compile(r"(?:^|[\s;|&(]|/)processor\s+(?:-{1,2}\w|[a-z])")
# What a page's run must also print (beyond succeeding).
EXPECTED_OUTPUT = {
    "README.md": ["2 added", "1 rejected (see rejects.csv)", "receipt verified: erasure"],
    "retention.md": ["receipt verified: deletion-certificate"],
    "ledger.md": ["receipt verified: erasure"],
    "messages.md": ["sent 1 email message on news via"],
}
POSTGRES_PAGE = "postgresql.md"
PG_URL = re.compile(r"postgresql://[^\s'\"?]*\?schema=(\w+)")


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: str
    line: int  # line of the opening fence (1-based)
    info: str  # the info string: "sh", "text", "sh clone", "" ...
    body: str


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of `page`, in order (CommonMark: a fence closes with one at least as long)."""
    found: list[Block] = []
    opened: tuple[str, int, str] | None = None
    lines: list[str] = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        match = FENCE.match(line)
        if opened is None:
            if match:
                opened, lines = (match.group(1), number, match.group(2).strip()), []
            continue
        fence, start, info = opened
        closes = match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence)
        if closes and match and not match.group(2).strip():
            found.append(Block(page.name, start, info, "\n".join(lines) + "\n"))
            opened = None
            continue
        lines.append(line)
    assert opened is None, f"{page.name}: the fence opened on line {opened[1]} never closes"
    return found


def runnable(page: Path) -> list[Block]:
    """The page's `sh` blocks."""
    return [block for block in blocks(page) if block.info == "sh"]


def _script(body: str) -> str:
    """One bash script of the page's blocks that names the first failing command."""
    return f"set -o pipefail\ntrap 'echo \"failed (exit $?): $BASH_COMMAND\" >&2' ERR\n{body}"


def _postgres(body: str) -> tuple[str, list[str]]:
    """The page's blocks on the test database, each schema fresh; and the schemas to drop."""
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL page: set PROCESSOR_TEST_POSTGRES_URL to run its commands")
    prefix = f"doc_{uuid.uuid4().hex[:10]}"
    schemas: list[str] = []

    def fresh(match: re.Match[str]) -> str:
        schema = f"{prefix}_{match.group(1)}"
        schemas.append(schema)
        return with_schema(POSTGRES_URL, schema)

    return PG_URL.sub(fresh, body), schemas


def _environment(tmp_path: Path) -> dict[str, str]:
    """The tester's environment without our variables; our own HOME and configuration folder."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith("PROCESSOR_")}
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    return keep | {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def _page_param(page: Path) -> object:
    marks = [pytest.mark.postgres] if page.name == POSTGRES_PAGE else []
    return pytest.param(page, id=page.stem, marks=marks)


@pytest.mark.slow  # about 75 s for all pages: every command starts the program (~1 s)
@pytest.mark.parametrize("page", [_page_param(p) for p in PAGES if runnable(p)])
def test_page_commands_run_as_written(page: Path, tmp_path: Path) -> None:
    """The page's `sh` blocks succeed, in order, in a fresh directory."""
    body = "".join(block.body for block in runnable(page))
    schemas: list[str] = []
    if page.name == POSTGRES_PAGE:
        body, schemas = _postgres(body)
    work = tmp_path / "work"
    work.mkdir()
    try:
        result = subprocess.run(
            ["bash", "-e", "-c", _script(body)],
            cwd=work,
            env=_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        if schemas:
            drop_schemas(*schemas)
    failed = [line for line in result.stderr.splitlines() if line.startswith("failed (exit")]
    assert result.returncode == 0, (
        f"{page.name}: {failed[-1] if failed else 'failed'}\n{result.stderr[-3000:]}"
    )
    for expected in EXPECTED_OUTPUT.get(page.name, []):
        assert expected in result.stdout, f"{page.name}: {expected!r} not printed"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_no_command_escapes_the_runnable_blocks(page: Path) -> None:
    """A `processor` command stands only in an `sh` block (run) or a `text` block (a synopsis);
    `sh clone` blocks hold only the `make` set-up commands run in a clone.
    """
    escaped = []
    for block in blocks(page):
        if block.info in {"sh", "text", "crontab"}:  # crontab: run by test_readme_cron.py
            continue
        if block.info == "sh clone":
            others = [
                line
                for line in block.body.splitlines()
                if line.strip() and not line.lstrip().startswith(("make ", "#"))
            ]
            escaped += [f"line {block.line} (sh clone): {line.strip()}" for line in others]
            continue
        escaped += [
            f"line {block.line} ({block.info or 'untagged'}): {line.strip()}"
            for line in block.body.splitlines()
            if COMMAND.search(line)
        ]
    assert escaped == [], f"{page.name}: tag runnable blocks `sh`, synopses `text`: {escaped}"


# An inline code span that may be a command: `processor ...`, or words starting with a command name.
SPAN = re.compile(r"`((?:processor )?[a-z][a-z-]*(?: [^`]*)?)`")
GLOBAL_OPTIONS = {"--data-dir", "--as", "--json", "--credential-file", "--database-url",
                  "--keystore-url", "--keystore-path", "--master-key-file", "--checkpoint-log",
                  "--version", "--help", "-h"}  # fmt: skip


def _span_problems(span: str) -> list[str]:
    """What in an inline command does not exist: a subcommand, or an option of the command."""
    import click
    from processor_cli.main import cli

    words = span.split()
    explicit = words[0] == "processor"
    words = words[1:] if explicit else words
    while words and words[0] in GLOBAL_OPTIONS:  # global options before the subcommand
        words = words[2:] if words[0] not in {"--json", "--version", "--help", "-h"} else words[1:]
    command: click.Command = cli
    ctx = click.Context(cli)
    if not words or (not explicit and cli.get_command(ctx, words[0]) is None):
        return []  # prose, a file name, a value: not a command
    problems, path = [], ["processor"]
    for word in words:
        if isinstance(command, click.Group):
            sub = command.get_command(ctx, word)
            if sub is None:
                if re.fullmatch(r"[a-z][a-z-]*", word):
                    problems.append(f"no command `{' '.join([*path, word])}`")
                break
            command, path = sub, [*path, word]
        elif word.startswith("--"):
            known = GLOBAL_OPTIONS | {
                o for p in command.params for o in [*p.opts, *p.secondary_opts]
            }
            options = re.split(r"[/|]", word.split("=")[0].rstrip(",;.)]"))
            problems += [
                f"`{' '.join(path)}` has no option {option}"
                for option in options
                if option.startswith("--") and option not in known
            ]
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_inline_commands_name_real_commands_and_options(page: Path) -> None:
    """Issue 18 item 2: a command the prose names in backticks (`processor demo --data-dir DIR`,
    `subprocessors outbox ack ID`) exists, with the options it shows; the generated reference
    (cli.md) is checked against the code by tests/test_cli_reference.py.
    """
    if page.name == "cli.md":
        return
    text = re.sub(
        r"^(`{3,}).*?^\1", "", page.read_text(encoding="utf-8"), flags=re.MULTILINE | re.DOTALL
    )
    problems = [f"`{span}`: {p}" for span in SPAN.findall(text) for p in _span_problems(span)]
    assert problems == [], f"{page.name}: {problems}"


def test_the_extraction_finds_what_it_should(tmp_path: Path) -> None:
    """The fence parser keeps tags and bodies apart and the escape check sees untagged commands,
    so a page cannot pass by not being read.
    """
    page = tmp_path / "page.md"
    page.write_text(
        "intro\n```sh\nprocessor --version\n```\n````text\nprocessor x ID\n```\n````\n"
        "```\nprocessor ledger verify\n```\n```sh clone\nmake demo\n```\n",
        encoding="utf-8",
    )
    found = blocks(page)
    assert [(b.info, b.body) for b in found] == [
        ("sh", "processor --version\n"),
        ("text", "processor x ID\n```\n"),
        ("", "processor ledger verify\n"),
        ("sh clone", "make demo\n"),
    ]
    assert [b.body for b in runnable(page)] == ["processor --version\n"]
    assert COMMAND.search("15 6 * * *  PROCESSOR_USER=g processor --json check")
    assert not COMMAND.search("the processor's policy")
    assert sum(1 for p in PAGES if runnable(p)) >= 5, "most pages show something runnable"
