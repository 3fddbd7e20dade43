"""Every obligation id has a mechanism in the code and a test that names it (AUD-1)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from processor.audit.coverage import ids_in, index_tests
from processor.audit.mechanisms import BY_ID, MECHANISMS, Mechanism
from processor.audit.objectives import OBJECTIVES

if TYPE_CHECKING:
    from processor.audit.coverage import TestIndex

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "docs" / "obligations-source.md"
TABLE = ROOT / "docs" / "obligations.md"


def source_ids() -> list[str]:
    """The ids of `docs/obligations-source.md` (a copy of OBLIGATIONS.md), in order."""
    return re.findall(r"^\| ([A-Z]+-[0-9]+) \|", SOURCE.read_text(encoding="utf-8"), re.MULTILINE)


def test_the_mechanism_table_has_one_entry_per_obligation_id__AUD_1():
    """The table in the code lists exactly the ids of OBLIGATIONS.md, each once."""
    ids = source_ids()
    assert len(ids) == 63  # the six new ids of issue 27
    assert [m.id for m in MECHANISMS] == ids


def table_faults(table: str, index: TestIndex) -> list[str]:
    """What the "proven by" column of `docs/obligations.md` claims that the tests do not bear out.

    Every row names at least one test, by its function name in backticks; each named test
    exists under `tests/` and cites the id of its row (in its name, or its docstring). A file or
    folder name, or "same", proves nothing a reader can check, so it is a fault too.
    """
    faults: list[str] = []
    rows = re.findall(r"^\| ([A-Z]+-[0-9]+) \| .* \| (.*) \|$", table, re.MULTILINE)
    for obligation, proven in rows:
        citing = {name.split("::")[1] for name in index.tests_of(obligation)}
        named = re.findall(r"`([^`]*)`", proven)
        prose = re.sub(r"`[^`]*`", "", proven)
        if not named:
            faults.append(f"{obligation}: names no test")
        if re.search(r"\bsame\b|\.py\b|tests/", prose, re.IGNORECASE):
            faults.append(f"{obligation}: names a file or 'same' instead of a test")
        for name in named:
            if not re.fullmatch(r"test\w*", name):
                faults.append(f"{obligation}: `{name}` is not a test name")
            elif name not in citing:
                faults.append(f"{obligation}: no test `{name}` under tests/ cites {obligation}")
    return faults


def test_every_test_the_obligations_table_names_exists_and_cites_its_id__AUD_1():
    """Each row of docs/obligations.md names real tests that cite its id: no file names, no
    "same", no test that was renamed away or proves another id.
    """
    table = TABLE.read_text(encoding="utf-8")
    assert len(re.findall(r"^\| [A-Z]+-[0-9]+ \|", table, re.MULTILINE)) >= 57
    assert table_faults(table, index_tests(ROOT / "tests")) == []


def test_the_table_check_flags_each_unproven_claim__AUD_1(tmp_path):
    """A missing test, a test of another id, a file name and "same" are each flagged."""
    (tmp_path / "test_x.py").write_text(
        "def test_reveal_is_logged__ACC_6():\n    pass\n\n"
        "def test_quiet():\n    '''Consent is kept (SUBJ-2).'''\n\n"
        "test_grants__ACC_4 = object()\n",
        encoding="utf-8",
    )
    index = index_tests(tmp_path)
    good = (
        "| ACC-6 | log | `test_reveal_is_logged__ACC_6` |\n"
        "| SUBJ-2 | consent | `test_quiet` (docstring) |\n"
        "| ACC-4 | grants | `test_grants__ACC_4` (stateful) |\n"
    )
    assert table_faults(good, index) == []
    bad = (
        "| ACC-6 | log | `test_gone__ACC_6` |\n"
        "| ACC-9 | roles | `test_reveal_is_logged__ACC_6` |\n"
        "| SUBJ-6 | export | CLI export tests (`tests/test_cli_*.py`) |\n"
        "| AUD-4 | ledger | same, `tests/ledger/` |\n"
        "| RET-3 | certificate | a certificate test |\n"
    )
    assert table_faults(bad, index) == [
        "ACC-6: no test `test_gone__ACC_6` under tests/ cites ACC-6",
        "ACC-9: no test `test_reveal_is_logged__ACC_6` under tests/ cites ACC-9",
        "SUBJ-6: `tests/test_cli_*.py` is not a test name",
        "AUD-4: names a file or 'same' instead of a test",
        "AUD-4: `tests/ledger/` is not a test name",
        "RET-3: names no test",
    ]


def test_every_id_belongs_to_a_control_objective__AUD_1():
    """Each id appears under at least one of the objectives A to I, and no unknown id does."""
    listed = [i for o in OBJECTIVES for i in o.ids]
    assert set(listed) == set(source_ids())


def test_no_obligation_id_has_neither_mechanism_nor_test__AUD_1():
    """An id whose enforcing code is gone and that no test names fails the suite."""
    index = index_tests(ROOT / "tests")
    assert index.found
    orphans = [m.id for m in MECHANISMS if not m.present() and not index.tests_of(m.id)]
    assert orphans == []


def test_every_listed_mechanism_that_exists_is_importable__AUD_1():
    """A mechanism entry names real code: a missing module or attribute is detected."""
    assert BY_ID["AUD-4"].present()
    assert not Mechanism("X-1", "", "", "processor.link.service:NoSuchThing").present()
    assert not Mechanism("X-2", "", "", "processor.no_such_module").present()


def test_tests_are_found_by_name_and_docstring__AUD_1(tmp_path):
    """`ACC_6` in a name and `SUBJ-2` in a docstring are found; `SUBJ_1` is never `SUB-1`."""
    (tmp_path / "test_x.py").write_text(
        "def test_reveal_is_logged__ACC_6__SUBJ_1():\n    pass\n\n"
        "def test_other():\n    '''Consent is kept (SUBJ-2).'''\n\n"
        "def helper__AUD_3():\n    pass\n",
        encoding="utf-8",
    )
    index = index_tests(tmp_path)
    assert index.tests_of("ACC-6") == ["test_x.py::test_reveal_is_logged__ACC_6__SUBJ_1"]
    assert index.tests_of("SUBJ-1") == index.tests_of("ACC-6")
    assert index.tests_of("SUBJ-2") == ["test_x.py::test_other"]
    assert index.tests_of("SUB-1") == []
    assert index.tests_of("AUD-3") == []  # not a test
    assert ids_in("RET_10 XBR_1 ACC_12") == {"RET-10", "ACC-12"}


@pytest.mark.parametrize("obligation", ["ACC-7", "SUB-8", "AUD-1"])
def test_an_id_without_test_is_a_report_deviation__AUD_1(obligation, tmp_path):
    """With no test naming an id, the report's coverage flags it (`test-missing`)."""
    from processor.audit import deviations

    index = index_tests(tmp_path)
    model = {
        "coverage": {
            "tests_found": True,
            "ids": [
                {"id": m.id, "where": m.where, "mechanism_present": True,
                 "tests": index.tests_of(m.id)}
                for m in MECHANISMS
            ],
        }
    }  # fmt: skip
    found = deviations._coverage(model)
    assert {"objective": deviations.objective_of(obligation), "obligation": obligation,
            "kind": "test-missing", "text": f"{obligation}: no test names this id"} in found  # fmt: skip
