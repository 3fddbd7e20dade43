"""Which tests prove each obligation id, found from the test sources at build time (AUD-1).

Tests name the ids they prove (`test_reveal_is_logged__ACC_6`, or the id in the docstring), so
reading the names and docstrings of `tests/` finds them. Reading the sources was chosen over a
file the test suite writes: the sources are always there beside the code being audited and
always current, while a written file would be as old as the last full test run (or absent),
and a stale list of passing tests is worse than an honest list of existing ones. What this
cannot say is whether the tests passed: CI does.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

# `ACC_6`, `ACC-6` or `acc6` (test names use `__ACC_6`, see tests/test_test_names.py); `SUBJ`
# is tried before `SUB`, and no letter may precede the id, so `SUBJ_1` is never read as
# `SUB-1` nor `secret1` as `RET-1`.
_ID = re.compile(
    r"(?<![A-Za-z])(INSTR|SUBJ|ACC|SUB|RET|BR|AUD)[_-]?([0-9]{1,2})(?![0-9])", re.IGNORECASE
)


def default_tests_dir() -> Path:
    """`tests/` beside the source tree this package runs from."""
    return Path(__file__).resolve().parents[3] / "tests"


def ids_in(text: str) -> set[str]:
    """Every obligation id named in `text` (`ACC_6` or `ACC-6`), as `ACC-6`."""
    return {f"{kind.upper()}-{int(number)}" for kind, number in _ID.findall(text)}


@dataclass
class TestIndex:
    """Test names per obligation id; `found` is False when no test sources were available."""

    found: bool
    by_id: dict[str, list[str]] = field(default_factory=dict)

    def tests_of(self, obligation: str) -> list[str]:
        """The tests that name `obligation`, as `file::test`."""
        return self.by_id.get(obligation, [])


# Parsed files by (path, modification time, size): a process building several reports (the
# test suite, a server) parses each test file once.
_parsed: dict[tuple[str, int, int], list[tuple[str, set[str]]]] = {}


def _tests_in(path: Path, root: Path) -> list[tuple[str, set[str]]]:
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key in _parsed:
            return _parsed[key]
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text) if _ID.search(text) else None
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []
    found = [] if tree is None else _named_tests(tree, path, root)
    _parsed[key] = found
    return found


def _named_tests(tree: ast.Module, path: Path, root: Path) -> list[tuple[str, set[str]]]:
    found: list[tuple[str, set[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            named = ids_in(node.name) | ids_in(ast.get_docstring(node) or "")
            if named:
                found.append((f"{path.relative_to(root).as_posix()}::{node.name}", named))
    # A stateful machine runs as a test bound by name at module level
    # (`test_grants__ACC_6 = GrantMachine.TestCase`): its name carries the ids.
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.startswith("test"):
                    named = ids_in(target.id)
                    if named:
                        found.append((f"{path.relative_to(root).as_posix()}::{target.id}", named))
    return found


def index_tests(tests_dir: Path | None = None) -> TestIndex:
    """Read every `test_*.py` under `tests_dir` and index its tests by the ids they name."""
    root = tests_dir or default_tests_dir()
    if not root.is_dir():
        return TestIndex(found=False)
    index = TestIndex(found=True)
    for path in sorted(root.rglob("test_*.py")):
        for name, ids in _tests_in(path, root):
            for obligation in ids:
                index.by_id.setdefault(obligation, []).append(name)
    return index
