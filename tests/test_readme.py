"""The README's synopsis is executed, so the documentation cannot drift from the CLI."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    return text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


def _block(heading: str, info: str = "sh") -> str:
    match = re.search(rf"```{info}\n(.*?)```", _section(heading), re.DOTALL)
    assert match, f"no {info} block under {heading}"
    return match.group(1)


def test_readme_has_exactly_two_setup_commands():
    """The quick start holds exactly the two set-up commands, run in a clone: demo and test suite."""
    commands = [
        line.split("#")[0].strip()
        for line in _block("Quick start", "sh clone").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert commands == ["make demo", "make test"]


def test_quick_start_ends_with_the_next_three_things_runnable():
    """Issue 18: the quick start ends with three numbered things a user does with their own data
    (own store, own contacts from a CSV made inline, a subject's export and erasure with a receipt),
    each an `sh` block that tests/test_docs_commands.py runs; the next heading follows them.
    """
    section = _section("Quick start")
    steps = re.findall(r"\*\*(\d)\. ([^*]+)\*\*.*?```sh\n(.*?)```", section, re.DOTALL)
    assert [number for number, _, _ in steps] == ["1", "2", "3"]
    store, contacts, request = (body for _, _, body in steps)
    assert "processor init" in store
    assert "> contacts.csv" in contacts
    assert "contacts import" in contacts
    assert "erase" in request
    assert "receipts verify" in request
    assert section.rstrip().endswith("```"), "nothing after the third thing"


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
    assert len(ids) == 63
    assert rows == ids


def test_docs_links_resolve():
    """Every relative link in the README and docs/ points at a file inside the repository: a link
    such as `../shared/OBLIGATIONS.md` resolves on the author's machine only (issue 18 item 2).
    """
    root = README.parent
    pages = [README, *sorted((root / "docs").glob("*.md"))]
    links = [
        (page, target)
        for page in pages
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    ]
    broken = [
        f"{p.name}: {t}"
        for p, t in links
        if not (p.parent / t).resolve().exists()
        or not (p.parent / t).resolve().is_relative_to(root.resolve())
    ]
    assert links
    assert broken == [], "links must resolve inside the repository (issue 18 item 2)"
