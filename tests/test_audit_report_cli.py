"""`processor audit report` on the command line: formats, --out, scope, bad input (AUD-1)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_helpers import Cli


@pytest.fixture
def store(settings):
    """A fresh store with controller acme (administrator `acme-admin`) and beta."""
    cli = Cli(settings)
    cli.init()
    for ref, edition in (("acme", "scc"), ("beta", "dpa-2018")):
        cli.ok("controllers", "register", ref, "--name", ref.title(), "--country", "DK",
               "--account", "paying", "--agreement", edition, "--admin", f"{ref}-admin",
               user="sam")  # fmt: skip
        cli.sign(ref, edition)
    return cli


def test_cli_report_in_three_formats_to_stdout_and_file__AUD_1(store, tmp_path):
    """Markdown and JSON print to stdout; HTML goes to --out. An earlier report there is
    replaced (a daily job runs again); any other file needs --force; `{date}` names the day.
    """
    markdown = store.text("audit", "report", "--format", "markdown", user="grete")
    assert markdown.startswith("# GDPR data-processor audit report")
    model = json.loads(store.text("audit", "report", "--format", "json", user="grete"))
    assert [o["key"] for o in model["objectives"]] == list("ABCDEFGHI")
    out = tmp_path / "report.html"
    done = store.ok("audit", "report", "--format", "html", "--out", out, user="grete")
    assert done["report"] == str(out)
    assert done["deviations"] == len(model["deviations"])
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    store.ok("audit", "report", "--format", "html", "--out", out, user="grete")
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my own notes</p>", encoding="utf-8")
    error = store.fails(2, "audit", "report", "--format", "html", "--out", mine, user="grete")
    assert "--force" in error and mine.read_text(encoding="utf-8") == "<p>my own notes</p>"
    store.ok("audit", "report", "--format", "html", "--out", mine, "--force", user="grete")
    daily = store.ok("audit", "report", "--format", "json", "--out", tmp_path / "r-{date}.json",
                     user="grete")  # fmt: skip
    assert re.fullmatch(r".*/r-\d{4}-\d{2}-\d{2}\.json", daily["report"])
    assert json.loads(Path(daily["report"]).read_text(encoding="utf-8"))["objectives"]
    record = tmp_path / "record-{date}.md"
    wrote = store.ok("audit", "record", "--out", record, user="grete")
    assert Path(wrote["record"]).read_text(encoding="utf-8").startswith("# Art. 30(2) GDPR")
    store.ok("audit", "record", "--out", record, user="grete")  # its own: replaced


def test_cli_report_scope_and_refusals__AUD_1__ACC_9(store):
    """The administrator runs it for its own controller only; others are refused (exit 1)."""
    own = json.loads(
        store.text("audit", "report", "--controller", "acme", "--format", "json", user="acme-admin")
    )
    assert own["scope"]["controller"] == "acme"
    assert "ControllerUsersSeeOnlyTheirOwn" in store.fails(
        1, "audit", "report", "--controller", "beta", "--format", "json", user="acme-admin"
    )
    assert "--controller acme" in store.fails(
        1, "audit", "report", "--format", "json", user="acme-admin"
    )
    assert "audit.read" in store.fails(1, "audit", "report", "--format", "json", user="sam")
    assert [d["rule"] for d in store.denials("acme-admin")] == [
        "ControllerUsersSeeOnlyTheirOwn",
        "ControllerUsersSeeOnlyTheirOwn",
    ]


def test_cli_report_bad_input_is_one_line_exit_2__AUD_1(store):
    """A bad date, an empty period, an unknown controller or format: exit 2, one line."""
    for args in (
        ("--from", "2026-02-30"),
        ("--from", "2026-05-02", "--to", "2026-05-01"),
        ("--controller", "nope"),
    ):
        store.fails(2, "audit", "report", "--format", "json", *args, user="grete")
    store.fails(2, "audit", "report", "--format", "pdf", user="grete")
    store.fails(2, "audit", "report", user="grete")


def test_cli_fail_on_deviations_exits_1_after_writing__AUD_1(store, tmp_path):
    """For cron: the report is written in full, then exit 1 names the deviation kinds."""
    out = tmp_path / "r.md"
    error = store.fails(
        1, "audit", "report", "--format", "markdown", "--out", out, "--fail-on-deviations",
        user="grete",
    )  # fmt: skip
    assert "deviations" in error
    assert out.read_text(encoding="utf-8").startswith("# GDPR data-processor audit report")


def test_demo_ends_by_writing_the_html_report__AUD_1(settings):
    """`processor demo` writes the GDPA's HTML report of its whole story and returns its path."""
    from processor.demo.scenario import run_demo

    out = run_demo(settings, contacts=10)
    report = Path(out["report"])
    text = report.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert 'id="objective-I"' in text
    assert "SIMULATION store" in text
    assert any(str(report) in line for line in out["story"])
