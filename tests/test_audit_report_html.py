"""The HTML report read by a parser: structure, sections, charts, self-contained, no personal data (AUD-1)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from support import login
from test_audit_report import PLANTED, planted_story

from processor.audit import render_html
from processor.audit.report import build_report

SECTIONS = {"system", "ledger", "objectives", "checks", "deviations", "coverage"} | {
    f"objective-{key}" for key in "ABCDEFGHI"
}
CHARTS = {
    "access-by-week",
    "grants-vs-reveals",
    "refusals-lockouts",
    "erasures-sweeps",
    "subprocessors",
    "breach-clocks",
}


class Page(HTMLParser):
    """What the checks need: ids, charts with their marks, external references, text, nesting."""

    VOID = frozenset({"meta", "br", "link", "img", "input", "hr", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.stack: list[str] = []
        self.charts: dict[str, int] = {}
        self.chart: str | None = None
        self.chart_depth = 0
        self.external: list[str] = []
        self.text: list[str] = []
        self.style = ""
        self.in_style = False
        self.mismatched: list[str] = []
        self.self_closing = False

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.self_closing = True
        self.handle_starttag(tag, attrs)
        self.self_closing = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.tags.append(tag)
        if tag not in self.VOID and not self.self_closing:
            self.stack.append(tag)
        if found.get("id"):
            self.ids.add(str(found["id"]))
        for name in ("src", "href", "xlink:href", "action", "srcset"):
            value = found.get(name)
            if value is not None and not value.startswith("#"):
                self.external.append(f"{tag} {name}={value}")
        if tag == "figure" and "chart" in (found.get("class") or "").split():
            self.chart = str(found.get("data-chart"))
            self.charts[self.chart] = 0
            self.chart_depth = len(self.stack)
        if self.chart and "mark" in (found.get("class") or "").split():
            self.charts[self.chart] += 1
        self.in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.mismatched.append(tag)
            return
        self.stack.pop()
        if tag == "figure" and self.chart and len(self.stack) < self.chart_depth:
            self.chart = None
        if tag == "style":
            self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.style += data
        self.text.append(data)


@pytest.fixture
def page(acme, clock):
    planted_story(acme, clock)
    html = render_html.render(build_report(login(acme, "grete").session))
    parsed = Page()
    parsed.feed(html)
    parsed.close()
    return html, parsed


def test_html_has_every_section_and_chart_and_balanced_tags__AUD_1(page):
    """Every section of the report is there, every chart has drawn marks, tags nest properly."""
    html, parsed = page
    assert html.startswith("<!DOCTYPE html>")
    assert parsed.ids >= SECTIONS
    assert set(parsed.charts) >= CHARTS
    assert all(n > 0 for n in parsed.charts.values()), parsed.charts
    assert any(name.startswith("breach-BR-") for name in parsed.charts)
    assert parsed.mismatched == []
    assert parsed.stack == []
    assert parsed.tags.count("svg") >= len(CHARTS)


def test_html_is_self_contained_and_needs_no_script__AUD_1(page):
    """No script, no external asset or link, and a print style sheet."""
    _html, parsed = page
    assert "script" not in parsed.tags
    assert {"iframe", "img", "link", "object", "embed"}.isdisjoint(parsed.tags)
    assert parsed.external == []
    assert "url(" not in parsed.style
    assert "@import" not in parsed.style
    assert "@media print" in parsed.style


def test_html_text_holds_no_planted_personal_data__AUD_1(page):
    """The planted names, e-mails, phones and free text are neither in the markup nor the text."""
    html, parsed = page
    text = " ".join(parsed.text).casefold()
    for value in PLANTED:
        assert value.casefold() not in text
        assert value.casefold() not in html.casefold()
