"""The audit report's breach and clock tables read the same in Markdown and HTML (AUD-1, BR-4).

Both renderers take their headings and rows from `processor.audit.tables`; these tests pin the
columns, so a table cannot change in one format and not the other.
"""

from __future__ import annotations

import re

from processor.audit import render_html, render_markdown, tables

BREACHES = {
    "breaches": [
        {
            "id": "b1",
            "reference": "BR-0001",
            "aware_at": "2026-02-13T12:00:00+00:00",
            "status": "closed",
            "controllers": ["acme", "beta"],
            "measures": 2,
            "reviewed": True,
        }
    ],
    "clocks": [
        {"clock": "scc", "hours": 24, "fixed_by_agreement": True, "source": "SCC 8.6(c)"},
        {"clock": "authority", "hours": 72, "fixed_by_agreement": "law", "source": "Art. 33(1)"},
    ],
}

EXPECTED = [
    ["BR-0001", "2026-02-13T12:00:00+00:00", "closed", "acme, beta", "2", "True"],
    ["scc", "24", "True", "SCC 8.6(c)"],
    ["authority", "72", "law", "Art. 33(1)"],
]


def test_breach_and_clock_rows_name_their_columns__AUD_1():
    """The breach table lists reference to review; the clock table hours, basis and source."""
    head, rows = tables.breaches(BREACHES)
    assert head == ["breach", "aware at", "status", "controllers", "measures", "reviewed"]
    assert [[str(v) for v in row] for row in rows] == EXPECTED[:1]
    head, rows = tables.clocks(BREACHES)
    assert head == ["clock", "hours", "fixed by agreement or law", "source"]
    assert [[str(v) for v in row] for row in rows] == EXPECTED[1:]


def test_markdown_and_html_show_the_same_breach_and_clock_rows__AUD_1():
    """Every row of both tables appears, cell for cell and in order, in both formats."""
    model = {"breaches": BREACHES}
    markdown = "\n".join(render_markdown._breaches(model))
    html = render_html._breaches(model)
    html_rows = [
        re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", html)
    ]
    for row in EXPECTED:
        assert "| " + " | ".join(row) + " |" in markdown
        assert row in html_rows
