"""Neutralising spreadsheet formulas in CSV cells we write (OWASP "CSV injection").

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheet programs when the file is opened, so a contact named `=HYPERLINK(...)` could act
on the controller's machine. Such cells get a leading `'`, which spreadsheets show as text.
A plain number or phone number (`+45 61 62 63 64`, `-12.5`) is left alone: it holds no function
or reference, so a spreadsheet can do no harm with it. Only CSV is changed: JSON exports stay
exact, so the data itself is always available unaltered.
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?\d[\d ().-]*")


def neutralise(cell: str) -> str:
    """`cell`, prefixed with `'` when a spreadsheet would read it as a formula."""
    if cell.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell
