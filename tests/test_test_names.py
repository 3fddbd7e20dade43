"""Test names spell obligation ids one way: a double underscore before each id, at the end (AUD-1).

`grep -rn BR_2 tests/` must find every test that proves BR-2, and a reader of a test list must
see the ids where they always are. So a test name is its behaviour followed by `__ID` for each
id it proves (`test_reveal_is_logged__ACC_6__SUBJ_1`); `__RET_1_RET_5` (a single underscore
between ids), `_thing_RET_5` (glued to the behaviour) and `test_br1_thing` (a prefix) are not.
The real ids are read from the table of `docs/obligations.md`, so a name that carries an id
that does not exist (`__RET_99`) is refused too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
OBLIGATIONS = TESTS.parent / "docs" / "obligations.md"


def real_ids() -> set[str]:
    """The obligation ids of the table in `docs/obligations.md`, spelt as in names (`ACC_6`)."""
    text = OBLIGATIONS.read_text(encoding="utf-8")
    return {
        f"{kind}_{number}"
        for kind, number in re.findall(r"^\| ([A-Z]+)-([0-9]+) \|", text, re.MULTILINE)
    }


def misspelt(name: str, ids: set[str]) -> str | None:
    """Why `name` spells an obligation id another way than `__ID` at the end, or None."""
    kinds = "|".join(sorted({i.split("_")[0] for i in ids}, key=len, reverse=True))
    # Any spelling of an id between underscores: `ACC_6`, `acc6`, `acc_6` (`SUBJ` before `SUB`).
    anywhere = re.compile(rf"(?i)(?<=_)({kinds})_?([0-9]+)(?=_|$)")
    house = re.match(r"^(test_[a-z0-9_]*?[a-z0-9])((?:__[A-Z]+_[0-9]+)+)$", name)
    if house is None:
        return "ids not spelt `__ID` at the end" if anywhere.search(name) else None
    if anywhere.search(house[1]):
        return "an id inside the behaviour part"
    unknown = [i for i in house[2].split("__")[1:] if i not in ids]
    return f"unknown id {', '.join(unknown)}" if unknown else None


def named_tests() -> list[tuple[str, str]]:
    """(file, name) of every test function under `tests/`."""
    found: list[tuple[str, str]] = []
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found.extend(
            (path.relative_to(TESTS).as_posix(), node.name)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        )
    return found


def test_every_test_name_spells_its_obligation_ids_the_house_way__AUD_1():
    """No test under tests/ carries an id in another spelling, or an id that does not exist."""
    ids = real_ids()
    assert len(ids) >= 57, "the table of docs/obligations.md was read"
    offenders = [
        f"{path}::{name}: {why}"
        for path, name in named_tests()
        if (why := misspelt(name, ids)) is not None
    ]
    assert offenders == [], "\n".join(offenders)


def test_the_check_refuses_each_other_spelling__AUD_1():
    """The check knows the house spelling and each spelling the suite used to have."""
    ids = real_ids()
    assert misspelt("test_reveal_is_logged__ACC_6", ids) is None
    assert misspelt("test_reveal_is_logged__ACC_6__SUBJ_1", ids) is None
    assert misspelt("test_no_id_at_all_exit_2", ids) is None
    assert misspelt("test_sweep__RET_1_RET_5", ids) is not None
    assert misspelt("test_sweep_RET_5", ids) is not None
    assert misspelt("test_br1_notice_late", ids) is not None
    assert misspelt("test_acc_7_forged_review", ids) is not None
    assert misspelt("test_notice__BR_1_late", ids) is not None
    assert misspelt("test_sweep__RET_99", ids) == "unknown id RET_99"
    assert misspelt("test_sub1_registry__SUBJ_5", ids) == "an id inside the behaviour part"
