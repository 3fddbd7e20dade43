"""The README's daily cron lines run as written, and run again the next time (issue 25).

The `crontab` block of the README is the GDPA's morning round. Cron runs each line through the
shell; a line that worked yesterday must work today. So the lines run twice in a row on the demo's
store, and the second round must end as the first did: no line may fail because the first round
left a file behind (the report), and the dated report of the day is replaced by its own newer
copy, never refused.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_docs_commands import ROOT, _environment, blocks


def cron_lines() -> list[str]:
    """The commands of the README's `crontab` block (the five time fields dropped)."""
    (block,) = [b for b in blocks(ROOT / "README.md") if b.info == "crontab"]
    lines = [line for line in block.body.splitlines() if line.strip() and not line.startswith("#")]
    return [re.split(r"\s+", line.strip(), maxsplit=5)[5] for line in lines]


def _round(lines: list[str], work: Path, env: dict[str, str]) -> list[tuple[int, str]]:
    results = []
    for line in lines:
        done = subprocess.run(
            ["bash", "-c", line], cwd=work, env=env, capture_output=True, text=True,
            timeout=300, check=False,
        )  # fmt: skip
        results.append((done.returncode, done.stderr))
    return results


@pytest.mark.slow  # the demo and nine commands, each a process
def test_the_readme_cron_lines_run_twice_in_a_row(tmp_path: Path) -> None:
    lines = cron_lines()
    assert len(lines) == 3 and all("processor --as grete" in line for line in lines)
    work = tmp_path / "work"
    work.mkdir()
    env = _environment(tmp_path) | {"PROCESSOR_DATA_DIR": "./store"}
    demo = subprocess.run(
        ["processor", "--data-dir", "./store", "demo", "--contacts", "10"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-2000:]
    (work / "reports").mkdir()
    first = _round(lines, work, env)
    reports = sorted((work / "reports").iterdir())
    assert len(reports) == 1 and re.fullmatch(r"audit-\d{4}-\d{2}-\d{2}\.html", reports[0].name)
    written = reports[0].read_text(encoding="utf-8")
    assert "GDPR data-processor audit report" in written
    second = _round(lines, work, env)
    assert [code for code, _ in second] == [code for code, _ in first], second
    for code, stderr in second:
        assert "already exists" not in stderr and "Traceback" not in stderr, stderr
        assert code in (0, 1), stderr  # 1: something needs attention, which cron mails
    assert sorted((work / "reports").iterdir()) == reports
    assert reports[0].read_text(encoding="utf-8") != written  # replaced by the newer report
