"""The README's synopsis is executed, so the documentation cannot drift from the CLI."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, f"no sh block under {heading}"
    return match.group(1)


def test_readme_synopsis_runs(tmp_path):
    """Every command of the README's synopsis succeeds on a fresh store, in order."""
    (tmp_path / "contacts.csv").write_text(
        "email,first_name,last_name\nbo@example.dk,Bo,Holm\nnot-an-email,X,Y\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROCESSOR_")} | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    }
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _block("Synopsis")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "receipt verified" in result.stdout
    assert (tmp_path / "rejects.csv").read_text(encoding="utf-8").count("\n") == 2


def test_readme_has_exactly_two_setup_commands():
    """The quick start holds exactly the two set-up commands: the demo and the test suite."""
    commands = [
        line.split("#")[0].strip()
        for line in _block("Quick start").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert commands == ["make demo", "make test"]


def test_obligations_table_names_real_tests():
    """Every test the obligations table cites exists, so the table cannot go stale."""
    table = (README.parent / "docs" / "obligations.md").read_text(encoding="utf-8")
    cited = set(re.findall(r"`(test_\w+)`", table))
    assert cited, "the table cites tests"
    sources = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(__file__).parent.rglob("test_*.py")
    )
    missing = sorted(
        name for name in cited if f"def {name}(" not in sources and f"{name} =" not in sources
    )
    assert missing == []


def test_obligations_table_lists_every_id():
    """Every obligation id of the agreements has a row, so none can be forgotten silently."""
    docs = README.parent / "docs"
    source = (docs / "obligations-source.md").read_text(encoding="utf-8")
    table = (docs / "obligations.md").read_text(encoding="utf-8")
    ids = re.findall(r"^\| ([A-Z]+-\d+) \|", source, flags=re.MULTILINE)
    rows = re.findall(r"^\| ([A-Z]+-\d+) \|", table, flags=re.MULTILINE)
    assert len(ids) == 57
    assert rows == ids


def test_docs_links_resolve():
    """Every relative link in the README and docs/ points at a file of the repository."""
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md"))]
    links = [
        (page, target)
        for page in pages
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    ]
    broken = [f"{p.name}: {t}" for p, t in links if not (p.parent / t).resolve().exists()]
    assert links
    assert broken == []
