"""Issue 18 ("the first hour"): the items whose earlier tests left a gap.

Item 6 named one field (an invalid birth date echoed to stderr and the rejects file) and asked for
"the same for every personal field"; item 8 named `--set nosuch=1`, which created a custom field.
Each test here covers the whole of its item, not only the named example.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from cli_helpers import new_tenant, rejected_rows, write_rows

ROOT = Path(__file__).resolve().parent.parent
VOCABULARY: list[str] = tomllib.loads((ROOT / "policies" / "fields.toml").read_text("utf-8"))[
    "standard"
]
MARK = "Zq7"  # in every bad value, so an echo anywhere is found
# Values each field refuses for its format; every field refuses control characters and length.
BAD_FORMAT = {"email": f"{MARK}-not-an-address", "phone": f"{MARK}-no-digits",
              "birth_date": f"{MARK}-15/03/1985"}  # fmt: skip


def _bad_values(field: str) -> list[str]:
    values = [f"{MARK}{field}\x07bell", f"{MARK}{field}" + "x" * 10_001]
    return [BAD_FORMAT[field], *values] if field in BAD_FORMAT else values


CASES = [(field, value) for field in [*VOCABULARY, "custom.note"] for value in _bad_values(field)]


def test_no_personal_field_is_echoed_in_errors_or_rejects(shared, tmp_path):
    """Issue 18 item 6: for every vocabulary field and a custom field, a value refused for its
    format, a control character or its length appears neither in the one-line error of
    `contacts add` nor in the rejects file's reason; the reason names the field instead.
    """
    tenant = new_tenant(shared)
    header = ["email", *VOCABULARY[1:], "custom.note"]
    rows = []
    for number, (field, value) in enumerate(CASES):
        cells = {"email": f"row{number}@example.dk", field: value}
        rows.append(",".join('"' + cells.get(h, "").replace('"', '""') + '"' for h in header))
        option = ["--email", value] if field == "email" else [
            "--email", f"add{number}@example.dk", "--field", f"{field}={value}"]  # fmt: skip
        error = shared.fails(2, "contacts", "add", tenant.ref, "--list", "news", *option,
                             "--consent", "email:form", user=tenant.admin)  # fmt: skip
        assert MARK not in error, (field, error)
        assert field.removeprefix("custom.") in error or "e-mail" in error, (field, error)
    source = write_rows(tmp_path / "bad.csv", ",".join(header), rows)
    rejects = tmp_path / "rejects.csv"
    out = shared.run("contacts", "import", tenant.ref, source, "--list", "news",
                     "--consent-method", "double-opt-in", "--rejects", rejects,
                     user=tenant.admin)  # fmt: skip
    assert MARK not in out.stdout + out.stderr
    reasons = [row[1] for row in rejected_rows(rejects)]
    assert len(reasons) == len(CASES)
    assert [reason for reason in reasons if MARK in reason] == []


@pytest.mark.parametrize("command", ["add", "update"])
def test_an_unknown_bare_field_is_refused_not_made_custom(shared, command):
    """Issue 18 item 8: `--set nosuch=1` (and `--field nosuch=1`) is refused with exit 2 and the
    way to ask for a custom field; nothing is stored.
    """
    tenant = new_tenant(shared)
    cid = tenant.add("plain@example.dk")
    if command == "update":
        args = ["contacts", "update", tenant.ref, cid, "--set", "nosuch=1"]
    else:
        args = ["contacts", "add", tenant.ref, "--list", "news", "--email", "plain@example.dk",
                "--field", "nosuch=1", "--consent", "email:form"]  # fmt: skip
    error = shared.fails(2, *args, user=tenant.admin)
    assert "nosuch: not a vocabulary field; for a custom field give custom.nosuch" in error
    fields = shared.ok("contacts", "show", tenant.ref, cid, user=tenant.admin)["fields"]
    assert fields == {"email": "plain@example.dk"}
